#!/usr/bin/env python3
"""On-GPU checks and timings of libtemporal's CUDA backend, through the Python binding.

Run by tests/gpu/run_gpu_checks.sh on the GPU machine (python3 with torch, numpy), from the
repository root, with TEMPORAL_LIBRARY pointing at the nohdf5 libtemporal.so.1:

    python3 tests/gpu/gpu_checks.py --out DIR

Checks (each printed as PASS/FAIL, all recorded in DIR/gpu_checks.json):
  - CUDA logits and frame weights = CPU ones (same library) within ‖a−b‖/‖b‖ ≤ 1e-5 on every
    parity fixture, both padding modes; and the fixtures' PyTorch logits within DESIGN §8;
  - the same on random inputs at the default config (F=1280, H=768, 4 layers, 12 heads),
    mixed lengths (1, T and between; max < T too), both modes, and without lengths;
  - concurrent predicts from threads on two CUDA models of one device are bitwise the serial
    result; load/predict/free cycles return device memory; libtemporal and PyTorch share the
    primary context (PyTorch works before, between and after);
  - errors: a device past the last one, cuBLAS path changes after loading.
Timings (default config, T=64, B = 1, 8, 64, 256): libtemporal CUDA predict (host arrays in and
out) against PyTorch eager on the same GPU (cuDNN LSTM; TF32 off and on; input resident on the
GPU and end to end from host arrays; the packed path with lengths too), written to
DIR/gpu_timings.md for tests/bench/RESULTS.md. Parity against PyTorch is checked with TF32 off.
"""

import argparse
import ctypes
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import traceback

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES = os.path.join(ROOT, "tests", "parity", "fixtures")
REL_TOL = 1e-5
# --device cpu dry-runs the whole script on a machine without a GPU (both "devices" are the
# CPU, PyTorch runs on the CPU): it checks the script, not the backend.
DEV = "cuda"

results = {"checks": [], "timings": [], "info": {}}


def record(name, ok, detail=""):
    results["checks"].append({"name": name, "ok": bool(ok), "detail": detail})
    print(f"{'PASS' if ok else 'FAIL'} {name}: {detail}", flush=True)


