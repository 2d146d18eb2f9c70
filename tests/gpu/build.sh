#!/bin/sh
# Builds, here (where Go is), everything tests/gpu/run_gpu_checks.sh needs on the GPU machine
# (which has no Go toolchain), into tests/gpu/build/ (ignored by git; carried with the call):
#   lib/libtemporal.so.1   the nohdf5 library (needs only libc, no CUDA library)
#   cuda.test              the cuda package's Go tests (GPU parity, shapes, concurrency, device
#                          lifecycle), run in cuda/ there
#   gpu_smoke              the C API smoke test (also the compute-sanitizer target)
# Large files are gzipped (the carried tree is limited to 64 MiB); the run script unpacks them.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$root/tests/gpu/build
rm -rf "$out"
mkdir -p "$out/lib"
cd "$root"
scripts/build-lib.sh --nohdf5 "$out/lib"
# The CUDA backend is dlopened: no CUDA library may appear among the library's needs.
if readelf -d "$out/lib/libtemporal.so.1" | grep NEEDED | grep -Eiq 'cuda|cublas|nvidia'; then
    readelf -d "$out/lib/libtemporal.so.1" | grep NEEDED
    echo "build.sh: libtemporal.so.1 links a CUDA library" >&2
    exit 1
fi
readelf -d "$out/lib/libtemporal.so.1" | grep NEEDED
CGO_ENABLED=1 ${GO:-go} test -c -tags nohdf5 -trimpath -ldflags "-s -w" -o "$out/cuda.test" ./cuda
${CC:-cc} -std=c99 -O2 -Wall -Wextra -Werror -Iinclude -Itests/c tests/gpu/gpu_smoke.c -o "$out/gpu_smoke" \
    -L"$out/lib" -ltemporal -lm -Wl,-rpath,'$ORIGIN/lib'
git rev-parse HEAD > "$out/commit.txt"
git status --short >> "$out/commit.txt"
gzip -9 "$out/lib/libtemporal.so.1" "$out/cuda.test"
du -ab "$out" | sort -n | tail -5
