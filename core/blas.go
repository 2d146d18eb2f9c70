package core

/*
#cgo CFLAGS: -I/usr/include/x86_64-linux-gnu/openblas-pthread -O2
#cgo linux,amd64 LDFLAGS: /usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.a
#include <cblas.h>
extern long tcore_gemv_thread_calls;
static long tcore_gemv_thread_count(void) { return __atomic_load_n(&tcore_gemv_thread_calls, __ATOMIC_RELAXED); }
*/
import "C"

import (
	"fmt"
	"strings"
	"sync"
)

// Float is the element type of every layer: float32 in production, float64 for the finite
// difference checks and the float64 parity fixtures (DESIGN §8).
type Float interface{ ~float32 | ~float64 }

var blasOnce sync.Once

// blasInit applies the thread setting on first use, never from init(): Go init runs
// concurrently with OpenBLAS's constructor in a c-shared library (capi recipe, pitfall 2).
func blasInit() { blasOnce.Do(func() { C.openblas_set_num_threads(1) }) }

// BLASInfo names the OpenBLAS core (kernel set) in use and its thread count, for benchmarks.
func BLASInfo() string {
	blasInit()
	return fmt.Sprintf("openblas core=%s threads=%d gemv_thread_calls=%d",
		C.GoString(C.openblas_get_corename()), int(C.openblas_get_num_threads()), int64(C.tcore_gemv_thread_count()))
}

// GemvThreadCalls counts calls into the multi-threaded gemv stub; it must stay 0.
func GemvThreadCalls() int64 { return int64(C.tcore_gemv_thread_count()) }

func need(what string, have, want int) {
	if have < want {
		panic(fmt.Sprintf("core: %s buffer has %d elements, needs %d", what, have, want))
	}
}

// gemm computes C[M,N] = alpha·A·op(B) + beta·C in row-major storage, where A is [M,K]
// (or [K,M] stored when transA) and op(B) is B [K,N] or, with transB, Bᵀ for B stored [N,K] —
// PyTorch's [out, in] weights are used with transB at no cost. Lengths are checked before the
// C call so a wrong size panics in Go (recoverable) instead of corrupting memory.
func gemm[T Float](transA, transB bool, M, N, K int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	gemmRoute(true, transA, transB, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc)
}

// gemmRows is gemm for a product over many rows (a whole batch's frames at once): there
// OpenBLAS's AVX-512 sgemm, which packs W once per block of rows, beats kernels.GemmNT, which
// streams W once per L2-sized block of rows (W of the LSTM layers is larger than L3 together).
// Without OpenBLAS's AVX-512 kernels (the Haswell preset, AVX2 machines) GemmNT is the faster one
// and gemmRows is gemm.
func gemmRows[T Float](transA, transB bool, M, N, K int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	kernel := !blasAVX512()
	if rowsRoute != 0 {
		kernel = rowsRoute == 2
	}
	gemmRoute(kernel, transA, transB, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc)
}

// rowsRoute overrides gemmRows's choice for tests: 0 automatic, 1 OpenBLAS, 2 gemm's own route.
var rowsRoute = 0

var (
	blasWideOnce sync.Once
	blasWide     bool
)

// blasAVX512 reports whether OpenBLAS runs one of its AVX-512 sgemm kernel sets (OpenBLAS 0.3.21
// names SkylakeX, Cooperlake and SapphireRapids; it picks Cooperlake on AVX-512 BF16 AMD CPUs).
func blasAVX512() bool {
	blasWideOnce.Do(func() {
		blasInit()
		switch strings.ToLower(C.GoString(C.openblas_get_corename())) {
		case "skylakex", "cooperlake", "sapphirerapids":
			blasWide = true
		}
	})
	return blasWide
}

