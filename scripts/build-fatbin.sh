#!/bin/sh
# Rebuilds cuda/kernels.fatbin from cuda/kernels.cu (DESIGN §6): SASS for sm_80 (A100) and sm_90
# (H100/H200) plus compute_90 PTX, which newer GPUs' drivers compile at load. Built with
# Debian 12's nvidia-cuda-toolkit (nvcc 11.8), the version the committed fatbin is checked
# against (cuda/fatbin_test.go); other nvcc versions build a working but different file.
#   scripts/build-fatbin.sh           # rewrite cuda/kernels.fatbin
#   scripts/build-fatbin.sh --check   # exit 1 if the committed file differs from a fresh build
# Minimum driver: PTX ISA 7.8 (CUDA 11.8) needs an R520+ driver to JIT on newer GPUs; the SASS
# runs on R450+ (A100) / R520+ (sm_90).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
NVCC=${NVCC:-nvcc}
want="release 11.8"
if ! "$NVCC" --version 2>/dev/null | grep -q "$want"; then
    echo "build-fatbin: need nvcc 11.8 (Debian nvidia-cuda-toolkit); found: $("$NVCC" --version 2>/dev/null | tail -1 || echo none)" >&2
    exit 3
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# No -G/-lineinfo and no fast math (CPU parity). The output is byte-stable for one nvcc.
"$NVCC" --fatbin -O3 -std=c++14 -Xptxas -warn-spills \
    -gencode arch=compute_80,code=sm_80 \
    -gencode 'arch=compute_90,code=[sm_90,compute_90]' \
    -o "$tmp/kernels.fatbin" "$root/cuda/kernels.cu"
if [ "${1:-}" = "--check" ]; then
    if cmp -s "$tmp/kernels.fatbin" "$root/cuda/kernels.fatbin"; then
        echo "build-fatbin: cuda/kernels.fatbin matches cuda/kernels.cu"
        exit 0
    fi
    echo "build-fatbin: cuda/kernels.fatbin is stale: run scripts/build-fatbin.sh and commit it" >&2
    exit 1
fi
cp "$tmp/kernels.fatbin" "$root/cuda/kernels.fatbin"
ls -l "$root/cuda/kernels.fatbin"
