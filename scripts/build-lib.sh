#!/bin/sh
# Builds libtemporal.so.1 (+ the libtemporal.so link) into OUTDIR.
#   scripts/build-lib.sh [--nohdf5] OUTDIR
# --nohdf5 builds with -tags nohdf5: the .so then needs only libc (DESIGN §7).
# The version script must be given by absolute path: Go runs the external link in a temporary
# directory (recipe §2). cgo's generated header (internal tgo_* names, not const-correct) is
# deleted: include/temporal.h is the only public header.
set -eu
tags=
if [ "${1:-}" = "--nohdf5" ]; then
    tags=nohdf5
    shift
fi
if [ $# -ne 1 ]; then
    echo "usage: $0 [--nohdf5] OUTDIR" >&2
    exit 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
cd "$root"
CGO_ENABLED=1 "${GO:-go}" build -buildmode=c-shared -trimpath ${tags:+-tags "$tags"} \
    -ldflags "-s -w -extldflags '-Wl,--version-script=$root/capi/exports.map -Wl,-soname,libtemporal.so.1'" \
    -o "$out/libtemporal.so.1" ./capi
rm -f "$out/libtemporal.so.h" "$out/libtemporal.h"
ln -sf libtemporal.so.1 "$out/libtemporal.so"
