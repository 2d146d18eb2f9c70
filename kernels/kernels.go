// Package kernels holds libtemporal's hot float32 CPU kernels in C (cgo): the multi-row
// recurrent product that streams an LSTM's W_hh once per step for every active clip, the fused
// LSTM cell, and vector sigmoid/tanh/exp. Each kernel has AVX-512, AVX2+FMA and portable
// (x86-64 baseline SSE2) code paths, chosen at run time from what the CPU and OS support, so the
// library runs on any x86-64. No libm: the nohdf5 library needs only libc.
//
// Determinism: the cell and the activations give bitwise the same results on every code path.
// The recurrent product's results depend on the code path (16, 8 or 4 lanes per accumulator)
// but not on the number of rows, the tile a row falls in, or how M is split over threads.
//
// Go checks every slice length before calling C, so a wrong size panics in Go.
package kernels

/*
#cgo CFLAGS: -std=c11 -O3 -Wall -Wextra
#include "kernels.h"
*/
import "C"

import "fmt"

// Code paths, lowest to highest.
const (
	Generic = int(C.TK_GENERIC) // SSE2, the x86-64 baseline
	AVX2    = int(C.TK_AVX2)    // AVX2 + FMA
	AVX512  = int(C.TK_AVX512)  // AVX-512 F/DQ/VL
)

// Detect returns the highest code path this CPU and OS support.
func Detect() int { return int(C.tk_detect()) }

// Level returns the code path in use (by default the highest supported).
func Level() int { return int(C.tk_level()) }

// SetLevel selects min(l, Detect()) for every later call (process-wide: for tests and
// benchmarks) and returns the level now in use.
func SetLevel(l int) int { return int(C.tk_set_level(C.int(l))) }

// LevelName names a code path.
func LevelName(l int) string {
	switch l {
	case Generic:
		return "generic"
	case AVX2:
		return "avx2"
	case AVX512:
		return "avx512"
	}
	return fmt.Sprintf("level(%d)", l)
}

// RecurrentMaxRows is the largest a for which RecurrentProduct is known to beat OpenBLAS (sgemv
// at a = 1, sgemm above) on the current code path, for W [3072, 768] (measured with both the
// Haswell and the AVX-512 OpenBLAS kernels: kernels/NOTES.md; AVX-512 still wins at 64, the
// largest a measured). A return of 0 means use BLAS for every a.
func RecurrentMaxRows() int {
	switch Level() {
	case AVX512:
		return 64
	case AVX2:
		return 8
	}
	return 0
}

func need(what string, have, want int) {
	if have < want {
		panic(fmt.Sprintf("kernels: %s has %d elements, needs %d", what, have, want))
	}
}

// RecurrentProduct computes y[r·M + j] = Σ_k x[r·K + k]·w[j·K + k] for r < a, j < M: the
// product x[a, K]·Wᵀ with W [M, K] row-major (PyTorch's [out, in] layout), streaming W once for
// all a rows. y is overwritten.
func RecurrentProduct(y, w []float32, M, K int, x []float32, a int) {
	if M < 0 || K < 0 || a < 0 {
		panic(fmt.Sprintf("kernels: RecurrentProduct with M=%d K=%d a=%d", M, K, a))
	}
	if M == 0 || a == 0 {
		return
	}
	need("RecurrentProduct y", len(y), a*M)
	if K == 0 {
		clear(y[:a*M])
		return
	}
	need("RecurrentProduct w", len(w), M*K)
	need("RecurrentProduct x", len(x), a*K)
	C.tk_recurrent_product((*C.float)(&y[0]), (*C.float)(&w[0]), C.long(M), C.long(K), (*C.float)(&x[0]), C.long(a))
}

