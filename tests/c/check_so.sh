#!/bin/sh
# Checks the built library's ELF properties (capi recipe §7):
#   check_so.sh LIBRARY [--libc-only]
# - only temporal_* symbols are exported (nm -D --defined-only);
# - the TLS segment is at most 64 bytes (a bigger one breaks dlopen: static TLS);
# - the soname is libtemporal.so.1;
# - with --libc-only (the nohdf5 build): NEEDED is libc.so.6, plus at most libm.so.6 (glibc's
#   own; core/schedule.go uses libm's cos for bit parity with Python), and no gfortran symbols.
#   ld-linux-x86-64.so.2 in NEEDED means some object uses __tls_get_addr (dynamic TLS).
set -u
lib=$1
libc_only=${2:-}
fail=0
say() { echo "check_so: $*" >&2; fail=1; }

extra=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -v '^temporal_')
[ -z "$extra" ] || say "exported symbols outside temporal_*: $(echo "$extra" | head -5 | tr '\n' ' ')"
n=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -c '^temporal_')
[ "$n" -ge 15 ] || say "only $n temporal_* symbols exported"

tls=$(readelf -lW "$lib" | awk '$1 == "TLS" {print $6}')
if [ -n "$tls" ] && [ $((tls)) -gt 64 ]; then
    say "TLS segment MemSiz $tls > 64 bytes (dlopen would fail: cannot allocate memory in static TLS block)"
fi

soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "libtemporal.so.1" ] || say "soname is '$soname', want libtemporal.so.1"

if [ "$libc_only" = "--libc-only" ]; then
    needed=$(readelf -d "$lib" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
    case "$needed" in
    "libc.so.6 " | "libm.so.6 libc.so.6 " | "libc.so.6 libm.so.6 ") ;;
    *) say "NEEDED is '$needed', want only libc.so.6 (and libm.so.6)" ;;
    esac
    if nm -D --undefined-only "$lib" | grep -q _gfortran_; then
        say "undefined _gfortran_ symbols"
    fi
fi
[ $fail -eq 0 ] && echo "check_so: $lib ok"
exit $fail
