"""The bad-input matrix through the Python binding: the raw ctypes functions with NULL, unmapped
and overflowing arguments (what a caller of the C ABI from Python can do), and the high-level
API with bad handles, dimensions, lengths, non-finite features, paths and files. Each case: the
documented exception class (the status), a message naming the problem, the interpreter alive.
With --repeat N the matrix runs N more times and the resident set may not grow.

    badinput.py DATA_DIR SCRATCH_DIR [--repeat N]

Needs TEMPORAL_LIBRARY (or an importable binding) and numpy.
"""

from __future__ import annotations

import ctypes
import os
import struct
import sys
from pathlib import Path

import numpy as np

import temporal
from temporal import _library as L

checks = 0
failures = 0
WILD = 0xDEAD0000


def expect(fn, exc, needle, what):
    """fn() raises exc (a temporal error class) whose message contains needle."""
    global checks, failures
    checks += 1
    try:
        fn()
    except exc as e:
        if needle is not None and needle.lower() not in str(e).lower():
            failures += 1
            print(f"FAIL {what}: message does not name the problem (want {needle!r}): {e}", file=sys.stderr)
        return
    except Exception as e:  # noqa: BLE001
        failures += 1
        print(f"FAIL {what}: raised {type(e).__name__}: {e}, want {exc.__name__}", file=sys.stderr)
        return
    failures += 1
    print(f"FAIL {what}: no error, want {exc.__name__}", file=sys.stderr)


def expect_status(st, want, needle, what):
    """A raw ctypes call returned st; want is the status code; the last error names it."""
    global checks, failures
    checks += 1
    msg = L.last_error()
    if st != want:
        failures += 1
        print(f"FAIL {what}: status {st}, want {want}: {msg}", file=sys.stderr)
    elif needle is not None and needle.lower() not in msg.lower():
        failures += 1
        print(f"FAIL {what}: message does not name the problem (want {needle!r}): {msg}", file=sys.stderr)


def ok(cond, what):
    global checks, failures
    checks += 1
    if not cond:
        failures += 1
        print(f"FAIL {what}", file=sys.stderr)


