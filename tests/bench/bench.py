#!/usr/bin/python3
"""libtemporal against PyTorch on the same machine, weights, inputs and threads (issue 5).

    /usr/bin/python3 tests/bench/bench.py [--lib PATH] [--reps N] [--threads N] [--force]

Builds the library (scripts/build-lib.sh --nohdf5 build/bench) unless --lib is given, creates
the reference PyTorch model (tests/parity/make_fixtures.py) with random weights at the default
config, saves them as safetensors, loads them through the Python binding, checks that both give
the same logits, checks that the machine is idle (refuses otherwise, unless --force), and times
both, alternating, on the same inputs: B=1 (no lengths), B=8 with lengths, B=48 (no lengths),
T=64. PyTorch runs both with lengths (the packed path the reference uses) and without; each
time is the median of --reps calls. Prints a markdown table (ms/clip, GFLOP/s of the matrix
products, ratios) and which OpenBLAS kernel set ran.

OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed from the environment (the script re-executes
itself) so that OpenBLAS picks its kernels for this CPU; --keep-env keeps them. One variable
drives both OpenBLAS copies (ours is private and static, PyTorch's is the system one).
Takes a few minutes. Not part of the default test command.
"""

import argparse
import ctypes
import ctypes.util
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CFG = dict(feature_dim=1280, hidden_dim=768, num_layers=4, num_heads=12, num_classes=4,
           dropout=0.4, bidirectional=True, classifier_widths=(768, 512, 256))


def flops(B, T, cfg=CFG):
    """Multiply-adds ×2 of the matrix products of one forward without lengths (as the Go
    benchmarks count them)."""
    H, F, L = cfg["hidden_dim"], cfg["feature_dim"], cfg["num_layers"]
    dirs = 2 if cfg["bidirectional"] else 1
    D = dirs * H
    P = D // 2
    bt = B * T
    f = bt * F * H
    for k in range(L):
        inp = H if k == 0 else D
        f += dirs * bt * (inp + H) * 4 * H
    f += bt * D * 3 * D + B * 2 * T * T * D + bt * D * D + bt * D * P
    prev = D
    for w in cfg["classifier_widths"]:
        f += B * prev * w
        prev = w
    return 2 * f


def busy_fraction(seconds=1.0):
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        idle = v[3] + v[4]
        return sum(v), idle
    t0, i0 = sample()
    time.sleep(seconds)
    t1, i1 = sample()
    return 1 - (i1 - i0) / max(1, t1 - t0)


