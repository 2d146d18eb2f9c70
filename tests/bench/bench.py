#!/usr/bin/python3
"""libtemporal against PyTorch on the same machine, weights, inputs and core budget (issue 5).

    /usr/bin/python3 tests/bench/bench.py [--lib PATH] [--reps N] [--threads N] [--force]
        [--cases B=1,B=8L,B=48,train] [--torch-configs default,passive,omp1,heap] [--json PATH]

Every timing runs in its own fresh process: the script re-invokes itself as a worker
(--worker ours|torch|sgemm), one process per library, PyTorch configuration and case; it never
times both libraries in one process (PyTorch's OpenMP workers spin after each call and take the
cores from whatever runs next in that process). The parent imports neither library.

1. Re-executes itself without OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (--keep-env keeps them), so
   OpenBLAS picks its kernels for this CPU; both OpenBLAS copies (libtemporal's private static
   one, and the system one under PyTorch and numpy) follow the same variables.
2. Builds the nohdf5 library (scripts/build-lib.sh --nohdf5 build/bench) unless --lib.
3. A setup process (untimed) builds the reference model (tests/parity/make_fixtures.py) with
   random weights at the default config, writes it as safetensors and every case's inputs as
   .npy into a temporary directory, and checks that libtemporal and PyTorch agree (masked
   mixed-length batch and full length, DESIGN §8 tolerance; and the loss of one Trainer step
   against the PyTorch recipe of the train workers, dropout off).
4. Before each timed worker, checks that the machine is idle (> 10 % busy over 1 s: refuses,
   unless --force).
5. Workers, for each case: libtemporal (temporal.set_num_threads(N)); PyTorch in each
   configuration: default (torch.set_num_threads(N), OpenMP as the environment has it),
   passive (same, OMP_WAIT_POLICY=PASSIVE), omp1 (torch.set_num_threads(1)), heap (omp1 with
   glibc malloc keeping freed memory: see HEAP_ENV); every PyTorch
   worker gets OPENBLAS_NUM_THREADS=N (torch.set_num_threads does not limit OpenBLAS's own
   pool). An sgemm worker measures numpy's float32 3072x1536 . 1536x3072 product with
   OPENBLAS_NUM_THREADS=N (the system OpenBLAS, same kernel set), before and after the cases:
   the same-run sgemm rate (the higher of the two).
6. Cases, T=64, default config: B=1 (no lengths), B=8 with lengths, B=48 (no lengths): forward,
   PyTorch with lengths (its packed path) and without; train: one training step, B=48 with
   lengths (the recipe of temporal.Trainer's defaults, both sides). Warm-up 1 call, median of
   --reps.
7. Prints one markdown table (ms/clip or ms/step, GFLOP/s, % of the sgemm rate, speed-ups
   against PyTorch's default and its best configuration) with a header line; --json PATH also
   writes the numbers.

Takes several minutes. Not part of the default test command.
"""

import argparse
import copy
import ctypes
import ctypes.util
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CFG = dict(feature_dim=1280, hidden_dim=768, num_layers=4, num_heads=12, num_classes=4,
           dropout=0.4, bidirectional=True, classifier_widths=(768, 512, 256))
T = 64
SGEMM_MNK = (3072, 3072, 1536)  # C[m, n] = A[m, k] . B[k, n]

# name, batch, lengths?, kind; --cases matches these names with case and punctuation ignored
CASES = [
    ("B=1", 1, False, "forward"),
    ("B=8L", 8, True, "forward"),
    ("B=48", 48, False, "forward"),
    ("train", 48, True, "train"),
]
CASE_LABEL = {"B=1": "B=1", "B=8L": "B=8 lengths", "B=48": "B=48", "train": "train step, B=48 lengths"}
TORCH_CONFIGS = ("default", "passive", "omp1", "heap")
# heap: omp1 with glibc's malloc told to keep what it frees (no trim, large blocks from the heap
# up to glibc's 32 MiB mmap limit, 1 GiB top pad). By default glibc returns PyTorch's large
# freed buffers to the kernel and the next training step page-faults them back: measured here,
# omp1 training steps alternate between ~5.4 s and ~9–11 s; with these settings they are a steady
# ~5.4 s. Production PyTorch often runs with jemalloc/tcmalloc for the same reason.
HEAP_ENV = {"MALLOC_TRIM_THRESHOLD_": str(1 << 36), "MALLOC_MMAP_THRESHOLD_": str(32 << 20),
            "MALLOC_TOP_PAD_": str(1 << 30)}


