package core

// poolingWeights is attention_pooling: Linear(D→P) [0] → LayerNorm(P) [1] → Tanh → Dropout →
// Linear(P→1) [4].
type poolingWeights[T Float] struct {
	w0, b0, lnW, lnB, w4, b4 []T
}

// poolingForward scores each of the r rows of one clip, softmaxes over time and sums.
//
//	x       [r, D]   attended frames
//	hid     [r, P]   tanh(LN(x W0ᵀ + b0)), kept for backward; lnMean, lnRstd [r]
//	weights [r]      softmax over time of hid · w4 + b4 (the per-frame weights)
//	pooled  [D]      Σ_t weights_t · x_t
func poolingForward[T Float](w poolingWeights[T], x []T, r, D, P int, hid, lnMean, lnRstd, weights, pooled []T) {
	linearForward(hid, x, w.w0, w.b0, r, D, P)
	layerNormForward(hid, hid, w.lnW, w.lnB, r, P, lnMean, lnRstd)
	tanhForward(hid[:r*P])
	linearForward(weights, hid, w.w4, w.b4, r, P, 1)
	softmaxForward(weights[:r])
	clear(pooled[:D])
	for t := 0; t < r; t++ {
		wt := weights[t]
		row := x[t*D : t*D+D]
		for j, v := range row {
			pooled[j] += wt * v
		}
	}
}