// gemmRoute is gemm; kernel allows the kernels.GemmNT route (gemmKernel) for x·Wᵀ products.
func gemmRoute[T Float](kernel, transA, transB bool, M, N, K int, alpha T, a []T, lda int, b []T, ldb int, beta T,
	c []T, ldc int) {
	if M == 0 || N == 0 {
		return
	}
	ar, br := M, K
	if transA {
		ar = K
	}
	if transB {
		br = N
	}
	if K > 0 {
		need("gemm A", len(a), (ar-1)*lda+ldaCols(transA, M, K))
		need("gemm B", len(b), (br-1)*ldb+ldaCols(transB, K, N))
	}
	need("gemm C", len(c), (M-1)*ldc+N)
	blasInit()
	ta, tb := C.enum_CBLAS_TRANSPOSE(C.CblasNoTrans), C.enum_CBLAS_TRANSPOSE(C.CblasNoTrans)
	if transA {
		ta = C.CblasTrans
	}
	if transB {
		tb = C.CblasTrans
	}
	if K == 0 {
		scale(c, M, N, ldc, beta)
		return
	}
	switch cs := any(c).(type) {
	case []float32:
		as, bs := any(a).([]float32), any(b).([]float32)
		if kernel && gemmKernel(transA, transB, M, N, K, float32(alpha), as, lda, bs, ldb, float32(beta), cs, ldc) {
			return
		}
		C.cblas_sgemm(C.CblasRowMajor, ta, tb, C.blasint(M), C.blasint(N), C.blasint(K), C.float(alpha),
			(*C.float)(&as[0]), C.blasint(lda), (*C.float)(&bs[0]), C.blasint(ldb), C.float(beta), (*C.float)(&cs[0]), C.blasint(ldc))
	case []float64:
		as, bs := any(a).([]float64), any(b).([]float64)
		C.cblas_dgemm(C.CblasRowMajor, ta, tb, C.blasint(M), C.blasint(N), C.blasint(K), C.double(alpha),
			(*C.double)(&as[0]), C.blasint(lda), (*C.double)(&bs[0]), C.blasint(ldb), C.double(beta), (*C.double)(&cs[0]), C.blasint(ldc))
	default:
		panic("core: gemm on a named float type")
	}
}

// ldaCols is how many columns a row of a stored operand spans.
func ldaCols(trans bool, rows, cols int) int {
	if trans {
		return rows
	}
	return cols
}

func scale[T Float](c []T, M, N, ldc int, beta T) {
	for i := 0; i < M; i++ {
		row := c[i*ldc : i*ldc+N]
		for j := range row {
			if beta == 0 {
				row[j] = 0
			} else {
				row[j] *= beta
			}
		}
	}
}

// gemv computes y[M] = alpha·A·x + beta·y for A [M,N] row-major (PyTorch's [out, in]): the
// batch-1 recurrent product, where sgemv streams the matrix once (DESIGN §7).
func gemv[T Float](M, N int, alpha T, a []T, lda int, x []T, beta T, y []T) {
	if M == 0 {
		return
	}
	need("gemv A", len(a), (M-1)*lda+N)
	need("gemv x", len(x), N)
	need("gemv y", len(y), M)
	if N == 0 {
		scale(y, 1, M, M, beta)
		return
	}
	blasInit()
	switch ys := any(y).(type) {
	case []float32:
		as, xs := any(a).([]float32), any(x).([]float32)
		C.cblas_sgemv(C.CblasRowMajor, C.CblasNoTrans, C.blasint(M), C.blasint(N), C.float(alpha),
			(*C.float)(&as[0]), C.blasint(lda), (*C.float)(&xs[0]), 1, C.float(beta), (*C.float)(&ys[0]), 1)
	case []float64:
		as, xs := any(a).([]float64), any(x).([]float64)
		C.cblas_dgemv(C.CblasRowMajor, C.CblasNoTrans, C.blasint(M), C.blasint(N), C.double(alpha),
			(*C.double)(&as[0]), C.blasint(lda), (*C.double)(&xs[0]), 1, C.double(beta), (*C.double)(&ys[0]), 1)
	default:
		panic("core: gemv on a named float type")
	}
}