def rel_err(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    den = np.linalg.norm(b)
    num = np.linalg.norm(a - b)
    if not np.isfinite(num):
        return float("inf")
    return float(num / den) if den > 0 else float(num)


def read_safetensors(path):
    """(tensors as numpy, metadata) — a tiny reader, so nothing beyond numpy is needed."""
    with open(path, "rb") as f:
        data = f.read()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    dt = {"F32": "<f4", "F64": "<f8", "I32": "<i4", "I64": "<i8"}
    out = {}
    for name, e in header.items():
        lo, hi = e["data_offsets"]
        out[name] = np.frombuffer(data[8 + n + lo:8 + n + hi], dtype=dt[e["dtype"]]).reshape(e["shape"])
    return out, meta


def guarded(fn):
    def run(*a, **k):
        try:
            return fn(*a, **k)
        except Exception as e:  # a crash in one section must not hide the others
            record(fn.__name__, False, f"{type(e).__name__}: {e}\n{traceback.format_exc()}")
    run.__name__ = fn.__name__
    return run


# ---- checks --------------------------------------------------------------------------------

@guarded
def check_fixtures(temporal):
    names = sorted(f[:-len(".io.safetensors")] for f in os.listdir(FIXTURES) if f.endswith(".io.safetensors"))
    worst = 0.0
    for name in names:
        io, meta = read_safetensors(os.path.join(FIXTURES, name + ".io.safetensors"))
        cfg = json.loads(meta["config"])
        wpath = os.path.join(FIXTURES, name + ".weights.safetensors")
        x = np.ascontiguousarray(io["features"], dtype=np.float32)
        lengths = io.get("lengths")
        with temporal.Model.load(wpath, "cpu", num_heads=cfg["num_heads"]) as cpu, \
                temporal.Model.load(wpath, DEV, num_heads=cfg["num_heads"]) as gpu:
            for pad in ("masked", "reference"):
                lc, fc = cpu.predict(x, lengths, padding=pad, return_frame_weights=True)
                lg, fg = gpu.predict(x, lengths, padding=pad, return_frame_weights=True)
                e, efw = rel_err(lg, lc), rel_err(fg, fc)
                want = io["logits." + pad]
                bound = 1e-4 * np.abs(want).max() + 1e-6
                dt = float(np.abs(lg - want).max())
                zeros_ok = bool(np.all((fc == 0) == (fg == 0)))
                worst = max(worst, e, efw)
                record(f"fixture {name} {pad}", e <= REL_TOL and efw <= REL_TOL and dt <= bound and zeros_ok,
                       f"|cuda-cpu|/|cpu| logits {e:.3g}, frame weights {efw:.3g}; vs PyTorch max|d| {dt:.3g} "
                       f"(bound {bound:.3g}); padding zeros {'same' if zeros_ok else 'DIFFER'}")
    results["info"]["fixtures_worst_rel"] = worst


def random_batch(rng, B, T, F, short):
    x = rng.standard_normal((B, T, F), dtype=np.float32)
    top = T - T // 4 if short else T
    lengths = np.empty(B, dtype=np.int32)
    for b in range(B):
        lengths[b] = top if b % 4 == 0 else 1 if b % 4 == 1 else rng.integers(1, top + 1)
    return x, lengths


@guarded
def check_default_config(temporal, path):
    rng = np.random.default_rng(1)
    F = 1280
    with temporal.Model.load(path, "cpu") as cpu, temporal.Model.load(path, DEV) as gpu:
        for B, T, short in ((1, 64, False), (8, 64, False), (5, 64, True), (3, 100, True)):
            x, lengths = random_batch(rng, B, T, F, short)
            for lens, pad in ((lengths, "masked"), (lengths, "reference"), (None, "masked")):
                lc, fc = cpu.predict(x, lens, padding=pad, return_frame_weights=True)
                lg, fg = gpu.predict(x, lens, padding=pad, return_frame_weights=True)
                e, efw = rel_err(lg, lc), rel_err(fg, fc)
                record(f"default config B={B} T={T} {'lengths' if lens is not None else 'no lengths'} {pad}",
                       e <= REL_TOL and efw <= REL_TOL,
                       f"|cuda-cpu|/|cpu| logits {e:.3g}, frame weights {efw:.3g}; lengths {None if lens is None else lens.tolist()}")


@guarded
def check_concurrency(temporal, path):
    rng = np.random.default_rng(2)
    x, lengths = random_batch(rng, 6, 48, 1280, True)
    with temporal.Model.load(path, DEV) as g1, temporal.Model.load(path, DEV) as g2:
        want = g1.predict(x, lengths)
        bad = []

        def worker(g):
            for _ in range(5):
                got = g.predict(x, lengths)
                if not np.array_equal(got, want):
                    bad.append(float(np.abs(got - want).max()))

        threads = [threading.Thread(target=worker, args=((g1, g2)[i % 2],)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    record("concurrent predicts on two CUDA models are bitwise the serial result", not bad,
           f"{len(bad)} of 40 differ" + (f" (max|d| {max(bad):.3g})" if bad else ""))


def cuda_memory(lib):
    free, total = ctypes.c_uint64(), ctypes.c_uint64()
    st = lib.temporal_cuda_memory(0, ctypes.byref(free), ctypes.byref(total))
    if st != 0:
        raise RuntimeError(f"temporal_cuda_memory: status {st}")
    return free.value, total.value


@guarded
def check_lifecycle(temporal, lib, path, torch):
    if DEV == "cpu":
        return
    x = np.random.default_rng(3).standard_normal((2, 16, 1280), dtype=np.float32)
    torch.cuda.synchronize()
    time.sleep(0.5)  # earlier sections' frees run on the device thread, off the caller's
    free0, total = cuda_memory(lib)
    for _ in range(8):
        with temporal.Model.load(path, DEV) as g:
            g.predict(x)
        # PyTorch keeps working in the shared primary context between our models.
        assert float((torch.ones(4, device="cuda") * 2).sum().item()) == 8.0
    time.sleep(0.5)  # frees run on the device thread, off the caller's
    free1, _ = cuda_memory(lib)
    lost = (free0 - free1) / 2**20
    record("load/predict/free cycles return device memory", lost < 64,
           f"free {free0 / 2**30:.2f} GiB before, {free1 / 2**30:.2f} GiB after 8 cycles ({lost:.0f} MiB less)")


@guarded
def check_errors(temporal, lib, path):
    if DEV == "cpu":
        return
    n = temporal.cuda_device_count()
    try:
        temporal.Model.load(path, f"cuda:{n}")
        record("a device past the last one is a DeviceError", False, "loaded")
    except temporal.DeviceError as e:
        record("a device past the last one is a DeviceError", True, str(e))
    lib.temporal_cuda_set_cublas_path.argtypes = [ctypes.c_char_p]
    st = lib.temporal_cuda_set_cublas_path(b"/elsewhere/libcublas.so.12")
    record("changing the cuBLAS path after it is loaded is refused", st == 1, f"status {st}")


# ---- timings -------------------------------------------------------------------------------

def median_ms(fn, reps, warmup=3):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(ts), min(ts)


def torch_forward(m, x, lengths=None):
    """The reference model's forward (reference mode; dropout off in eval)."""
    import torch
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
    h = m.input_projection(x)
    if lengths is not None:
        packed = pack_padded_sequence(h, lengths, batch_first=True, enforce_sorted=False)
        out, _ = m.lstm(packed)
        lo, _ = pad_packed_sequence(out, batch_first=True)
    else:
        lo, _ = m.lstm(h)
    a = m.attention(lo, lo, lo)[0]  # the reference discards the (computed) weights
    at = m.attention_norm(lo + m.attention_dropout(a))
    w = torch.softmax(m.attention_pooling(at), 1)
    return m.classifier((at * w).sum(1))


@guarded
def timings(temporal, torch, path, quick, batches):
    sys.path.insert(0, os.path.join(ROOT, "tests", "parity"))
    import make_fixtures  # the reference SuperEnhancedTemporalModel
    tensors, _ = read_safetensors(path)
    ref = make_fixtures.SuperEnhancedTemporalModel(1280, 768, 4, 12, 4)
    ref.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in tensors.items()}, strict=True)
    tdev = "cuda" if DEV != "cpu" else "cpu"
    sync = torch.cuda.synchronize if tdev == "cuda" else (lambda: None)
    ref = ref.to(tdev).eval()
    T, F = 64, 1280
    rng = np.random.default_rng(4)
    reps = {1: 30, 8: 20, 64: 10, 256: 6}
    if quick:
        reps = {1: 5, 8: 5, 64: 3, 256: 2}
    rows = []
    with temporal.Model.load(path, DEV) as gpu:
        for B in batches:
            xs = [rng.standard_normal((B, T, F), dtype=np.float32) for _ in range(2)]
            k = [0]

            def ours():
                k[0] ^= 1
                gpu.predict(xs[k[0]], padding="reference")

            ours_ms, ours_min = median_ms(ours, reps.get(B, 3))
            row = {"B": B, "T": T, "ours_ms": ours_ms, "ours_min_ms": ours_min}
            xd = [torch.from_numpy(x).to(tdev) for x in xs]
            full = torch.full((B,), T, dtype=torch.int64)
            for tf32 in (False, True):
                torch.backends.cuda.matmul.allow_tf32 = tf32
                torch.backends.cudnn.allow_tf32 = tf32
                tag = "tf32" if tf32 else "fp32"

                def resident(lengths=None):
                    k[0] ^= 1
                    with torch.inference_mode():
                        torch_forward(ref, xd[k[0]], lengths)
                    sync()

                def end_to_end():
                    k[0] ^= 1
                    with torch.inference_mode():
                        torch_forward(ref, torch.from_numpy(xs[k[0]]).to(tdev)).cpu().numpy()

                row[f"torch_{tag}_ms"], _ = median_ms(resident, reps.get(B, 3))
                row[f"torch_{tag}_e2e_ms"], _ = median_ms(end_to_end, reps.get(B, 3))
                row[f"torch_{tag}_packed_ms"], _ = median_ms(lambda: resident(full), reps.get(B, 3))
                if not tf32:
                    with torch.inference_mode():
                        want = torch_forward(ref, xd[0]).cpu().numpy()
                    got = gpu.predict(xs[0], padding="reference")
                    row["rel_vs_torch_fp32"] = rel_err(got, want)
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False
            rows.append(row)
            print("timing", json.dumps(row), flush=True)
            del xd
    results["timings"] = rows
    worst = max(r["rel_vs_torch_fp32"] for r in rows)
    record("libtemporal CUDA vs PyTorch eager (TF32 off) logits", worst <= 1e-4,
           f"worst ‖a−b‖/‖b‖ {worst:.3g} over B=1..256 (informative bound 1e-4; the 1e-5 contract is vs the CPU)")


def timing_table(rows, info):
    lines = [
        f"GPU: {info.get('gpu')}; driver {info.get('driver')}; PyTorch {info.get('torch')} (CUDA {info.get('torch_cuda')}, "
        f"cuDNN {info.get('cudnn')}); libtemporal {info.get('temporal')} ({info.get('commit', '?')}). "
        "Default config (F=1280, H=768, 4 layers, 12 heads, C=4), T=64, median ms per call. "
        "libtemporal: predict from host arrays to host logits (full float32, no TF32). "
        "PyTorch eager, inference_mode, reference forward: *resident* = input already on the GPU, "
        "synchronised; *e2e* = from the host array to host logits; *packed* = with lengths (all T).",
        "",
        "| B | libtemporal ms | PyTorch fp32 ms | fp32 e2e | fp32 packed | PyTorch TF32 ms | TF32 e2e | TF32 packed "
        "| latency ratio (torch fp32 e2e / ours) | clips/s ours | clips/s torch fp32 e2e | ‖Δ‖/‖torch‖ |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['B']} | {r['ours_ms']:.2f} | {r['torch_fp32_ms']:.2f} | {r['torch_fp32_e2e_ms']:.2f} | "
            f"{r['torch_fp32_packed_ms']:.2f} | {r['torch_tf32_ms']:.2f} | {r['torch_tf32_e2e_ms']:.2f} | "
            f"{r['torch_tf32_packed_ms']:.2f} | {r['torch_fp32_e2e_ms'] / r['ours_ms']:.2f} | "
            f"{r['B'] / r['ours_ms'] * 1e3:.0f} | {r['B'] / r['torch_fp32_e2e_ms'] * 1e3:.0f} | "
            f"{r['rel_vs_torch_fp32']:.2g} |")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.environ.get("OUT", "gpu-out"))
    ap.add_argument("--quick", action="store_true", help="fewer timing repetitions")
    ap.add_argument("--no-timings", action="store_true")
    ap.add_argument("--batches", default="1,8,64,256")
    ap.add_argument("--device", default="cuda", help="cuda, cuda:N, or cpu for a dry run of this script")
    args = ap.parse_args()
    global DEV
    DEV = args.device
    os.makedirs(args.out, exist_ok=True)

    import torch  # first, as in a host that already uses PyTorch (static-TLS order too)
    sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
    import temporal
    from temporal import _library
    lib = _library.lib
    lib.temporal_cuda_memory.argtypes = [ctypes.c_int, ctypes.POINTER(ctypes.c_uint64), ctypes.POINTER(ctypes.c_uint64)]
    lib.temporal_cuda_device_name.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)]

    if DEV != "cpu":
        torch.ones(1, device="cuda")  # PyTorch holds the primary context before libtemporal
    name = ctypes.create_string_buffer(256)
    st = lib.temporal_cuda_device_name(0, name, 256, None)
    info = results["info"]
    info.update({
        "temporal": temporal.__version__ if hasattr(temporal, "__version__") else "?",
        "library": _library.library_path,
        "cuda_available": temporal.cuda_available(),
        "device_count": temporal.cuda_device_count(),
        "device_name": name.value.decode() if st == 0 else f"status {st}",
        "torch": torch.__version__, "torch_cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version(),
        "gpu": torch.cuda.get_device_name(0) if DEV != "cpu" else "none (dry run)",
        "driver": os.environ.get("GPU_DRIVER", "?"), "commit": os.environ.get("TEMPORAL_COMMIT", "?"),
    })
    print("info", json.dumps(info), flush=True)
    record("temporal_cuda_available", DEV == "cpu" or (info["cuda_available"] and info["device_count"] >= 1),
           f"{info['device_count']} device(s), cuda:0 = {info['device_name']}")

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "default.safetensors")
        with temporal.Model.create(None, seed=7) as m:
            m.save(path)
        check_fixtures(temporal)
        check_default_config(temporal, path)
        check_concurrency(temporal, path)
        check_lifecycle(temporal, lib, path, torch)
        check_errors(temporal, lib, path)
        if not args.no_timings:
            timings(temporal, torch, path, args.quick, [int(b) for b in args.batches.split(",")])

    with open(os.path.join(args.out, "gpu_checks.json"), "w") as f:
        json.dump(results, f, indent=1)
    if results["timings"]:
        table = timing_table(results["timings"], info)
        with open(os.path.join(args.out, "gpu_timings.md"), "w") as f:
            f.write(table)
        print(table)
    failed = [c["name"] for c in results["checks"] if not c["ok"]]
    print(f"gpu_checks: {len(results['checks']) - len(failed)} passed, {len(failed)} failed", flush=True)
    for n in failed:
        print("  FAILED:", n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
