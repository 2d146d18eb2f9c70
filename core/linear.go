package core

// linearForward: out[N, O] = in[N, I] · Wᵀ + b, with W [O, I] in PyTorch's layout (used through
// transB at no cost) and b [O] (nil for no bias).
func linearForward[T Float](out, in, w, b []T, N, I, O int) {
	if N == 0 {
		return
	}
	if b != nil {
		need("linear bias", len(b), O)
		for n := 0; n < N; n++ {
			copy(out[n*O:n*O+O], b[:O])
		}
		gemm(false, true, N, O, I, 1, in, I, w, I, 1, out, O)
		return
	}
	gemm(false, true, N, O, I, 1, in, I, w, I, 0, out, O)
}

// linearBackward accumulates the gradients of linearForward:
//
//	dW [O, I] += dOutᵀ · in      (dOut [N, O], in [N, I])
//	db [O]    += Σ_n dOut[n]     (db nil: no bias)
//	dIn [N, I] += dOut · W       (dIn nil: the input needs no gradient)
func linearBackward[T Float](dIn, dW, dB, dOut, in, w []T, N, I, O int) {
	if N == 0 {
		return
	}
	gemm(true, false, O, I, N, 1, dOut, O, in, I, 1, dW, I)
	if dB != nil {
		for n := 0; n < N; n++ {
			for o, v := range dOut[n*O : n*O+O] {
				dB[o] += v
			}
		}
	}
	if dIn != nil {
		gemm(false, false, N, I, O, 1, dOut, O, w, I, 1, dIn, I)
	}
}
