//go:build !nohdf5

package core

// Attribute reads that gonum's wrapper gets wrong: its string read mallocs size+1 bytes without
// zeroing them, so a fixed-length string attribute (what h5py writes for np.bytes_) reads past
// its end into garbage; and it offers no way to check an attribute's class. These helpers call
// libhdf5 directly on gonum's attribute ids, under hdf5Mu like every other call.

// #cgo LDFLAGS: -lhdf5
// #cgo linux,!arm64 CFLAGS: -I/usr/lib/x86_64-linux-gnu/hdf5/serial/include
// #cgo linux,!arm64 LDFLAGS: -L/usr/lib/x86_64-linux-gnu/hdf5/serial/
// #cgo linux,arm64 CFLAGS: -I/usr/lib/aarch64-linux-gnu/hdf5/serial/include
// #cgo linux,arm64 LDFLAGS: -L/usr/lib/aarch64-linux-gnu/hdf5/serial/
// #include <stdlib.h>
// #include <string.h>
// #include "hdf5.h"
//
// static int lt_attr_class(hid_t a) {
// 	hid_t t = H5Aget_type(a);
// 	if (t < 0) return -1;
// 	int c = (int)H5Tget_class(t);
// 	H5Tclose(t);
// 	return c;
// }
//
// /* A string attribute of one element (fixed or variable length) as a malloc'd NUL-terminated
//    copy; *status: 0 ok, -1 read failed, -2 not a string, -3 not one element, -4 too long. */
// static char *lt_attr_string(hid_t a, int *status) {
// 	char *out = NULL;
// 	hid_t ft = H5Aget_type(a);
// 	if (ft < 0) { *status = -1; return NULL; }
// 	if (H5Tget_class(ft) != H5T_STRING) { H5Tclose(ft); *status = -2; return NULL; }
// 	hid_t sp = H5Aget_space(a);
// 	hssize_t np = sp < 0 ? -1 : H5Sget_simple_extent_npoints(sp);
// 	if (sp >= 0) H5Sclose(sp);
// 	if (np != 1) { H5Tclose(ft); *status = -3; return NULL; }
// 	*status = -1;
// 	if (H5Tis_variable_str(ft) > 0) {
// 		char *s = NULL;
// 		if (H5Aread(a, ft, &s) >= 0 && s != NULL) {
// 			size_t n = strlen(s);
// 			out = malloc(n + 1);
// 			if (out) { memcpy(out, s, n + 1); *status = 0; }
// 			H5free_memory(s);
// 		}
// 	} else {
// 		size_t n = H5Tget_size(ft);
// 		if (n > ((size_t)1 << 26)) { H5Tclose(ft); *status = -4; return NULL; }
// 		out = calloc(n + 1, 1);
// 		if (out && H5Aread(a, ft, out) >= 0) *status = 0;
// 		else { free(out); out = NULL; }
// 	}
// 	H5Tclose(ft);
// 	return out;
// }
import "C"

import (
	"unsafe"

	"gonum.org/v1/hdf5"
)

// h5AttrClass is the type class of an attribute (hdf5.T_INTEGER, T_STRING, …), or T_NO_CLASS.
func h5AttrClass(a *hdf5.Attribute) hdf5.TypeClass {
	return hdf5.TypeClass(C.lt_attr_class(C.hid_t(a.ID())))
}

// h5ReadStringAttr reads a one-element string attribute, fixed or variable length.
func h5ReadStringAttr(a *hdf5.Attribute, name string) (string, error) {
	var status C.int
	p := C.lt_attr_string(C.hid_t(a.ID()), &status)
	switch status {
	case 0:
		defer C.free(unsafe.Pointer(p))
		return C.GoString(p), nil
	case -2:
		return "", Errf(KindFormat, "attribute %q must be a string", name)
	case -3:
		return "", Errf(KindFormat, "attribute %q must be one string", name)
	case -4:
		return "", Errf(KindFormat, "attribute %q is longer than 64 MiB", name)
	}
	return "", Errf(KindFormat, "attribute %q: unreadable string", name)
}
