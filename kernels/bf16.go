package kernels

/*
#cgo CFLAGS: -std=c11 -O3 -Wall -Wextra
#include "bf16.h"
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// ToBF16 rounds src to bfloat16 (the upper 16 bits of a float32), to nearest with ties to even,
// into dst[:len(src)]: ±Inf stay ±Inf, finite values beyond the largest bf16 become ±Inf, NaN
// stays NaN. Bitwise the same on every code path.
func ToBF16(dst []uint16, src []float32) {
	if len(src) == 0 {
		return
	}
	need("ToBF16 dst", len(dst), len(src))
	C.tk_to_bf16((*C.uint16_t)(unsafe.Pointer(&dst[0])), (*C.float)(&src[0]), C.long(len(src)))
}

// FromBF16 widens src to float32 into dst[:len(src)] (exact).
func FromBF16(dst []float32, src []uint16) {
	if len(src) == 0 {
		return
	}
	need("FromBF16 dst", len(dst), len(src))
	C.tk_from_bf16((*C.float)(&dst[0]), (*C.uint16_t)(unsafe.Pointer(&src[0])), C.long(len(src)))
}

// PackBF16 rounds W [M, K] (row-major float32) to bfloat16 as ToBF16 does and stores it in
// RecurrentProductBF16's layout, M·K values in dst: in each row, each whole block of 32 columns
// k0 … k0+31 as 16 pairs (w[k0+i], w[k0+16+i]), i < 16, and the columns after the last whole
// block in order (so a 512-bit load widens to two float32 vectors with a shift and a mask, no
// shuffle). Rows are packed independently: rows j0 … j1 of W are dst[j0·K : j1·K].
func PackBF16(dst []uint16, src []float32, M, K int) {
	if M < 0 || K < 0 {
		panic(fmt.Sprintf("kernels: PackBF16 with M=%d K=%d", M, K))
	}
	if M == 0 || K == 0 {
		return
	}
	need("PackBF16 src", len(src), M*K)
	need("PackBF16 dst", len(dst), M*K)
	C.tk_pack_bf16((*C.uint16_t)(unsafe.Pointer(&dst[0])), (*C.float)(&src[0]), C.long(M), C.long(K))
}

// UnpackBF16 widens a PackBF16 matrix back to float32 W [M, K] (exact).
func UnpackBF16(dst []float32, src []uint16, M, K int) {
	if M < 0 || K < 0 {
		panic(fmt.Sprintf("kernels: UnpackBF16 with M=%d K=%d", M, K))
	}
	if M == 0 || K == 0 {
		return
	}
	need("UnpackBF16 src", len(src), M*K)
	need("UnpackBF16 dst", len(dst), M*K)
	C.tk_unpack_bf16((*C.float)(&dst[0]), (*C.uint16_t)(unsafe.Pointer(&src[0])), C.long(M), C.long(K))
}

// RecurrentProductBF16 is RecurrentProduct with W [M, K] stored as bfloat16 in PackBF16's
// layout: y[r·M + j] = Σ_k x[r·K + k]·W[j, k] for r < a, j < M. The weights are widened to
// float32 in registers and accumulated in float32 exactly as RecurrentProduct does, so the
// result is bitwise RecurrentProduct's on UnpackBF16(w), on every code path (x is not rounded),
// and does not depend on a, the tile a row falls in, or a split of M (by rows of w). Unlike
// RecurrentProduct it is the faster choice for every a (there is no bf16 BLAS to fall back to),
// including on the generic path.
func RecurrentProductBF16(y []float32, w []uint16, M, K int, x []float32, a int) {
	if M < 0 || K < 0 || a < 0 {
		panic(fmt.Sprintf("kernels: RecurrentProductBF16 with M=%d K=%d a=%d", M, K, a))
	}
	if M == 0 || a == 0 {
		return
	}
	need("RecurrentProductBF16 y", len(y), a*M)
	if K == 0 {
		clear(y[:a*M])
		return
	}
	need("RecurrentProductBF16 w", len(w), M*K)
	need("RecurrentProductBF16 x", len(x), a*K)
	C.tk_recurrent_product_bf16((*C.float)(&y[0]), (*C.uint16_t)(unsafe.Pointer(&w[0])), C.long(M), C.long(K),
		(*C.float)(&x[0]), C.long(a))
}

// bf16DotAvailable reports whether recurrentProductBF16Dot may run (AVX512_BF16 CPUs).
func bf16DotAvailable() bool { return C.tk_bf16dp_available() != 0 }

// recurrentProductBF16Dot is an experiment kept for kernels/NOTES.md's comparison, not used by
// the library: RecurrentProductBF16 with AVX512_BF16's vdpbf16ps, which rounds x to bf16 too.
// The caller checks bf16DotAvailable and the sizes.
func recurrentProductBF16Dot(y []float32, w []uint16, M, K int, x []float32, a int) {
	need("recurrentProductBF16Dot y", len(y), a*M)
	need("recurrentProductBF16Dot w", len(w), M*K)
	need("recurrentProductBF16Dot x", len(x), a*K)
	C.tk_recurrent_product_bf16dp((*C.float)(&y[0]), (*C.uint16_t)(unsafe.Pointer(&w[0])), C.long(M), C.long(K),
		(*C.float)(&x[0]), C.long(a))
}
