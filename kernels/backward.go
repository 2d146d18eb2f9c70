package kernels

/*
int tk_gemm_nn(float *y, long ldy, const float *x, long ldx, const float *w, long ldw, long a, long N, long K);
*/
import "C"

import "fmt"

// GemmNN computes y[r·ldy + j] = Σ_k x[r·ldx + k]·w[k·ldw + j] for r < a, j < N (y = x·W for W
// [K, N] row-major, e.g. the LSTM backward's dh = dgates·W_hh with W_hh [4H, H] as stored),
// overwriting y, and reports whether it did: there is a kernel on the AVX-512 and AVX2 paths
// only (false on the generic path, where the caller uses BLAS). W is read from memory once per
// call for all a rows. Each y[r, j] is one fused multiply-add chain over k in order, so the
// result does not depend on a, N, the tile or the path (AVX-512 and AVX2 agree bitwise).
func GemmNN(y []float32, ldy int, x []float32, ldx int, w []float32, ldw int, a, N, K int) bool {
	if N < 0 || K < 0 || a < 0 || ldy < N || ldx < K || ldw < N {
		panic(fmt.Sprintf("kernels: GemmNN with a=%d N=%d K=%d ldy=%d ldx=%d ldw=%d", a, N, K, ldy, ldx, ldw))
	}
	if Level() == Generic {
		return false
	}
	if N == 0 || a == 0 {
		return true
	}
	need("GemmNN y", len(y), (a-1)*ldy+N)
	if K == 0 {
		for r := 0; r < a; r++ {
			clear(y[r*ldy : r*ldy+N])
		}
		return true
	}
	need("GemmNN x", len(x), (a-1)*ldx+K)
	need("GemmNN w", len(w), (K-1)*ldw+N)
	return C.tk_gemm_nn((*C.float)(&y[0]), C.long(ldy), (*C.float)(&x[0]), C.long(ldx), (*C.float)(&w[0]), C.long(ldw),
		C.long(a), C.long(N), C.long(K)) != 0
}
