// Command capi is the package main that `go build -buildmode=c-shared` turns into
// libtemporal.so.1. It translates only: C types in, calls into core, a status out. The public
// functions are defined in shim.c (which includes include/temporal.h, so the compiler checks
// the header against the implementation) and call the tgo_* exports of exports.go.
//
// Rules kept here (DESIGN §5): handles are validated integers (handles.go), every export runs
// under guard (panics and faults on caller memory become TEMPORAL_ERR_INTERNAL), every caller
// buffer is read or written from Go before any C code sees it (probe.go), sizes from the caller
// are checked before anything is allocated, and no Go pointer is handed to C.
package main

func main() {}
