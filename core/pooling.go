package core

// poolingWeights is attention_pooling: Linear(D→P) [0] → LayerNorm(P) [1] → Tanh → Dropout →
// Linear(P→1) [4].
type poolingWeights[T Float] struct {
	w0, b0, lnW, lnB, w4, b4 []T
}

// poolingBuffers are one clip's pooling activations (row windows of the batch workspace).
//
//	pre     [r, P]   x W0ᵀ + b0 before the LayerNorm (training; may alias hid in inference)
//	hid     [r, P]   tanh(LN(pre)); lnMean, lnRstd [r]
//	hdrop, hmask [r, P]  training: hid after dropout(p/2) and its mask
//	weights [r]      softmax over time of hid · w4 + b4 (the per-frame weights)
type poolingBuffers[T Float] struct {
	pre, hid, lnMean, lnRstd, hdrop, hmask, weights []T
}

// poolingForward scores each of the r rows x [r, D] of one clip, softmaxes over time and writes
// pooled [D] = Σ_t weights_t · x_t. par (optional) splits the first Linear's output columns over
// the pool.
func poolingForward[T Float](w poolingWeights[T], x []T, r, D, P int, a poolingBuffers[T], pooled []T,
	dr *dropper, p float64, par ...*parLinear[T]) {
	linearPar(firstPar(par), a.pre, x, w.w0, w.b0, r, D, P)
	poolingAfterLinear(w, x, r, D, P, a, pooled, dr, p)
}

// poolingAfterLinear is poolingForward after its first Linear product (a.pre holds it; the
// forward computes it for a whole batch at once when that is faster).
func poolingAfterLinear[T Float](w poolingWeights[T], x []T, r, D, P int, a poolingBuffers[T], pooled []T,
	dr *dropper, p float64) {
	layerNormForward(a.hid, a.pre, w.lnW, w.lnB, r, P, a.lnMean, a.lnRstd)
	tanhForward(a.hid[:r*P])
	h := dropoutForward(dr, p, a.hdrop, a.hid[:r*P], a.hmask)
	linearForward(a.weights, h, w.w4, w.b4, r, P, 1)
	softmaxForward(a.weights[:r])
	clear(pooled[:D])
	for t := 0; t < r; t++ {
		wt := a.weights[t]
		row := x[t*D : t*D+D]
		for j, v := range row {
			pooled[j] += wt * v
		}
	}
}

// poolingBackward accumulates the gradients of poolingForward into gw and dx [r, D] from
// dpooled [D]. dhid, dpre [r, P] are scratch.
func poolingBackward[T Float](w, gw poolingWeights[T], dx, dpooled, x []T, r, D, P int, a poolingBuffers[T],
	dr *dropper, p float64, dhid, dpre []T) {
	poolingBackwardScores(w, gw, dx, dpooled, x, r, D, P, a, dr, p, dhid, dpre)
	linearBackward(dx, gw.w0, gw.b0, dpre[:r*P], x, w.w0, r, D, P)
}

// poolingBackwardScores is poolingBackward up to the first Linear: it adds the pooled sum's
// gradient to dx [r, D] and writes dpre [r, P], the gradient of attention_pooling.0's output,
// accumulating the gradients of the later layers (LayerNorm, Linear 4) into gw. dhid [r, P] is
// scratch.
func poolingBackwardScores[T Float](w, gw poolingWeights[T], dx, dpooled, x []T, r, D, P int, a poolingBuffers[T],
	dr *dropper, p float64, dhid, dpre []T) {
	// pooled = Σ_t w_t x_t: dw_t = dpooled · x_t, dx_t += w_t · dpooled. The score gradients
	// ds [r] borrow dpre's first r values until dpre itself is written.
	ds := dpre[:r]
	for t := 0; t < r; t++ {
		row, drow := x[t*D:t*D+D], dx[t*D:t*D+D]
		wt := a.weights[t]
		var s T
		for j, v := range row {
			s += dpooled[j] * v
			drow[j] += wt * dpooled[j]
		}
		ds[t] = s
	}
	softmaxBackward(ds, a.weights[:r])
	h := a.hid[:r*P]
	if dr.on(p) {
		h = a.hdrop[:r*P]
	}
	dhid = dhid[:r*P]
	clear(dhid)
	linearBackward(dhid, gw.w4, gw.b4, ds, h, w.w4, r, P, 1)
	dropoutBackward(dr, p, dhid, a.hmask)
	tanhBackward(dhid, a.hid)
	dpre = dpre[:r*P]
	clear(dpre)
	layerNormBackward(dpre, gw.lnW, gw.lnB, dhid, a.pre, w.lnW, a.lnMean, a.lnRstd, r, P)
}
