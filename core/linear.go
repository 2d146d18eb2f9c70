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
