#!/usr/bin/env bash
# Runs every fuzzer of the library for DURATION each, two at a time (-parallel 1 each: a
# 2-core machine), and prints "fuzz: <target>: <execs> execs, ..., ok|CRASH". A crash leaves
# its input in the package's testdata/fuzz/<target>/ (commit it: it becomes a regression test).
#
#   fuzz.sh DURATION LOGDIR        e.g. fuzz.sh 300s /tmp/fuzz
set -uo pipefail
dur=${1:-300s}
logs=${2:-/tmp/libtemporal-fuzz}
root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$logs"
cd "$root"
targets=(
    "./core FuzzLoadBytes"
    "./core FuzzReadSafetensors"
    "./internal/npy FuzzRead"
    "./core FuzzHDF5Layout"
    "./core FuzzResume"
    "./capi FuzzCAPI"
    "./capi FuzzCAPITrain"
)
status=0
one() {
    local pkg=$1 name=$2
    go test "$pkg" -run '^$' -fuzz "^$name\$" -fuzztime "$dur" -fuzzminimizetime 2s -parallel 1 \
        >"$logs/$name.log" 2>&1
}
report() {
    local name=$1 rc=$2
    local last
    last=$(grep -E '^fuzz: elapsed' "$logs/$name.log" | tail -1)
    if [ "$rc" = 0 ]; then
        echo "fuzz: $name: ${last#fuzz: }, ok"
    else
        echo "fuzz: $name: ${last#fuzz: }, CRASH"
        grep -A15 -E -- "--- FAIL|panic" "$logs/$name.log" | head -30
        status=1
    fi
}
i=0
while [ $i -lt ${#targets[@]} ]; do
    read -r p1 n1 <<<"${targets[$i]}"
    one "$p1" "$n1" &
    pid1=$!
    pid2=
    if [ $((i + 1)) -lt ${#targets[@]} ]; then
        read -r p2 n2 <<<"${targets[$((i + 1))]}"
        one "$p2" "$n2" &
        pid2=$!
    fi
    wait $pid1
    report "$n1" $?
    if [ -n "$pid2" ]; then
        wait $pid2
        report "$n2" $?
    fi
    i=$((i + 2))
done
exit $status
