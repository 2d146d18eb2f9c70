#!/usr/bin/env bash
# The whole test suite: Go (core, capi, CLI), C and C++ (CTest + GoogleTest), Python (pytest).
# What .ci/run and the README's second command run. Installs missing dependencies first.
# Prints each runner's summary; exits non-zero if any suite fails.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/install-deps.sh || exit 1

build=${TEMPORAL_BUILD_DIR:-$root/build}
status=0
step() { echo; echo "=== $* ==="; }
fail() { echo "FAILED: $*"; status=1; }

step "format and vet"
bad=$(gofmt -l core capi cmd internal kernels 2>/dev/null)
[ -z "$bad" ] || fail "gofmt: $bad"
go vet ./... || fail "go vet"

step "go test (race detector on; ./cuda/... without it)"
mkdir -p "$build"
# The cuda package's test binary hangs intermittently inside the race runtime's exit (racefini,
# seen twice for 7 and 10 minutes after every test had passed; its host emulation runs CUDA
# kernels on detached C++ worker threads), so it runs without -race; its Go code is also reached
# with -race through capi's tests.
pkgs=$(go list ./... | grep -v '/cuda')
{ go test -race -count=1 -timeout 15m $pkgs && go test -count=1 -timeout 10m ./cuda/...; } 2>&1 \
  | tee "$build/gotest.log" | grep -E "^(ok|FAIL|---|panic|\?)"
[ "${PIPESTATUS[0]}" = 0 ] || { tail -80 "$build/gotest.log"; fail "go test"; }

step "cmake build + ctest"
if [ -f CMakeLists.txt ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null || fail "cmake configure"
  cmake --build "$build" || fail "cmake build"
  ctest --test-dir "$build" --output-on-failure || fail "ctest"
fi

step "pytest"
lib=$(ls "$build"/lib/libtemporal.so.1 "$build"/libtemporal.so.1 2>/dev/null | head -1)
export TEMPORAL_LIBRARY=${lib:-}
export PYTHONPATH="$root/bindings/python${PYTHONPATH:+:$PYTHONPATH}"
/usr/bin/python3 -m pytest -q -p no:cacheprovider tests/parity tests/python
rc=$?
[ $rc = 0 ] || [ $rc = 5 ] || fail "pytest"

step "reliability (tests/reliability/run.sh --quick)"
bash tests/reliability/run.sh --quick ${lib:+--lib "$lib"} || fail "reliability"

echo
if [ $status = 0 ]; then echo "ALL SUITES PASSED"; else echo "SOME SUITES FAILED"; fi
exit $status
