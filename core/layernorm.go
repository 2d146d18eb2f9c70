package core

import "math"

// layerNormEps is PyTorch's default LayerNorm eps; variance is the biased one.
const layerNormEps = 1e-5

// layerNormForward normalises each of N rows of width C: out = (x − mean)/√(var + eps)·w + b.
// Statistics are accumulated in float64 (cheap, and closer to PyTorch's float64 answer).
// mean and rstd [N] receive the statistics for the backward pass when not nil. out may be in.
func layerNormForward[T Float](out, in, w, b []T, N, C int, mean, rstd []T) {
	for n := 0; n < N; n++ {
		x := in[n*C : n*C+C]
		var s float64
		for _, v := range x {
			s += float64(v)
		}
		mu := s / float64(C)
		var ss float64
		for _, v := range x {
			d := float64(v) - mu
			ss += d * d
		}
		r := 1 / math.Sqrt(ss/float64(C)+layerNormEps)
		if mean != nil {
			mean[n], rstd[n] = T(mu), T(r)
		}
		y := out[n*C : n*C+C]
		for i, v := range x {
			y[i] = T((float64(v)-mu)*r)*w[i] + b[i]
		}
	}
}
