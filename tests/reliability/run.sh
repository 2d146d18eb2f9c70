#!/usr/bin/env bash
# Reliability suite (issue 8; docs/RELIABILITY.md): bad-input matrices in C and Python, HDF5
# layouts, concurrency, SIGKILL during saves and training, full file system, RSS over cycles,
# a host SIGINT handler; in --full mode also the C/C++ suites under AddressSanitizer/LeakSanitizer
# and valgrind, the Go race detector on the concurrency tests, and every fuzzer for 5 minutes.
#
#   tests/reliability/run.sh [--quick | --full] [--lib PATH/libtemporal.so.1] [--fuzztime 300s]
#
# --quick (default): deterministic pass/fail (no wall-clock asserts), about a minute.
# --full: the measurements of docs/RELIABILITY.md (about 45 minutes on 2 cores).
# The library: --lib, else $TEMPORAL_LIBRARY, else build/lib/libtemporal.so.1 (built with
# scripts/build-lib.sh build/lib when missing or older than a source file). Work files go to $TMPDIR/libtemporal-rel-$$.
# Prints one line per check and ends with "N passed, N failed"; exit status 1 if any failed.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/tests/reliability"
mode=quick
lib=${TEMPORAL_LIBRARY:-}
fuzztime=300s
while [ $# -gt 0 ]; do
    case "$1" in
    --quick) mode=quick ;;
    --full) mode=full ;;
    --lib) lib=$2; shift ;;
    --fuzztime) fuzztime=$2; shift ;;
    *) echo "usage: $0 [--quick|--full] [--lib PATH] [--fuzztime DURATION]" >&2; exit 2 ;;
    esac
    shift
done
if [ -z "$lib" ]; then
    lib="$root/build/lib/libtemporal.so.1"
    stale=
    [ -f "$lib" ] && stale=$(find "$root/capi" "$root/core" "$root/kernels" "$root/cuda" "$root/include" \
        "$root/internal" "$root/go.mod" -newer "$lib" ! -name '*_test.go' \( -name '*.go' -o -name '*.c' -o -name '*.h' \
        -o -name '*.s' -o -name '*.fatbin' -o -name 'go.mod' -o -name 'exports.map' \) 2>/dev/null | head -1)
    if [ ! -f "$lib" ] || [ -n "$stale" ]; then
        echo "building $lib${stale:+ (older than $stale)}"
        bash "$root/scripts/build-lib.sh" "$root/build/lib" || { echo "0 passed, 1 failed"; exit 1; }
    fi
fi
lib=$(readlink -f "$lib")
libdir=$(dirname "$lib")
# -ltemporal needs the unversioned name: give the linker a private directory with both.
work=$(mktemp -d "${TMPDIR:-/tmp}/libtemporal-rel-XXXXXX")
trap 'umount "$work/s-fs/mnt" 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$work/lib" "$work/bin"
ln -sf "$lib" "$work/lib/libtemporal.so.1"
ln -sf "$lib" "$work/lib/libtemporal.so"
data="$root/tests/data"

passed=0
failed=0
failures=()
# check NAME COMMAND...: runs it, logs to $work/NAME.log, prints the summary lines it printed.
check() {
    local name=$1
    shift
    local log="$work/$name.log"
    "$@" >"$log" 2>&1
    local rc=$?
    if [ $rc = 0 ]; then
        passed=$((passed + 1))
        echo "PASS $name"
    else
        failed=$((failed + 1))
        failures+=("$name")
        echo "FAIL $name (exit $rc)"
        tail -n 30 "$log" | sed 's/^/    /'
        return
    fi
    grep -E "^(badinput|badh5|threads|crash|rss|sigint|badinput\.py|fuzz|asan|valgrind|ok )[a-z ]*" "$log" |
        grep -v "checks, 0 failures$" | sed 's/^/    /'
}

cflags=(-std=c11 -O1 -g -Wall -Wextra -Werror -I"$root/include")
ldlib=(-L"$work/lib" -ltemporal -Wl,-rpath,"$work/lib" -lm -lpthread)
h5inc=/usr/include/hdf5/serial
h5lib=/usr/lib/x86_64-linux-gnu/hdf5/serial

build() { # build NAME [extra flags...]
    local name=$1
    shift
    gcc "${cflags[@]}" "$here/$name.c" -o "$work/bin/$name" "${ldlib[@]}" "$@"
}

compile_all() {
    local ok=0
    build badinput || ok=1
    build threads || ok=1
    build crash || ok=1
    build rss || ok=1
    gcc "${cflags[@]}" "$here/sigint.c" -o "$work/bin/sigint" -ldl -lpthread || ok=1
    if [ -f "$h5inc/hdf5.h" ]; then
        build badh5 -I"$h5inc" -L"$h5lib" -lhdf5 || ok=1
    fi
    return $ok
}

echo "libtemporal reliability ($mode): $lib"
check compile compile_all
B="$work/bin"
if [ $mode = quick ]; then
    check badinput "$B/badinput" "$data" "$work/s-bad" --repeat 20
    [ -x "$B/badh5" ] && check badh5 "$B/badh5" "$work/s-h5"
    check threads "$B/threads" 1
    check crash-save "$B/crash" save "$work/s-save" 8 1
    check crash-train "$B/crash" train "$work/s-train" 4 1
    check crash-fullfs "$B/crash" fullfs "$work/s-fs"
    check rss "$B/rss" "$data" 2000
    check sigint "$B/sigint" "$lib"
    check badinput.py env TEMPORAL_LIBRARY="$lib" PYTHONPATH="$root/bindings/python" \
        /usr/bin/python3 "$here/badinput.py" "$data" "$work/s-py" --repeat 20
else
    check badinput "$B/badinput" "$data" "$work/s-bad" --repeat 200
    [ -x "$B/badh5" ] && check badh5 "$B/badh5" "$work/s-h5"
    check threads "$B/threads" 10
    check crash-save "$B/crash" save "$work/s-save" 30 "$RANDOM"
    check crash-train "$B/crash" train "$work/s-train" 25 "$RANDOM"
    check crash-fullfs "$B/crash" fullfs "$work/s-fs"
    check rss "$B/rss" "$data" 10000
    check sigint "$B/sigint" "$lib"
    check badinput.py env TEMPORAL_LIBRARY="$lib" PYTHONPATH="$root/bindings/python" \
        /usr/bin/python3 "$here/badinput.py" "$data" "$work/s-py" --repeat 200
    # Sanitizers: the C and C++ suites and these programs under ASan/LSan, then valgrind.
    check asan bash "$here/sanitize.sh" asan "$lib" "$work/asan"
    check valgrind bash "$here/sanitize.sh" valgrind "$lib" "$work/valgrind"
    # Go: the concurrency-relevant packages under the race detector.
    check go-race bash -c "cd '$root' && go test -race -count=1 ./tests/reliability/race ./capi 2>&1 | tail -20"
    # Fuzzers, two at a time (a 2-core machine): each runs $fuzztime.
    check fuzz bash "$here/fuzz.sh" "$fuzztime" "$work/fuzz"
fi

echo "${passed} passed, ${failed} failed"
[ $failed = 0 ]