def rss_kib() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def matrix(data_dir: Path, scratch: Path) -> None:
    E = temporal
    ckpt = data_dir / "small.safetensors"
    raw = ckpt.read_bytes()
    m = temporal.Model.load(ckpt)
    F = m.config.feature_dim
    x = np.random.default_rng(1).standard_normal((2, 5, F), dtype=np.float32)
    out = np.zeros(64, np.float32)
    h = L.temporal_model(0)

    # -- raw ABI: NULL and unmapped pointers, overflowing sizes --------------------------------
    xp, op = x.ctypes.data, out.ctypes.data
    S = {"INVALID": 1, "BAD_HANDLE": 2, "IO": 3, "FORMAT": 4, "SHAPE": 5, "OOM": 8, "INTERNAL": 9, "NUMERIC": 10}
    expect_status(L.f_predict(m.handle, None, 2, 5, F, None, None, op, 64, None, 0), S["INVALID"], "features is NULL", "predict NULL features")
    expect_status(L.f_predict(m.handle, xp, 2, 5, F, None, None, None, 64, None, 0), S["INVALID"], "out is NULL", "predict NULL out")
    expect_status(L.f_predict(m.handle, WILD, 2, 5, F, None, None, op, 64, None, 0), S["INTERNAL"], "0xdead0000", "predict unmapped features")
    expect_status(L.f_predict(m.handle, xp, 2, 5, F, WILD, None, op, 64, None, 0), S["INTERNAL"], "0xdead0000", "predict unmapped lengths")
    expect_status(L.f_predict(m.handle, xp, 2, 5, F, None, None, WILD, 64, None, 0), S["INTERNAL"], "0xdead0000", "predict unmapped out")
    expect_status(L.f_predict(m.handle, xp, 2, 5, F, None, None, op, 64, WILD, 10), S["INTERNAL"], "0xdead0000", "predict unmapped frame weights")
    expect_status(L.f_predict(m.handle, xp, 1 << 40, 1 << 40, F, None, None, op, 64, None, 0), S["OOM"], "limits", "predict B*T overflow")
    expect_status(L.f_predict(m.handle, xp, 2**63 - 1, 2**63 - 1, 2**63 - 1, None, None, op, 64, None, 0), S["SHAPE"], "feature_dim", "predict int64 max")
    expect_status(L.f_predict(m.handle, xp, -(2**63), 5, F, None, None, op, 64, None, 0), S["INVALID"], "batch", "predict int64 min")
    expect_status(L.f_model_load(None, None, ctypes.byref(h)), S["INVALID"], "path is NULL", "load NULL path")
    expect_status(L.f_model_load(str(ckpt).encode(), None, None), S["INVALID"], "out is NULL", "load NULL out")
    expect_status(L.f_model_load_memory(None, 100, None, ctypes.byref(h)), S["INVALID"], "data is NULL", "load_memory NULL")
    expect_status(L.f_model_load_memory(WILD, len(raw), None, ctypes.byref(h)), S["INTERNAL"], "0xdead0000", "load_memory unmapped")
    expect_status(L.f_model_load_memory(raw, 2**64 - 1, None, ctypes.byref(h)), S["OOM"], "exceeds", "load_memory SIZE_MAX")
    expect_status(L.f_model_create(None, 1, ctypes.byref(h)), S["INVALID"], "cfg is NULL", "create NULL cfg")
    expect_status(L.f_model_info(m.handle, None), S["INVALID"], "out is NULL", "info NULL")
    expect_status(L.f_model_save(m.handle, None), S["INVALID"], "path is NULL", "save NULL path")
    expect_status(L.f_model_class_name(m.handle, 0, None, 8, None), S["INVALID"], "buf is NULL", "class_name NULL buf")
    ok(h.value == 0, "failed loads leave *out = 0")
    # handles: 0, never issued, truncated to 32 bits, freed
    for bad, needle in ((0, "handle 0"), (12345, "not a live model"), (m.handle & 0xFFFFFFFF, "not a live model"), (m.handle ^ 4, "not a live model")):
        expect_status(L.f_predict(bad, xp, 2, 5, F, None, None, op, 64, None, 0), S["BAD_HANDLE"], needle, f"predict handle {bad:#x}")
        expect_status(L.f_model_free(bad), S["BAD_HANDLE"], needle, f"free handle {bad:#x}")

    # -- high level: closed models, dimensions, lengths, non-finite features ------------------
    m2 = temporal.Model.load_bytes(raw)
    m2.close()
    expect(lambda: m2.predict(x), E.TemporalError, None, "predict on a closed model")
    expect(lambda: m.predict(x[:, :, :-1]), E.ShapeError, "feature_dim", "wrong feature_dim")
    expect(lambda: m.predict(np.zeros((0, 5, F), np.float32)), E.InvalidArgumentError, None, "empty batch")
    expect(lambda: m.predict(np.zeros((2, 0, F), np.float32)), E.InvalidArgumentError, None, "zero frames")
    expect(lambda: m.predict(x, lengths=[5, 6]), E.InvalidArgumentError, "lengths[1] = 6", "length beyond T")
    expect(lambda: m.predict(x, lengths=[0, 5]), E.InvalidArgumentError, "lengths[0] = 0", "length 0")
    expect(lambda: m.predict(x, lengths=[-1, 5]), E.InvalidArgumentError, "lengths[0] = -1", "negative length")
    for v, needle in ((np.nan, "NaN"), (np.inf, "+Inf"), (-np.inf, "-Inf")):
        y = x.copy()
        y[1, 3, 2] = v
        expect(lambda y=y: m.predict(y), E.NumericError, needle, f"{v} feature")
        expect(lambda y=y: m.predict(y), E.NumericError, "clip 1, frame 3, feature 2", f"{v} feature index")
    expect(lambda: m.predict(x, padding="sideways"), E.InvalidArgumentError, None, "bad padding")

    # -- paths ------------------------------------------------------------------------------
    scratch.mkdir(parents=True, exist_ok=True)
    nonutf8 = os.fsencode(str(scratch)) + b"/caf\xe9\xff.safetensors"
    m.save(nonutf8)
    temporal.Model.load(nonutf8).close()
    os.unlink(nonutf8)
    expect(lambda: temporal.Model.load(os.fsencode(str(scratch)) + b"/missing\xff.safetensors"), E.TemporalIOError, "no such file", "missing non-UTF-8 path")
    longp = str(scratch) + "/" + "/".join(["d" * 200] * 25)  # > PATH_MAX (4096)
    expect(lambda: temporal.Model.load(longp), E.TemporalIOError, "load checkpoint", "path > PATH_MAX")
    expect(lambda: m.save(longp), E.TemporalIOError, "write", "save path > PATH_MAX")
    expect(lambda: temporal.Model.load(str(scratch) + "/" + "n" * 300), E.TemporalIOError, "file name too long", "component > NAME_MAX")
    expect(lambda: temporal.Model.load(scratch), E.TemporalIOError, "not a regular file", "directory")
    expect(lambda: m.save(scratch), E.TemporalIOError, "directory", "save to a directory")
    expect(lambda: temporal.Model.load("/etc/passwd/x.safetensors"), E.TemporalIOError, "not a directory", "path under a regular file")
    expect(lambda: m.save("/etc/passwd/x.safetensors"), E.TemporalIOError, "not a directory", "save under a regular file")
    expect(lambda: temporal.Model.load("/dev/zero"), E.TemporalIOError, "not a regular file", "/dev/zero")
    fifo = scratch / "fifo"
    if fifo.exists():
        fifo.unlink()
    os.mkfifo(fifo)
    expect(lambda: temporal.Model.load(fifo), E.TemporalIOError, "not a regular file", "FIFO")
    fifo.unlink()

    # -- checkpoints ------------------------------------------------------------------------
    (hl,) = struct.unpack("<Q", raw[:8])

    def bad(name, data, exc, needle):
        p = scratch / name
        p.write_bytes(data)
        expect(lambda: temporal.Model.load(p), exc, needle, name)
        if data:
            expect(lambda: temporal.Model.load_bytes(data), exc, needle, name + " (bytes)")
        p.unlink()

    bad("truncated-7", raw[:7], E.FormatError, "too short")
    bad("truncated-header", raw[: 8 + hl // 2], E.FormatError, "runs past the end")
    bad("truncated-data", raw[:-1], E.FormatError, None)
    bad("header-garbage", raw[:9] + b"\x01" + raw[10:], E.FormatError, "header")
    bad("header-len-max", struct.pack("<Q", 2**64 - 1) + raw[8:], E.FormatError, "runs past the end")
    flipped = bytearray(raw)
    flipped[-3] ^= 0x04
    bad("data-bitflip", bytes(flipped), E.FormatError, "SHA-256")
    big = scratch / "oversized-header.safetensors"
    with open(big, "wb") as f:  # sparse: a header length of 101 MiB (limit 100 MiB)
        f.write(struct.pack("<Q", 101 << 20))
        f.truncate(102 << 20)
    expect(lambda: temporal.Model.load(big), E.OutOfMemoryError, "exceeds the limit", "oversized header")
    big.unlink()
    # NaN weights in an otherwise valid file (its checksum removed, as in a file written elsewhere)
    st = bytearray(raw)
    header = bytes(st[8 : 8 + hl]).decode()
    import json

    hd = json.loads(header)
    hd["__metadata__"].pop("sha256", None)
    first = min((e for k, e in hd.items() if k != "__metadata__"), key=lambda e: e["data_offsets"][0])
    body = bytearray(raw[8 + hl :])
    body[first["data_offsets"][0] : first["data_offsets"][0] + 4] = struct.pack("<f", float("nan"))
    nh = json.dumps(hd).encode()
    nh += b" " * (-len(nh) % 8)
    bad("nan-weights", struct.pack("<Q", len(nh)) + nh + bytes(body), E.NumericError, "NaN")

    # -- datasets (HDF5) through temporal.train --------------------------------------------
    if temporal.hdf5_available():
        feats = np.random.default_rng(2).standard_normal((8, 4, 6), dtype=np.float32)
        labels = np.arange(8) % 2
        good = scratch / "good.h5"
        temporal.write_dataset(good, feats, labels, class_names=["a", "b"])
        out_dir = scratch / "run"
        cfg = {"hidden_dim": 4, "num_layers": 1, "num_heads": 2, "classifier_widths": [4]}
        expect(lambda: temporal.train(scratch / "nope.h5", None, out_dir, cfg, epochs=1), E.TemporalIOError, "no such file", "missing dataset file")
        expect(lambda: temporal.train(scratch, None, out_dir, cfg, epochs=1), E.TemporalIOError, "not a regular file", "dataset is a directory")
        txt = scratch / "text.h5"
        txt.write_bytes(b"not an HDF5 file at all")
        expect(lambda: temporal.train(txt, None, out_dir, cfg, epochs=1), E.FormatError, "not an HDF5 file", "dataset not HDF5")
        other = scratch / "other.h5"
        temporal.write_dataset(other, np.zeros((4, 4, 5), np.float32), np.arange(4) % 2)
        expect(lambda: temporal.train(good, other, out_dir, cfg, epochs=1), E.ShapeError, "feature_dim", "val set with another feature_dim")
        expect(lambda: temporal.write_dataset(scratch / "n.h5", feats, labels[:7]), E.TemporalError, None, "write_dataset mismatched N")
        nanf = feats.copy()
        nanf[3, 0, 0] = np.nan
        expect(lambda: temporal.write_dataset(scratch / "n.h5", nanf, labels), E.NumericError, None, "write_dataset NaN")
    m.close()


def main() -> int:
    args = sys.argv[1:]
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    data_dir, scratch = Path(args[0]), Path(args[1])
    repeat = int(args[3]) if len(args) >= 4 and args[2] == "--repeat" else 0
    matrix(data_dir, scratch)
    if repeat:
        for _ in range(repeat // 5 + 1):
            matrix(data_dir, scratch)
        before = rss_kib()
        for _ in range(repeat):
            matrix(data_dir, scratch)
        grown = rss_kib() - before
        print(f"badinput.py: RSS {before} KiB -> {before + grown} KiB over {repeat} more runs of the matrix")
        ok(grown < 16 * 1024, f"RSS grew by {grown} KiB")
    print(f"badinput.py: {checks} checks, {failures} failures")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