def _key(s):
    return "".join(c for c in s.lower() if c.isalnum())


def flops(B, T, cfg=CFG):
    """Multiply-adds ×2 of the matrix products of one forward of B clips of T frames without
    lengths (as the Go benchmarks count them, core/forward_bench_test.go)."""
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


def case_flops(B, lengths):
    """Forward matrix-product FLOPs over the valid frames: each clip counted at its length."""
    if lengths is None:
        return flops(B, T)
    return sum(flops(1, int(n)) for n in lengths)


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
    """The system OpenBLAS's kernel set (the copy under PyTorch and numpy); libtemporal's private
    copy follows the same OPENBLAS_CORETYPE (capi-build-recipe §4), so on one CPU both pick the
    same."""
    for name in ("openblas", "openblasp"):
        p = ctypes.util.find_library(name)
        if p:
            lib = ctypes.CDLL(p)
            lib.openblas_get_corename.restype = ctypes.c_char_p
            return lib.openblas_get_corename().decode()
    return "unknown"


def median_time(fn, reps):
    fn()  # warm-up
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts), ts


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Workers (each runs in its own process; the parent reads the JSON each writes to --result)


def _parity_imports():
    sys.path.insert(0, os.path.join(ROOT, "tests", "parity"))
    import make_fixtures
    return make_fixtures


def _temporal_import():
    sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
    import temporal
    return temporal