// GemmNT computes y[r·ldy + j] = Σ_k x[r·ldx + k]·w[j·ldw + k] for r < a, j < M (y = x·Wᵀ for
// W [M, K] row-major, PyTorch's Linear layout), or y += x·Wᵀ with accumulate (the old y is added
// after the dot product). RecurrentProduct's kernel with strides: W is streamed once for all a
// rows, and each y[r, j] is computed the same way whatever a, M or a split of M.
func GemmNT(y []float32, ldy int, x []float32, ldx int, w []float32, ldw int, a, M, K int, accumulate bool) {
	if M < 0 || K < 0 || a < 0 || ldy < M || ldx < K || ldw < K {
		panic(fmt.Sprintf("kernels: GemmNT with a=%d M=%d K=%d ldy=%d ldx=%d ldw=%d", a, M, K, ldy, ldx, ldw))
	}
	if M == 0 || a == 0 {
		return
	}
	need("GemmNT y", len(y), (a-1)*ldy+M)
	if K == 0 {
		if !accumulate {
			for r := 0; r < a; r++ {
				clear(y[r*ldy : r*ldy+M])
			}
		}
		return
	}
	need("GemmNT x", len(x), (a-1)*ldx+K)
	need("GemmNT w", len(w), (M-1)*ldw+K)
	acc := C.int(0)
	if accumulate {
		acc = 1
	}
	C.tk_gemm_nt((*C.float)(&y[0]), C.long(ldy), (*C.float)(&x[0]), C.long(ldx), (*C.float)(&w[0]), C.long(ldw),
		C.long(a), C.long(M), C.long(K), acc)
}

// GemmNTRowBlock is how many rows of x one GemmNT call should take so that they stay in L2
// (a·K ≤ 128 Ki floats, a multiple of 4, at least 4) when GemmNT is expected to beat OpenBLAS
// sgemm for x·Wᵀ, and 0 when it is not: GemmNT is preferred on the AVX-512 path only. Taller
// products are done in blocks of this many rows; a row's result does not depend on the blocking.
// Measured against OpenBLAS's Haswell and AVX-512 (Cooperlake) kernels: kernels/NOTES.md.
func GemmNTRowBlock(K int) int {
	if Level() != AVX512 {
		return 0
	}
	return max(4, (128<<10)/max(K, 1)/4*4)
}

// LSTMCell is one LSTM step for H units: gates [4H] holds the input part of the pre-activations
// in PyTorch's gate order i, f, g, o (x·W_ihᵀ + b_ih + b_hh), rec [4H] the recurrent part
// (h·W_hhᵀ). It writes the activated gates σ(i), σ(f), tanh(g), σ(o) back into gates (the
// backward reads them), c = f·c + i·g and h = o·tanh(c).
func LSTMCell(gates, rec, c, h []float32, H int) {
	if H <= 0 {
		return
	}
	need("LSTMCell gates", len(gates), 4*H)
	need("LSTMCell rec", len(rec), 4*H)
	need("LSTMCell c", len(c), H)
	need("LSTMCell h", len(h), H)
	C.tk_lstm_cell((*C.float)(&gates[0]), (*C.float)(&rec[0]), (*C.float)(&c[0]), (*C.float)(&h[0]), C.long(H))
}

// Sigmoid writes σ(x[i]) into y[i] for i < len(x) (y may be x).
func Sigmoid(y, x []float32) {
	if len(x) == 0 {
		return
	}
	need("Sigmoid y", len(y), len(x))
	C.tk_sigmoid((*C.float)(&y[0]), (*C.float)(&x[0]), C.long(len(x)))
}

// Tanh writes tanh(x[i]) into y[i] for i < len(x) (y may be x).
func Tanh(y, x []float32) {
	if len(x) == 0 {
		return
	}
	need("Tanh y", len(y), len(x))
	C.tk_tanh((*C.float)(&y[0]), (*C.float)(&x[0]), C.long(len(x)))
}

// Exp writes e^x[i] into y[i] for i < len(x) (y may be x).
func Exp(y, x []float32) {
	if len(x) == 0 {
		return
	}
	need("Exp y", len(y), len(x))
	C.tk_exp((*C.float)(&y[0]), (*C.float)(&x[0]), C.long(len(x)))
}
