#!/bin/bash
# Every on-GPU check of libtemporal's CUDA backend, in one run on the GPU machine (an H200 with
# driver 580, CUDA 13, PyTorch cu13 wheels, no Go). Build first, where Go is:
#
#   tests/gpu/build.sh                       # → tests/gpu/build/ (ignored by git, ~16 MB)
#
# then run from the repository root on the GPU machine, carrying tests/gpu/build:
#
#   bash tests/gpu/run_gpu_checks.sh         # results in $OUT (default ./gpu-out)
#
# Steps (each bounded by a timeout; about 3–5 minutes in all when everything passes):
#   1. fail fast: nvidia-smi, ldd of the library and the C test, PyTorch sees the GPU, cuBLAS found
#   2. C API smoke test: one CUDA predict vs the CPU and the golden file (gpu_smoke)
#   3. Go tests of package cuda on the GPU: parity on every fixture and on the default config,
#      many shapes, concurrency, device lifecycle, kernel signatures (cuda.test)
#   4. Python: parity, concurrency, memory, coexistence with PyTorch, errors, and the timings
#      against PyTorch eager (gpu_checks.py → gpu_checks.json, gpu_timings.md)
#   5. compute-sanitizer memcheck on the C smoke test
# Exit status 0 only when every step passed. Files written to $OUT: log.txt (everything),
# smoke.txt, go-test.txt, gpu_checks.json, gpu_timings.md, sanitizer.txt.
set -u
cd "$(dirname "$0")/../.." || exit 2
root=$PWD
OUT=${OUT:-$root/gpu-out}
mkdir -p "$OUT"
exec > >(tee "$OUT/log.txt") 2>&1
build=$root/tests/gpu/build
declare -a summary
fails=0
step() { echo; echo "=== $* (at ${SECONDS}s)"; }
result() { # name status
    if [ "$2" -eq 0 ]; then summary+=("PASS  $1"); else summary+=("FAIL  $1 (exit $2)"); fails=$((fails + 1)); fi
}
finish() {
    echo
    echo "=== summary (${SECONDS}s)"
    for s in "${summary[@]}"; do echo "$s"; done
    [ -f "$OUT/gpu_timings.md" ] && cat "$OUT/gpu_timings.md"
    echo "run_gpu_checks: $fails step(s) failed"
    exit $((fails > 0))
}

step "0. unpack"
if [ ! -f "$build/gpu_smoke" ]; then
    echo "tests/gpu/build is missing: run tests/gpu/build.sh where Go is, and carry tests/gpu/build"
    exit 2
fi
cat "$build/commit.txt"
for f in "$build/lib/libtemporal.so.1" "$build/cuda.test"; do
    [ -f "$f.gz" ] && gunzip -c "$f.gz" > "$f"
done
chmod +x "$build/cuda.test" "$build/gpu_smoke"
ln -sf libtemporal.so.1 "$build/lib/libtemporal.so"

step "1. fail fast"
nvidia-smi --query-gpu=name,driver_version,memory.total,memory.used,clocks.sm --format=csv || { echo "no GPU"; exit 3; }
export GPU_DRIVER=$(nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -1)
export TEMPORAL_COMMIT=$(head -1 "$build/commit.txt" | cut -c1-12)
ldd "$build/lib/libtemporal.so.1"
if ldd "$build/lib/libtemporal.so.1" | grep -Eq 'not found|libcuda|libcublas'; then
    echo "libtemporal.so.1 needs a missing or CUDA library"; exit 3
fi
ldd "$build/gpu_smoke" | grep -q 'not found' && { ldd "$build/gpu_smoke"; exit 3; }
ldd "$build/cuda.test" | grep -q 'not found' && { ldd "$build/cuda.test"; exit 3; }
python3 -c 'import sys, numpy, torch; print(sys.version.split()[0], "numpy", numpy.__version__, "torch", torch.__version__, "cuda", torch.version.cuda, "gpu", torch.cuda.is_available()); sys.exit(0 if torch.cuda.is_available() else 1)' \
    || { echo "PyTorch does not see the GPU"; exit 3; }
# cuBLAS: the one PyTorch's wheels bring (site-packages/nvidia/*/lib), else the toolkit's.
cublas=$(python3 - <<'EOF'
import glob, os, re, site
dirs = site.getsitepackages() + [site.getusersitepackages()]
c = [p for d in dirs for p in glob.glob(os.path.join(d, "nvidia", "*", "lib", "libcublas.so.*"))]
c += glob.glob("/usr/local/cuda*/lib64/libcublas.so.*") + glob.glob("/usr/local/cuda*/targets/*/lib/libcublas.so.*")
c = [p for p in c if re.fullmatch(r"libcublas\.so\.\d+", os.path.basename(p))]
c.sort(key=lambda p: -int(p.rsplit(".", 1)[1]))
print(c[0] if c else "")
EOF
)
if [ -z "$cublas" ]; then
    echo "no libcublas.so.N found; the library will try the sonames"
else
    echo "cuBLAS: $cublas"
    export TEMPORAL_CUBLAS=$cublas
    export LD_LIBRARY_PATH=$(dirname "$cublas")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
fi
which compute-sanitizer cuobjdump || true

step "2. C API smoke test"
timeout 120 "$build/gpu_smoke" tests/data 2>&1 | tee "$OUT/smoke.txt"
result "gpu_smoke: one CUDA predict = CPU = golden (both padding modes)" "${PIPESTATUS[0]}"

step "3. Go tests of package cuda on the GPU"
(cd cuda && TEMPORAL_TEST_REQUIRE_GPU=1 timeout 240 "$build/cuda.test" -test.v -test.timeout 230s \
    -test.run 'GPU|Fatbin|KernelSignatures|NoGPUHere') 2>&1 | tee "$OUT/go-test.txt"
result "cuda.test: GPU parity, shapes, concurrency, lifecycle" "${PIPESTATUS[0]}"

step "4. Python checks and timings"
PYTHONUNBUFFERED=1 TEMPORAL_LIBRARY=$build/lib/libtemporal.so.1 timeout 300 \
    python3 tests/gpu/gpu_checks.py --out "$OUT"
result "gpu_checks.py: parity, concurrency, memory, PyTorch coexistence, errors, timings" $?

step "5. compute-sanitizer memcheck on one predict"
if command -v compute-sanitizer >/dev/null; then
    timeout 180 compute-sanitizer --tool memcheck --error-exitcode 9 --print-limit 20 \
        "$build/gpu_smoke" tests/data 2>&1 | tee "$OUT/sanitizer.txt"
    result "compute-sanitizer memcheck on gpu_smoke" "${PIPESTATUS[0]}"
else
    echo "compute-sanitizer not installed: skipped" | tee "$OUT/sanitizer.txt"
    summary+=("SKIP  compute-sanitizer (not installed)")
fi

finish