def worker_setup(args):
    """Untimed: weights, inputs, agreement check."""
    import numpy as np
    import torch
    mf = _parity_imports()
    temporal = _temporal_import()
    d = args.dir
    model = mf.build(CFG, args.seed).eval()
    path = os.path.join(d, "model.safetensors")
    mf.safetensors_write(path, model.state_dict())
    ours = temporal.Model.load(path, num_heads=CFG["num_heads"])

    rng = np.random.default_rng(args.seed)
    F = CFG["feature_dim"]
    # Agreement, masked mode on a mixed-length batch (DESIGN §2 fixture code) and full length.
    x = rng.standard_normal((3, T, F), dtype=np.float32)
    lens = np.array([T, 40, 9], dtype=np.int32)
    with torch.no_grad():
        ref, _ = model(torch.from_numpy(x), torch.from_numpy(lens), mode="masked")
        ref_full, _ = model(torch.from_numpy(x))
    got = ours.predict(x, lengths=lens, padding="masked")
    got_full = ours.predict(x)
    agreement = {}
    for name, a, b in (("masked", got, ref.numpy()), ("full", got_full, ref_full.numpy())):
        err, bound = float(np.abs(a - b).max()), 1e-4 * float(np.abs(b).max()) + 1e-6
        print(f"agreement ({name}): max|Δ| = {err:.3g} (bound {bound:.3g})", flush=True)
        agreement[name] = {"max_abs_diff": err, "bound": bound}
        if err > bound:
            sys.exit(f"libtemporal and PyTorch disagree ({name})")

    # The training recipe: the loss a Trainer step reports (before its update) against the
    # PyTorch loss of the train workers, dropout off on both sides (on, the two draw different
    # masks), masked padding, focal loss with label smoothing, α = 1.
    y = np.array([0, 1, 3], dtype=np.int64)
    m_ref = copy.deepcopy(model)
    mf.set_dropout_zero(m_ref)
    m_ref.train()
    with torch.no_grad():
        lg, _ = m_ref(torch.from_numpy(x), torch.from_numpy(lens), "masked")
        ref_loss = float(mf.focal_loss(lg, torch.from_numpy(y), torch.ones(CFG["num_classes"])))
    del m_ref
    with temporal.Trainer(temporal.Model.load(path, num_heads=CFG["num_heads"]), dropout=False) as tr:
        got_loss = tr.step(x, y, lens)
    err, bound = abs(got_loss - ref_loss), 1e-4 * abs(ref_loss) + 1e-6
    print(f"agreement (training loss, dropout off): {got_loss:.6f} vs {ref_loss:.6f}, |Δ| = {err:.3g} "
          f"(bound {bound:.3g})", flush=True)
    agreement["train_loss"] = {"ours": got_loss, "pytorch": ref_loss, "max_abs_diff": err, "bound": bound}
    if err > bound:
        sys.exit("libtemporal's Trainer and the PyTorch recipe disagree on the loss")

    # Inputs of every case (all of them, whatever --cases says: cheap, and the same seed stream).
    for name, B, with_lengths, kind in CASES:
        x = rng.standard_normal((B, T, F), dtype=np.float32)
        if with_lengths:
            lengths = rng.integers(T // 2, T + 1, size=B).astype(np.int32)
            lengths[0] = T
            for b, n in enumerate(lengths):
                x[b, n:] = 0
            np.save(os.path.join(d, f"{_key(name)}.lengths.npy"), lengths)
        np.save(os.path.join(d, f"{_key(name)}.x.npy"), x)
        if kind == "train":
            labels = rng.integers(0, CFG["num_classes"], size=B).astype(np.int64)
            np.save(os.path.join(d, f"{_key(name)}.labels.npy"), labels)
    return {"agreement": agreement, "torch": torch.__version__, "temporal": temporal.version()}


def _load_case(d, name):
    import numpy as np
    k = _key(name)
    x = np.load(os.path.join(d, f"{k}.x.npy"))
    lp = os.path.join(d, f"{k}.lengths.npy")
    lengths = np.load(lp) if os.path.exists(lp) else None
    yp = os.path.join(d, f"{k}.labels.npy")
    labels = np.load(yp) if os.path.exists(yp) else None
    return x, lengths, labels


def _case(name):
    for c in CASES:
        if c[0] == name:
            return c
    raise SystemExit(f"unknown case {name}")


def worker_ours(args):
    temporal = _temporal_import()
    temporal.set_num_threads(args.threads)
    name, B, with_lengths, kind = _case(args.case)
    x, lengths, labels = _load_case(args.dir, name)
    model = temporal.Model.load(os.path.join(args.dir, "model.safetensors"), num_heads=CFG["num_heads"])
    res = {"threads": temporal.get_num_threads(), "version": temporal.version()}
    if kind == "forward":
        res["ours"], res["ours_all"] = median_time(lambda: model.predict(x, lengths=lengths), args.reps)
    else:
        losses = []
        with temporal.Trainer(model) as tr:  # the defaults: the reference recipe (DESIGN §3)
            res["ours"], res["ours_all"] = median_time(lambda: losses.append(tr.step(x, labels, lengths)), args.reps)
        res["losses"] = losses
    return res


def worker_torch(args):
    import torch
    mf = _parity_imports()
    n = 1 if args.config in ("omp1", "heap") else args.threads
    torch.set_num_threads(n)
    name, B, with_lengths, kind = _case(args.case)
    x, lengths, labels = _load_case(args.dir, name)
    torch.manual_seed(args.seed)
    model = mf.SuperEnhancedTemporalModel(**CFG)
    sd, _ = mf.safetensors_read(os.path.join(args.dir, "model.safetensors"))
    model.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()}, strict=True)
    xt = torch.from_numpy(x)
    lt = None if lengths is None else torch.from_numpy(lengths)
    res = {"torch_threads": torch.get_num_threads(), "openblas": openblas_core(),
           "env": {k: os.environ.get(k) for k in ("OMP_WAIT_POLICY", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS") + tuple(HEAP_ENV)}}
    if kind == "forward":
        model.eval()

        def fwd(use_len):
            with torch.no_grad():
                model(xt, lt if use_len else None)

        # Both variants warmed up, then alternated; the reference model's own forward (reference
        # padding mode), packed LSTM when lengths are given.
        fwd(False)
        if lt is not None:
            fwd(True)
        runs = {"nolen": [], "len": []}
        for _ in range(args.reps):
            for variant in (("nolen", "len") if lt is not None else ("nolen",)):
                t0 = time.perf_counter()
                fwd(variant == "len")
                runs[variant].append(time.perf_counter() - t0)
        for k, v in runs.items():
            if v:
                res[k] = statistics.median(v)
                res[k + "_all"] = v
    else:
        # The recipe of temporal.Trainer's defaults: masked padding (DESIGN §2 fixture code),
        # dropout on, focal loss (γ 2, label smoothing 0.1, α = 1: a Trainer uses no class
        # weights), clip_grad_norm_ 1.0, AdamW (lr 1e-3, wd 5e-4, betas 0.9/0.999, eps 1e-8,
        # PyTorch 1.13's default single-tensor loop), CosineAnnealingWarmRestarts stepped per step.
        model.train()
        params = list(model.parameters())
        opt, sch = mf.make_optimizer(params)
        yt = torch.from_numpy(labels)
        alpha = torch.ones(CFG["num_classes"])
        losses = []

        def step():
            opt.zero_grad(set_to_none=True)
            lg, _ = model(xt, lt, "masked")
            loss = mf.focal_loss(lg, yt, alpha)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, max_norm=mf.CLIP_NORM)
            opt.step()
            sch.step()
            losses.append(float(loss))

        res["len"], res["len_all"] = median_time(step, args.reps)
        res["losses"] = losses
    return res


def worker_sgemm(args):
    import numpy as np
    m, n, k = SGEMM_MNK
    rng = np.random.default_rng(7)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    c = np.empty((m, n), dtype=np.float32)
    t, ts = median_time(lambda: np.matmul(a, b, out=c), max(5, args.reps))
    return {"seconds": t, "all": ts, "gflops": 2 * m * n * k / t / 1e9, "openblas": openblas_core(),
            "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS")}


WORKERS = {"setup": worker_setup, "ours": worker_ours, "torch": worker_torch, "sgemm": worker_sgemm}


# ---------------------------------------------------------------------------------------------
# Parent


def run_worker(args, kind, result, env_extra=None, case=None, config=None, timed=True, busy_log=None):
    if timed:
        busy = busy_fraction()
        what = kind + (f"/{config}" if config else "") + (f" {case}" if case else "")
        log(f"[{what}] machine busy: {100 * busy:.0f}% of {os.cpu_count()} CPUs over 1 s")
        if busy_log is not None:
            busy_log.append(busy)
        if busy > 0.1 and not args.force:
            sys.exit("the machine is not idle: timings would be meaningless (use --force to run anyway)")
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", kind, "--dir", args.dir,
           "--result", result, "--threads", str(args.threads), "--reps", str(args.reps),
           "--seed", str(args.seed)]
    if case:
        cmd += ["--case", case]
    if config:
        cmd += ["--config", config]
    env = dict(os.environ)
    for k, v in (env_extra or {}).items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    if subprocess.run(cmd, env=env).returncode != 0:
        sys.exit(f"the {kind} worker failed" + (f" (case {case})" if case else "")
                 + (f" (PyTorch configuration {config})" if config else ""))
    with open(result) as f:
        return json.load(f)


