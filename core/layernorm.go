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

// layerNormBackward accumulates the gradients of layerNormForward from the cached statistics:
// with x̂ = (x − mean)·rstd and g = dOut·w,
//
//	dW [C] += Σ_n dOut·x̂;  dB [C] += Σ_n dOut
//	dIn [N, C] += rstd·(g − mean(g) − x̂·mean(g·x̂))
//
// in [N, C] is the forward's input; dIn must not alias dOut. Row sums run in float64.
func layerNormBackward[T Float](dIn, dW, dB, dOut, in, w, mean, rstd []T, N, C int) {
	for n := 0; n < N; n++ {
		x, dy, dx := in[n*C:n*C+C], dOut[n*C:n*C+C], dIn[n*C:n*C+C]
		mu, r := float64(mean[n]), float64(rstd[n])
		var sg, sgx float64
		for i, v := range x {
			xh := (float64(v) - mu) * r
			g := float64(dy[i]) * float64(w[i])
			sg += g
			sgx += g * xh
			dW[i] += T(float64(dy[i]) * xh)
			dB[i] += dy[i]
		}
		sg /= float64(C)
		sgx /= float64(C)
		for i, v := range x {
			xh := (float64(v) - mu) * r
			g := float64(dy[i]) * float64(w[i])
			dx[i] += T(r * (g - sg - xh*sgx))
		}
	}
}
