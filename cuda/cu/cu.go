// Package cu is libtemporal's door to the CUDA driver and cuBLAS: a cgo shim that needs only
// -ldl, dlopens libcuda.so.1 and cuBLAS at run time and declares the few CUDA types it uses, so
// nothing CUDA is needed to build the library and nothing CUDA is touched until a caller asks
// (DESIGN §6). Every call returns an error of kind core.KindDevice naming the CUDA or cuBLAS
// function and its status code.
//
// The package holds no state of its own beyond the loaded libraries: contexts, streams and
// threads are the caller's business (package cuda).
package cu

/*
#cgo CFLAGS: -std=c11 -O2 -Wall -Wextra
#cgo LDFLAGS: -ldl
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"sync"
	"unsafe"

	"libtemporal/core"
)

// Types of the driver and cuBLAS, opaque to Go.
type (
	Device   C.tc_device
	Context  C.tc_context
	Module   C.tc_module
	Function C.tc_function
	Stream   C.tc_stream
	Blas     C.tc_blas
	Ptr      uint64 // CUdeviceptr
)

// Error is a failed driver or cuBLAS call.
type Error struct {
	Call string // "cuMemAlloc_v2", "cublasSgemm_v2", ...
	Code int
	Blas bool
}

func (e *Error) Error() string {
	name := resultName(e.Code)
	if e.Blas {
		name = blasStatusName(e.Code)
	}
	return fmt.Sprintf("%s failed: %s (%d)", e.Call, name, e.Code)
}

// OutOfMemory reports whether the call failed for lack of device memory.
func (e *Error) OutOfMemory() bool {
	return (!e.Blas && e.Code == 2) || (e.Blas && e.Code == 3)
}

func check(call string, r C.tc_result) error {
	if r == 0 {
		return nil
	}
	return &core.Error{Kind: core.KindDevice, Err: &Error{Call: call, Code: int(r)}}
}

func checkBlas(call string, r C.tc_result) error {
	if r == 0 {
		return nil
	}
	return &core.Error{Kind: core.KindDevice, Err: &Error{Call: call, Code: int(r), Blas: true}}
}

// resultName names the CUresult codes libtemporal can meet (values from cuda.h).
func resultName(c int) string {
	switch c {
	case 1:
		return "CUDA_ERROR_INVALID_VALUE"
	case 2:
		return "CUDA_ERROR_OUT_OF_MEMORY"
	case 3:
		return "CUDA_ERROR_NOT_INITIALIZED"
	case 4:
		return "CUDA_ERROR_DEINITIALIZED"
	case 34:
		return "CUDA_ERROR_STUB_LIBRARY"
	case 35:
		return "CUDA_ERROR_INSUFFICIENT_DRIVER"
	case 46:
		return "CUDA_ERROR_DEVICES_UNAVAILABLE"
	case 100:
		return "CUDA_ERROR_NO_DEVICE"
	case 101:
		return "CUDA_ERROR_INVALID_DEVICE"
	case 200:
		return "CUDA_ERROR_INVALID_IMAGE"
	case 201:
		return "CUDA_ERROR_INVALID_CONTEXT"
	case 209:
		return "CUDA_ERROR_NO_BINARY_FOR_GPU"
	case 218:
		return "CUDA_ERROR_INVALID_PTX"
	case 222:
		return "CUDA_ERROR_UNSUPPORTED_PTX_VERSION"
	case 300:
		return "CUDA_ERROR_INVALID_SOURCE"
	case 400:
		return "CUDA_ERROR_INVALID_HANDLE"
	case 500:
		return "CUDA_ERROR_NOT_FOUND"
	case 700:
		return "CUDA_ERROR_ILLEGAL_ADDRESS"
	case 701:
		return "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES"
	case 702:
		return "CUDA_ERROR_LAUNCH_TIMEOUT"
	case 719:
		return "CUDA_ERROR_LAUNCH_FAILED"
	case 801:
		return "CUDA_ERROR_NOT_SUPPORTED"
	case 802:
		return "CUDA_ERROR_SYSTEM_NOT_READY"
	case 803:
		return "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH"
	case 804:
		return "CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE"
	case 999:
		return "CUDA_ERROR_UNKNOWN"
	}
	return "CUresult"
}

// blasStatusName names cublasStatus_t codes (values from cublas_api.h).
func blasStatusName(c int) string {
	switch c {
	case 1:
		return "CUBLAS_STATUS_NOT_INITIALIZED"
	case 3:
		return "CUBLAS_STATUS_ALLOC_FAILED"
	case 7:
		return "CUBLAS_STATUS_INVALID_VALUE"
	case 8:
		return "CUBLAS_STATUS_ARCH_MISMATCH"
	case 11:
		return "CUBLAS_STATUS_MAPPING_ERROR"
	case 13:
		return "CUBLAS_STATUS_EXECUTION_FAILED"
	case 14:
		return "CUBLAS_STATUS_INTERNAL_ERROR"
	case 15:
		return "CUBLAS_STATUS_NOT_SUPPORTED"
	case 16:
		return "CUBLAS_STATUS_LICENSE_ERROR"
	}
	return "cublasStatus_t"
}

const errCap = 4096

var driver struct {
	once sync.Once
	err  error
}

// LoadDriver dlopens libcuda.so.1, resolves every symbol and calls cuInit(0), once per process;
// later calls return the first call's result.
func LoadDriver() error {
	driver.once.Do(func() {
		buf := (*C.char)(C.malloc(errCap))
		defer C.free(unsafe.Pointer(buf))
		if C.tc_load_driver(buf, errCap) != 0 {
			driver.err = core.Errf(core.KindDevice, "CUDA driver not available: %s", C.GoString(buf))
			return
		}
		if err := check("cuInit", C.tc_init()); err != nil {
			driver.err = core.Wrap(core.KindDevice, err, "CUDA driver libcuda.so.1 loaded but not usable")
		}
	})
	return driver.err
}

// setDriverName replaces "libcuda.so.1" before LoadDriver's first call (tests: make the
// driver unloadable without touching the host).
func setDriverName(name string) {
	c := C.CString(name)
	defer C.free(unsafe.Pointer(c))
	C.tc_set_driver_name(c)
}

var blas struct {
	mu     sync.Mutex
	loaded bool
}

// LoadCublas dlopens cuBLAS: path when not empty (alone: no fall-back, so a wrong setting is
// reported rather than silently replaced), else libcublas.so.13, .12, .11 in that order. Once
// loaded it stays for the process and later calls return nil; a failed attempt may be retried
// (with another path, say).
func LoadCublas(path string) error {
	blas.mu.Lock()
	defer blas.mu.Unlock()
	if blas.loaded {
		return nil
	}
	buf := (*C.char)(C.malloc(errCap))
	defer C.free(unsafe.Pointer(buf))
	var cpath *C.char
	if path != "" {
		cpath = C.CString(path)
		defer C.free(unsafe.Pointer(cpath))
	}
	if C.tc_load_cublas(cpath, buf, errCap) != 0 {
		return core.Errf(core.KindDevice, "cuBLAS not available: %s", C.GoString(buf))
	}
	blas.loaded = true
	return nil
}

// CublasLoadedFrom is the name or path cuBLAS was loaded from ("" before).
func CublasLoadedFrom() string { return C.GoString(C.tc_cublas_loaded_from()) }

// DriverSymbols and CublasSymbols are the exact symbols the shim resolves.
func DriverSymbols() []string {
	var out []string
	for i := 0; C.tc_driver_symbol(C.int(i)) != nil; i++ {
		out = append(out, C.GoString(C.tc_driver_symbol(C.int(i))))
	}
	return out
}

func CublasSymbols() []string {
	var out []string
	for i := 0; C.tc_cublas_symbol(C.int(i)) != nil; i++ {
		out = append(out, C.GoString(C.tc_cublas_symbol(C.int(i))))
	}
	return out
}

// DriverSymbolResolved and CublasSymbolResolved report whether symbol i of a loaded library
// was resolved (false when the library is not loaded).
func DriverSymbolResolved(i int) bool { return C.tc_driver_symbol_resolved(C.int(i)) != 0 }
func CublasSymbolResolved(i int) bool { return C.tc_cublas_symbol_resolved(C.int(i)) != 0 }

// ---- driver calls (LoadDriver first) ----

func DeviceGet(ordinal int) (Device, error) {
	var d C.tc_device
	err := check("cuDeviceGet", C.tc_device_get(&d, C.int(ordinal)))
	return Device(d), err
}

func DeviceGetCount() (int, error) {
	var n C.int
	err := check("cuDeviceGetCount", C.tc_device_get_count(&n))
	return int(n), err
}

func DeviceGetName(d Device) (string, error) {
	buf := (*C.char)(C.malloc(256))
	defer C.free(unsafe.Pointer(buf))
	*buf = 0
	if err := check("cuDeviceGetName", C.tc_device_get_name(buf, 256, C.tc_device(d))); err != nil {
		return "", err
	}
	return C.GoString(buf), nil
}

// MemGetInfo is the free and total memory of the current context's device.
func MemGetInfo() (free, total uint64, err error) {
	var f, t C.size_t
	err = check("cuMemGetInfo_v2", C.tc_mem_get_info(&f, &t))
	return uint64(f), uint64(t), err
}

func PrimaryCtxRetain(d Device) (Context, error) {
	var c C.tc_context
	err := check("cuDevicePrimaryCtxRetain", C.tc_primary_ctx_retain(&c, C.tc_device(d)))
	return Context(c), err
}

func PrimaryCtxRelease(d Device) error {
	return check("cuDevicePrimaryCtxRelease_v2", C.tc_primary_ctx_release(C.tc_device(d)))
}

func CtxSetCurrent(c Context) error {
	return check("cuCtxSetCurrent", C.tc_ctx_set_current(C.tc_context(c)))
}

// ModuleLoad loads a fatbin (or cubin/PTX) image; the JIT error log, if any, is in the error.
func ModuleLoad(image []byte) (Module, error) {
	if len(image) == 0 {
		return nil, core.Errf(core.KindDevice, "cuModuleLoadDataEx: empty kernel image")
	}
	img := cImage(image)
	logBuf := (*C.char)(C.malloc(errCap))
	defer C.free(unsafe.Pointer(logBuf))
	var m C.tc_module
	if err := check("cuModuleLoadDataEx", C.tc_module_load(&m, img, logBuf, errCap)); err != nil {
		if l := C.GoString(logBuf); l != "" {
			return nil, core.Wrap(core.KindDevice, err, "loading libtemporal's kernels (JIT log: %s)", l)
		}
		return nil, core.Wrap(core.KindDevice, err, "loading libtemporal's kernels")
	}
	return Module(m), nil
}

// images keeps one C copy of each kernel image for the life of the process: with lazy module
// loading (CUDA 12.2+'s default) the driver may read the image after cuModuleLoadDataEx returns,
// and a fatbin of some hundred KiB is not worth the risk.
var images struct {
	sync.Mutex
	m map[*byte]unsafe.Pointer
}

func cImage(image []byte) unsafe.Pointer {
	images.Lock()
	defer images.Unlock()
	if p, ok := images.m[&image[0]]; ok {
		return p
	}
	if images.m == nil {
		images.m = make(map[*byte]unsafe.Pointer)
	}
	p := C.CBytes(image)
	images.m[&image[0]] = p
	return p
}

func ModuleUnload(m Module) error {
	return check("cuModuleUnload", C.tc_module_unload(C.tc_module(m)))
}

func ModuleGetFunction(m Module, name string) (Function, error) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var f C.tc_function
	if err := check("cuModuleGetFunction", C.tc_module_get_function(&f, C.tc_module(m), cname)); err != nil {
		return nil, core.Wrap(core.KindDevice, err, "kernel %s", name)
	}
	return Function(f), nil
}

// MemAlloc allocates n float32 values of device memory.
func MemAlloc(bytes uint64) (Ptr, error) {
	var p C.tc_ptr
	if err := check("cuMemAlloc_v2", C.tc_mem_alloc(&p, C.size_t(bytes))); err != nil {
		return 0, core.Wrap(core.KindDevice, err, "allocating %d bytes of device memory", bytes)
	}
	return Ptr(p), nil
}

func MemFree(p Ptr) error { return check("cuMemFree_v2", C.tc_mem_free(C.tc_ptr(p))) }

// CopyFloatsHtoD and the other copies take Go slices: the driver reads or writes them during
// the call only, and they hold no Go pointers (cgo's rules allow that).
func CopyFloatsHtoD(dst Ptr, src []float32) error {
	if len(src) == 0 {
		return nil
	}
	return check("cuMemcpyHtoD_v2", C.tc_memcpy_htod(C.tc_ptr(dst), unsafe.Pointer(&src[0]), C.size_t(4*len(src))))
}

func CopyInt32sHtoD(dst Ptr, src []int32) error {
	if len(src) == 0 {
		return nil
	}
	return check("cuMemcpyHtoD_v2", C.tc_memcpy_htod(C.tc_ptr(dst), unsafe.Pointer(&src[0]), C.size_t(4*len(src))))
}

func CopyFloatsDtoH(dst []float32, src Ptr) error {
	if len(dst) == 0 {
		return nil
	}
	return check("cuMemcpyDtoH_v2", C.tc_memcpy_dtoh(unsafe.Pointer(&dst[0]), C.tc_ptr(src), C.size_t(4*len(dst))))
}

func StreamCreate() (Stream, error) {
	var s C.tc_stream
	err := check("cuStreamCreate", C.tc_stream_create(&s))
	return Stream(s), err
}

func StreamDestroy(s Stream) error {
	return check("cuStreamDestroy_v2", C.tc_stream_destroy(C.tc_stream(s)))
}

func StreamSynchronize(s Stream) error {
	return check("cuStreamSynchronize", C.tc_stream_synchronize(C.tc_stream(s)))
}

// ---- cuBLAS (LoadCublas first) ----

// Math modes (cublasMath_t).
const (
	DefaultMath = 0 // CUBLAS_DEFAULT_MATH: full float32, no TF32
	TF32Math    = 3 // CUBLAS_TF32_TENSOR_OP_MATH
)

func BlasCreate() (Blas, error) {
	var h C.tc_blas
	err := checkBlas("cublasCreate_v2", C.tc_blas_create(&h))
	return Blas(h), err
}

func BlasDestroy(h Blas) error {
	return checkBlas("cublasDestroy_v2", C.tc_blas_destroy(C.tc_blas(h)))
}

func BlasSetStream(h Blas, s Stream) error {
	return checkBlas("cublasSetStream_v2", C.tc_blas_set_stream(C.tc_blas(h), C.tc_stream(s)))
}

func BlasSetMathMode(h Blas, mode int) error {
	return checkBlas("cublasSetMathMode", C.tc_blas_set_math_mode(C.tc_blas(h), C.int(mode)))
}

func op(t bool) C.int {
	if t {
		return 1 // CUBLAS_OP_T
	}
	return 0 // CUBLAS_OP_N
}

// RowMajor maps a row-major product C[M, N] = op(A)·op(B) (A [M, K], or [K, M] when transA;
// likewise B), the convention of core's gemm, onto cublasSgemm's column-major arguments.
// A row-major matrix read column-major is its transpose, so cuBLAS computes Cᵀ = op(B)ᵀ·op(A)ᵀ:
// the operands swap (B first, with ldb; then A, with lda) and keep their transpose flags. For a
// Linear, Y[M, O] = X[M, I]·Wᵀ with PyTorch's W [O, I] is RowMajor(false, true, M, O, I):
// cublasSgemm(T, N, O, M, I, W, I, X, I, Y, O) — DESIGN §6's mapping.
func RowMajor(transA, transB bool, M, N, K int) (opFirst, opSecond bool, m, n, k int) {
	return transB, transA, N, M, K
}

// Gemm is row-major C = alpha·op(A)·op(B) + beta·C on device memory (see RowMajor).
func Gemm(h Blas, transA, transB bool, M, N, K int, alpha float32, A Ptr, lda int, B Ptr, ldb int,
	beta float32, Cm Ptr, ldc int) error {
	o1, o2, m, n, k := RowMajor(transA, transB, M, N, K)
	return checkBlas("cublasSgemm_v2", C.tc_sgemm(C.tc_blas(h), op(o1), op(o2), C.int(m), C.int(n), C.int(k),
		C.float(alpha), C.tc_ptr(B), C.int(ldb), C.tc_ptr(A), C.int(lda), C.float(beta), C.tc_ptr(Cm), C.int(ldc)))
}

// GemmStridedBatched is Gemm over batch problems whose operands are sA, sB, sC floats apart.
func GemmStridedBatched(h Blas, transA, transB bool, M, N, K int, alpha float32, A Ptr, lda int, sA int64,
	B Ptr, ldb int, sB int64, beta float32, Cm Ptr, ldc int, sC int64, batch int) error {
	o1, o2, m, n, k := RowMajor(transA, transB, M, N, K)
	return checkBlas("cublasSgemmStridedBatched", C.tc_sgemm_strided_batched(C.tc_blas(h), op(o1), op(o2),
		C.int(m), C.int(n), C.int(k), C.float(alpha), C.tc_ptr(B), C.int(ldb), C.longlong(sB), C.tc_ptr(A),
		C.int(lda), C.longlong(sA), C.float(beta), C.tc_ptr(Cm), C.int(ldc), C.longlong(sC), C.int(batch)))
}
