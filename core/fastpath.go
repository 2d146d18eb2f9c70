package core

import "libtemporal/kernels"

// The float32 fast path of the LSTM recurrence (issue 5): the hooks that lstmDirectionForward's
// step loop calls. The float64 instantiation (finite-difference checks, float64 fixtures) keeps
// the generic BLAS + Go code.

// recurrentStep computes rec[a, G] = h[a, H]·W_hhᵀ for the a clips still active. float32 with
// a ≤ kernels.RecurrentMaxRows(): the kernels' multi-row product, which streams W_hh once for all
// a rows (OpenBLAS sgemm re-packs W_hh on every call and is 3–5× slower there); otherwise sgemv
// (a = 1) or sgemm. Each row's result does not depend on a (kernels' determinism note), so a
// clip's recurrence is bitwise the same alone or in a batch on this path.
//
// whh16, when not nil, is W_hh in bf16 (the opt-in PrecisionBF16Recurrent mode, float32 only):
// kernels.RecurrentProductBF16 for every a (no BLAS takes bf16), with the same row independence.
func recurrentStep[T Float](rec, whh []T, whh16 []uint16, G, H int, h []T, a int) {
	if r, ok := any(rec).([]float32); ok {
		w, x := any(whh).([]float32), any(h).([]float32)
		if whh16 != nil {
			kernels.RecurrentProductBF16(r, whh16, G, H, x, a)
			return
		}
		if a <= kernels.RecurrentMaxRows() {
			kernels.RecurrentProduct(r, w, G, H, x, a)
			return
		}
	}
	if a == 1 {
		gemv(G, H, 1, whh, H, h[:H], 0, rec[:G])
	} else {
		gemm(false, true, a, G, H, 1, h, H, whh, H, 0, rec, G)
	}
}

// cellStep is lstmCell, by the vectorised kernel for float32 (≤ 2 ulp activations, no libm).
func cellStep[T Float](gates, rec, c, h []T, H int) {
	if g, ok := any(gates).([]float32); ok {
		kernels.LSTMCell(g, any(rec).([]float32), any(c).([]float32), any(h).([]float32), H)
		return
	}
	lstmCell(gates, rec, c, h, H)
}

// useGemmKernel enables gemmKernel; only the A/B benchmark turns it off.
var useGemmKernel = true

// gemmKernel runs a float32 gemm through kernels.GemmNT when that is faster than OpenBLAS: the
// x·Wᵀ form (no transA, transB: every Linear layer and LSTM input product, PyTorch's [out, in]
// weights), alpha 1, beta 0 or 1, on the AVX-512 path, in blocks of rows that stay in L2
// (kernels.GemmNTRowBlock). It reports whether it did the product. The kernel's per-element
// result does not depend on how many rows or columns one call covers, so the row blocks, and
// any split of a product over the pool by rows or columns, change no value.
func gemmKernel(transA, transB bool, M, N, K int, alpha float32, a []float32, lda int, b []float32, ldb int,
	beta float32, c []float32, ldc int) bool {
	if !useGemmKernel || transA || !transB || alpha != 1 || (beta != 0 && beta != 1) {
		return false
	}
	rows := kernels.GemmNTRowBlock(K)
	if rows == 0 {
		return false
	}
	for r := 0; r < M; r += rows {
		n := min(rows, M-r)
		kernels.GemmNT(c[r*ldc:], ldc, a[r*lda:], lda, b, ldb, n, N, K, beta == 1)
	}
	return true
}
