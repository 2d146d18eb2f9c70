#!/usr/bin/env bash
# The C and C++ test suites (tests/c, tests/cpp) and the reliability programs under a memory
# checker (docs/RELIABILITY.md):
#
#   sanitize.sh asan     LIB WORKDIR   AddressSanitizer + LeakSanitizer + UBSan (gcc's runtime,
#                                      Debian's gcc 12: no clang needed) on the host programs;
#                                      suppressions: lsan.supp
#   sanitize.sh valgrind LIB WORKDIR   valgrind memcheck with full leak checking on an
#                                      unstripped build of the library (Go frames need symbols
#                                      for valgrind-go.supp)
#
# LIB is the library (libtemporal.so.1) the asan mode runs against; valgrind mode builds its own
# unstripped copy from this checkout. Prints "<tool>: <program>: ..." lines; exit 1 on any error.
set -uo pipefail
mode=$1
lib=$(readlink -f "$2")
work=$3
root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/tests/reliability"
data="$root/tests/data"
mkdir -p "$work/lib" "$work/bin" "$work/scratch"
status=0
h5inc=/usr/include/hdf5/serial
h5lib=/usr/lib/x86_64-linux-gnu/hdf5/serial

if [ "$mode" = valgrind ]; then
    # Same build as scripts/build-lib.sh, without -s -w (symbols for the suppressions).
    (cd "$root" && CGO_ENABLED=1 go build -buildmode=c-shared -trimpath \
        -ldflags "-extldflags '-Wl,--version-script=$root/capi/exports.map -Wl,-soname,libtemporal.so.1'" \
        -o "$work/lib/libtemporal.so.1" ./capi) || exit 1
    rm -f "$work/lib/libtemporal.so.h"
else
    ln -sf "$lib" "$work/lib/libtemporal.so.1"
fi
ln -sf libtemporal.so.1 "$work/lib/libtemporal.so"
L="$work/lib"

san=()
if [ "$mode" = asan ]; then
    san=(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=0
    export LSAN_OPTIONS=suppressions=$here/lsan.supp:print_suppressions=0
    export UBSAN_OPTIONS=print_stacktrace=1
fi
cc() { # cc OUT SRC... [flags]
    local out=$1
    shift
    gcc -std=c11 -g -O1 "${san[@]}" -I"$root/include" -I"$root/tests/c" "$@" -o "$work/bin/$out" \
        -L"$L" -ltemporal -Wl,-rpath,"$L" -lm -lpthread
}
cxx() {
    local out=$1
    shift
    g++ -std=c++17 -g -O1 "${san[@]}" -I"$root/include" -I"$root/bindings/cpp" \
        -DTEMPORAL_TEST_DATA="\"$data\"" "$@" -o "$work/bin/$out" \
        -L"$L" -ltemporal -Wl,-rpath,"$L" -lgtest -lgtest_main -lpthread
}

cc test_capi "$root/tests/c/test_capi.c" || status=1
cc test_dlopen "$root/tests/c/test_dlopen.c" -ldl || status=1
[ -f "$root/tests/c/test_train.c" ] && { cc test_train "$root/tests/c/test_train.c" || status=1; }
cxx test_cpp "$root"/tests/cpp/*.cpp || status=1
for p in badinput threads rss crash; do cc "$p" "$here/$p.c" || status=1; done
[ -f "$h5inc/hdf5.h" ] && { cc badh5 "$here/badh5.c" -I"$h5inc" -L"$h5lib" -lhdf5 || status=1; }

B="$work/bin"
S="$work/scratch"
run() { # run NAME ARGS...: under the tool; its own exit status must be 0 and the tool clean
    local name=$1
    shift
    local log="$work/$name.log"
    if [ "$mode" = valgrind ]; then
        REL_NO_WILD=1 valgrind --suppressions="$here/valgrind-go.supp" --error-exitcode=99 --leak-check=full \
            --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
            --num-callers=30 "$@" >"$log" 2>&1
    else
        "$@" >"$log" 2>&1
    fi
    local rc=$?
    local summary
    if [ "$mode" = valgrind ]; then
        summary=$(grep -E "ERROR SUMMARY|definitely lost" "$log" | sed -E 's/==[0-9]+== +//' | tr '\n' ' ')
    else
        summary="$(grep -c -E "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$log") sanitizer reports"
    fi
    if [ $rc = 0 ]; then
        echo "$mode: $name: clean ($summary)"
    else
        status=1
        echo "$mode: $name: FAILED (exit $rc; $summary)"
        grep -E -A25 "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|^==[0-9]+== (Invalid|Conditional|Use of|Syscall|[0-9,]+ bytes in)" "$log" | head -60
        tail -5 "$log"
    fi
}

run test_capi "$B/test_capi" "$data" "$S/capi"
run test_dlopen "$B/test_dlopen" "$L/libtemporal.so.1" "$data"
[ -x "$B/test_train" ] && run test_train "$B/test_train" "$S/train"
run test_cpp "$B/test_cpp"
run badinput "$B/badinput" "$data" "$S/bad"
[ -x "$B/badh5" ] && run badh5 "$B/badh5" "$S/h5"
if [ "$mode" = valgrind ]; then
    run threads "$B/threads" 1
    run rss "$B/rss" "$data" 200
else
    run threads "$B/threads" 2
    run rss "$B/rss" "$data" 1000
    run crash-save "$B/crash" save "$S/save" 3 1
fi
exit $status