def openblas_core():
    """The system OpenBLAS's kernel set; libtemporal's private copy follows the same
    OPENBLAS_CORETYPE (capi-build-recipe §4), so on one CPU both pick the same."""
    for name in ("openblas", "openblasp"):
        p = ctypes.util.find_library(name)
        if p:
            lib = ctypes.CDLL(p)
            lib.openblas_get_corename.restype = ctypes.c_char_p
            return lib.openblas_get_corename().decode()
    return "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lib", help="libtemporal.so to use (default: build one into build/bench)")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--force", action="store_true", help="run even when the machine is busy")
    ap.add_argument("--keep-env", action="store_true", help="keep OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    if not args.keep_env and any(k in os.environ for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")):
        env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
        os.execve(sys.executable, [sys.executable] + sys.argv, env)

    lib = args.lib
    if lib is None:
        out = os.path.join(ROOT, "build", "bench")
        subprocess.run(["sh", os.path.join(ROOT, "scripts", "build-lib.sh"), "--nohdf5", out], check=True)
        lib = os.path.join(out, "libtemporal.so.1")
    os.environ["TEMPORAL_LIBRARY"] = os.path.abspath(lib)  # read when temporal is imported

    import numpy as np
    import torch
    sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
    sys.path.insert(0, os.path.join(ROOT, "tests", "parity"))
    import temporal
    from make_fixtures import build, safetensors_write

    torch.set_num_threads(args.threads)
    temporal.set_num_threads(args.threads)
    model = build(CFG, args.seed).eval()
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "model.safetensors")
        safetensors_write(path, model.state_dict())
        ours = temporal.Model.load(path, num_heads=CFG["num_heads"])

    rng = np.random.default_rng(args.seed)
    T, F = 64, CFG["feature_dim"]

    # Agreement, masked mode on a mixed-length batch (DESIGN §2 fixture code) and full length.
    x = rng.standard_normal((3, T, F), dtype=np.float32)
    lens = np.array([T, 40, 9], dtype=np.int32)
    with torch.no_grad():
        ref, _ = model(torch.from_numpy(x), torch.from_numpy(lens), mode="masked")
        ref_full, _ = model(torch.from_numpy(x))
    got = ours.predict(x, lengths=lens, padding="masked")
    got_full = ours.predict(x)
    for name, a, b in (("masked", got, ref.numpy()), ("full", got_full, ref_full.numpy())):
        err, bound = float(np.abs(a - b).max()), 1e-4 * float(np.abs(b).max()) + 1e-6
        print(f"agreement ({name}): max|Δ| = {err:.3g} (bound {bound:.3g})")
        if err > bound:
            sys.exit(f"libtemporal and PyTorch disagree ({name})")

    busy = busy_fraction()
    print(f"machine busy: {100 * busy:.0f}% of {os.cpu_count()} CPUs over 1 s")
    if busy > 0.1 and not args.force:
        sys.exit("the machine is not idle: timings would be meaningless (use --force to run anyway)")

    cases = [("B=1", 1, False), ("B=8 lengths", 8, True), ("B=48", 48, False)]
    rows = []
    for name, B, with_lengths in cases:
        x = rng.standard_normal((B, T, F), dtype=np.float32)
        lengths = None
        if with_lengths:
            lengths = rng.integers(T // 2, T + 1, size=B).astype(np.int32)
            lengths[0] = T
            for b, n in enumerate(lengths):
                x[b, n:] = 0
        xt = torch.from_numpy(x)
        lt = None if lengths is None else torch.from_numpy(lengths)
        runs = {"torch_len": [], "torch_nolen": [], "ours": []}

        def t_torch(use_len):
            t0 = time.perf_counter()
            with torch.no_grad():
                model(xt, lt if use_len else None)
            return time.perf_counter() - t0

        def t_ours():
            t0 = time.perf_counter()
            ours.predict(x, lengths=lengths)
            return time.perf_counter() - t0

        t_ours(), t_torch(False)  # warm-up
        for _ in range(args.reps):
            runs["ours"].append(t_ours())
            runs["torch_nolen"].append(t_torch(False))
            if with_lengths:
                runs["torch_len"].append(t_torch(True))
        med = {k: statistics.median(v) if v else None for k, v in runs.items()}
        rows.append((name, B, with_lengths, med))

    print()
    print(f"OpenBLAS kernels: {openblas_core()} (OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}); "
          f"threads: {args.threads}; torch {torch.__version__}; T=64, default config; median of {args.reps}")
    print()
    print("| case | PyTorch, lengths (ms/clip) | PyTorch, no lengths (ms/clip) | libtemporal (ms/clip) "
          "| libtemporal GFLOP/s | speed-up vs lengths | speed-up vs no lengths |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, B, with_lengths, med in rows:
        o = med["ours"]
        tl = med["torch_len"]
        tn = med["torch_nolen"]
        gf = "" if with_lengths else f"{flops(B, T) / o / 1e9:.0f}"
        print(f"| {name} | {'' if tl is None else f'{1e3 * tl / B:.1f}'} | {1e3 * tn / B:.1f} | {1e3 * o / B:.1f} | {gf} "
              f"| {'' if tl is None else f'{tl / o:.2f}×'} | {tn / o:.2f}× |")


if __name__ == "__main__":
    main()