def torch_env(config, N):
    env = {"OPENBLAS_NUM_THREADS": str(N)}
    if config == "passive":
        env["OMP_WAIT_POLICY"] = "PASSIVE"
    if config == "heap":
        env.update(HEAP_ENV)
    return env


def fmt(v, spec):
    return "" if v is None else format(v, spec)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lib", help="libtemporal.so to use (default: build one into build/bench)")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="the core budget N of both libraries")
    ap.add_argument("--force", action="store_true", help="run even when the machine is busy")
    ap.add_argument("--keep-env", action="store_true", help="keep OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cases", default=",".join(c[0] for c in CASES),
                    help="comma-separated, of " + ", ".join(c[0] for c in CASES) + " (default: all)")
    ap.add_argument("--torch-configs", default=",".join(TORCH_CONFIGS),
                    help="comma-separated, of " + ", ".join(TORCH_CONFIGS) + " (default: all)")
    ap.add_argument("--json", help="also write the numbers to this file")
    # worker mode (internal)
    ap.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    ap.add_argument("--dir", help=argparse.SUPPRESS)
    ap.add_argument("--result", help=argparse.SUPPRESS)
    ap.add_argument("--case", help=argparse.SUPPRESS)
    ap.add_argument("--config", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.worker:
        res = WORKERS[args.worker](args)
        with open(args.result, "w") as f:
            json.dump(res, f)
        return

    if args.reps < 1 or args.threads < 1:
        sys.exit("--reps and --threads must be >= 1")
    by_key = {_key(c[0]): c[0] for c in CASES}
    by_key.update({"b8": "B=8L", "b8lengths": "B=8L", "trainstep": "train"})
    cases = []
    for c in args.cases.split(","):
        if _key(c) not in by_key:
            sys.exit(f"--cases: unknown case {c!r}; known: {', '.join(x[0] for x in CASES)}")
        if by_key[_key(c)] not in cases:
            cases.append(by_key[_key(c)])
    configs = list(dict.fromkeys(c.strip() for c in args.torch_configs.split(",") if c.strip()))
    for c in configs:
        if c not in TORCH_CONFIGS:
            sys.exit(f"--torch-configs: unknown configuration {c!r}; known: {', '.join(TORCH_CONFIGS)}")
    if not configs:
        sys.exit("--torch-configs: at least one")

    command = " ".join(shlex.quote(a) for a in [sys.executable, os.path.relpath(os.path.abspath(__file__), ROOT)] + sys.argv[1:])
    if not args.keep_env and any(k in os.environ for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")):
        env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
        os.execve(sys.executable, [sys.executable] + sys.argv, env)

    lib = args.lib
    if lib is None:
        out = os.path.join(ROOT, "build", "bench")
        subprocess.run(["sh", os.path.join(ROOT, "scripts", "build-lib.sh"), "--nohdf5", out], check=True)
        lib = os.path.join(out, "libtemporal.so.1")
    os.environ["TEMPORAL_LIBRARY"] = os.path.abspath(lib)  # read when temporal is imported (workers)

    N = args.threads
    busy_log = []
    with tempfile.TemporaryDirectory(prefix="libtemporal-bench-") as d:
        args.dir = d
        rfile = os.path.join(d, "result.json")
        setup = run_worker(args, "setup", rfile, timed=False)
        sgemm_env = {"OPENBLAS_NUM_THREADS": str(N)}
        sgemms = [run_worker(args, "sgemm", rfile, env_extra=sgemm_env, busy_log=busy_log)]
        log(f"[sgemm] {sgemms[-1]['gflops']:.0f} GFLOP/s ({sgemms[-1]['openblas']})")
        results = {}
        for name in cases:
            r = {"ours": run_worker(args, "ours", rfile, case=name, busy_log=busy_log)}
            log(f"[ours {name}] {1e3 * r['ours']['ours']:.1f} ms")
            for cfg in configs:
                r[cfg] = run_worker(args, "torch", rfile, env_extra=torch_env(cfg, N), case=name,
                                    config=cfg, busy_log=busy_log)
                log(f"[torch/{cfg} {name}] " + ", ".join(
                    f"{k} {1e3 * r[cfg][k]:.1f} ms" for k in ("len", "nolen") if k in r[cfg]))
            results[name] = r
        sgemms.append(run_worker(args, "sgemm", rfile, env_extra=sgemm_env, busy_log=busy_log))
        log(f"[sgemm] {sgemms[-1]['gflops']:.0f} GFLOP/s ({sgemms[-1]['openblas']})")
        lengths = {name: _load_case(d, name)[1] for name in cases}
    # Measured before and after the cases; the higher of the two is the rate (the stricter
    # denominator on a loaded machine).
    sgemm = max(sgemms, key=lambda s: s["gflops"])

    kernels = sgemm["openblas"]
    torch_version = setup["torch"]
    rows = []
    for name in cases:
        _, B, with_lengths, kind = _case(name)
        r = results[name]
        ours = r["ours"]["ours"]
        f = case_flops(B, lengths[name])
        if kind == "train":
            f *= 3
        gf = f / ours / 1e9
        variants = ["len", "nolen"] if (with_lengths and kind == "forward") else (["len"] if kind == "train" else ["nolen"])
        per = 1 if kind == "train" else B
        for v in variants:
            t = {cfg: r[cfg][v] for cfg in configs}
            best_cfg = min(t, key=t.get)
            row = {
                "case": name, "label": CASE_LABEL[name], "kind": kind, "B": B, "T": T,
                "lengths": None if lengths[name] is None else [int(n) for n in lengths[name]],
                "pytorch_path": "lengths (packed)" if v == "len" else "no lengths",
                "unit": "ms/step" if kind == "train" else "ms/clip",
                "ours_ms": 1e3 * ours / per,
                "ours_all_ms": [1e3 * s / per for s in r["ours"]["ours_all"]],
                "ours_gflops": gf, "ours_flops": f,
                "ours_fraction_of_sgemm": gf / sgemm["gflops"],
                "pytorch_ms": {cfg: 1e3 * t[cfg] / per for cfg in configs},
                "pytorch_all_ms": {cfg: [1e3 * s / per for s in r[cfg][v + "_all"]] for cfg in configs},
                "pytorch_best": best_cfg,
                "speedup_vs_best": t[best_cfg] / ours,
                "speedup_vs_default": t["default"] / ours if "default" in t else None,
            }
            if kind == "train":
                row["ours_losses"] = r["ours"]["losses"]
                row["pytorch_losses"] = {cfg: r[cfg]["losses"] for cfg in configs}
            rows.append(row)

    env_note = ", ".join(f"{k}={os.environ.get(k, 'unset')}" for k in ("OMP_WAIT_POLICY", "OMP_NUM_THREADS"))
    header = (f"OpenBLAS kernels: {kernels} (OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}); "
              f"threads: {N}; torch {torch_version}; libtemporal {setup['temporal']}; T={T}, default config; "
              f"warm-up 1, median of {args.reps}; each library, PyTorch configuration and case in its own "
              f"process; machine busy before the workers: max {100 * max(busy_log):.0f}%; "
              f"environment: {env_note}")
    print()
    print(f"`{command}`")
    print()
    print(header)
    print()
    cols = ["case", "PyTorch path", "libtemporal", "libtemporal GFLOP/s", "% of sgemm"]
    cols += [f"PyTorch {c}" for c in configs]
    cols += ["PyTorch best", "speed-up vs best"]
    if "default" in configs:
        cols += ["speed-up vs default"]
    print("| " + " | ".join(cols) + " |")
    print("| --- | --- | " + " | ".join("---:" for _ in cols[2:]) + " |")
    for row in rows:
        cells = [f"{row['label']} ({row['unit']})", row["pytorch_path"], f"{row['ours_ms']:.1f}",
                 f"{row['ours_gflops']:.0f}", f"{100 * row['ours_fraction_of_sgemm']:.0f}%"]
        cells += [f"{row['pytorch_ms'][c]:.1f}" for c in configs]
        cells += [row["pytorch_best"], f"{row['speedup_vs_best']:.2f}×"]
        if "default" in configs:
            cells += [f"{row['speedup_vs_default']:.2f}×"]
        print("| " + " | ".join(cells) + " |")
    print()
    m, n, k = SGEMM_MNK
    print(f"sgemm: numpy float32 {m}×{k} · {k}×{n}, OPENBLAS_NUM_THREADS={N}, in its own process "
          f"before and after the cases: {' and '.join(format(s['gflops'], '.0f') for s in sgemms)} GFLOP/s "
          f"({kernels}; the higher is the rate used). GFLOP/s count the matrix products only, "
          f"over the valid frames (each clip at its length); a training step counts 3× the "
          f"forward's. PyTorch configurations: default = torch.set_num_threads({N}); passive = "
          f"the same with OMP_WAIT_POLICY=PASSIVE; omp1 = torch.set_num_threads(1); heap = omp1 with "
          f"glibc malloc keeping freed memory (MALLOC_TRIM_THRESHOLD_, MALLOC_MMAP_THRESHOLD_=32 MiB, "
          f"MALLOC_TOP_PAD_); all with "
          f"OPENBLAS_NUM_THREADS={N}. PyTorch forward: the reference model's (reference padding); "
          f"training step: masked padding, as temporal.Trainer's default.")
    for row in rows:
        if row["kind"] == "train":
            pl = {c: v[0] for c, v in row["pytorch_losses"].items()}
            print(f"Training: libtemporal {row['ours_ms']:.0f} ms/step, {row['ours_gflops']:.0f} GFLOP/s = "
                  f"{100 * row['ours_fraction_of_sgemm']:.0f}% of the same-run sgemm rate; first-step loss "
                  f"(dropout on, so only roughly equal): libtemporal {row['ours_losses'][0]:.4f}, PyTorch "
                  + ", ".join(f"{c} {v:.4f}" for c, v in pl.items()))

    if args.json:
        out = {"command": command, "header": header, "openblas": kernels,
               "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"), "threads": N,
               "torch": torch_version, "libtemporal": setup["temporal"], "library": os.environ["TEMPORAL_LIBRARY"],
               "reps": args.reps, "T": T, "config": CFG, "agreement": setup["agreement"],
               "busy_before_workers": busy_log, "sgemm": sgemm, "sgemm_runs": sgemms, "torch_configs": configs, "rows": rows}
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
