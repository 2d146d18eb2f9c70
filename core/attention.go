package core

import "math"

// mhaWeights is nn.MultiheadAttention's packed projection: in_proj [3D, D] rows q | k | v,
// in_proj_bias [3D], out_proj [D, D] and its bias.
type mhaWeights[T Float] struct {
	inW, inB, outW, outB []T
}

// mhaForward is self-attention attention(x, x, x) over the r rows of one clip; every row is a
// valid key (masked mode passes r = n_b, the normative "clip alone" definition; reference mode
// passes r = T′, padded zero rows included, as PyTorch does).
//
//	x     [r, D]          input
//	qkv   [r, 3D]         q (already divided by √head_dim, after its bias, like PyTorch) | k | v
//	probs [heads, r, r]   softmax(q kᵀ) per head (kept for backward)
//	pdrop, pmask [heads, r, r]  training only: probs after dropout(p) and its mask
//	ctx   [r, D]          heads concatenated
//	out   [r, D]          ctx · out_projᵀ + out_proj.bias
//
// par (optional, forward only) splits the two Linear layers' output columns over the pool.
func mhaForward[T Float](w mhaWeights[T], x []T, r, D, heads int, qkv, probs, ctx, out []T,
	dr *dropper, p float64, pdrop, pmask []T, par ...*parLinear[T]) {
	linearPar(firstPar(par), qkv, x, w.inW, w.inB, r, D, 3*D)
	mhaAttend(w, r, D, heads, qkv, probs, ctx, out, dr, p, pdrop, pmask, par...)
}

// mhaAttend is mhaForward after its in_proj product: qkv [r, 3D] already holds x·in_projᵀ +
// in_proj_bias (the forward computes it for a whole batch at once when that is faster).
func mhaAttend[T Float](w mhaWeights[T], r, D, heads int, qkv, probs, ctx, out []T,
	dr *dropper, p float64, pdrop, pmask []T, par ...*parLinear[T]) {
	mhaHeads(r, D, heads, qkv, probs, ctx, dr, p, pdrop, pmask)
	linearPar(firstPar(par), out, ctx, w.outW, w.outB, r, D, D)
}

// mhaHeads is mhaAttend before its out_proj product: q scaled, then per head softmax(q kᵀ)
// (dropout in training) times v, into ctx [r, D].
func mhaHeads[T Float](r, D, heads int, qkv, probs, ctx []T, dr *dropper, p float64, pdrop, pmask []T) {
	hd := D / heads
	sq := T(math.Sqrt(float64(hd)))
	for i := 0; i < r; i++ {
		q := qkv[i*3*D : i*3*D+D]
		for j := range q {
			q[j] /= sq
		}
	}
	for hh := 0; hh < heads; hh++ {
		pr := probs[hh*r*r : (hh+1)*r*r]
		q, k, v := qkv[hh*hd:], qkv[D+hh*hd:], qkv[2*D+hh*hd:]
		gemm(false, true, r, r, hd, 1, q, 3*D, k, 3*D, 0, pr, r)
		for i := 0; i < r; i++ {
			softmaxForward(pr[i*r : i*r+r])
		}
		if dr.on(p) {
			pr = dropoutForward(dr, p, pdrop[hh*r*r:(hh+1)*r*r], pr, pmask[hh*r*r:(hh+1)*r*r])
		}
		gemm(false, false, r, hd, r, 1, pr, r, v, 3*D, 0, ctx[hh*hd:], D)
	}
}

// mhaBackward accumulates the gradients of mhaForward into gw and dx [r, D] from dout [r, D].
// The forward's buffers are read as it left them; dctx [r, D], dqkv [r, 3D] and dp [r, r] are
// scratch.
func mhaBackward[T Float](w, gw mhaWeights[T], dx, dout, x []T, r, D, heads int, qkv, probs, ctx []T,
	dr *dropper, p float64, pdrop, pmask []T, dctx, dqkv, dp []T) {
	dctx = dctx[:r*D]
	clear(dctx)
	linearBackward(dctx, gw.outW, gw.outB, dout, ctx, w.outW, r, D, D)
	mhaCoreBackward(dqkv, dctx, r, D, heads, qkv, probs, dr, p, pdrop, pmask, dp)
	linearBackward(dx, gw.inW, gw.inB, dqkv, x, w.inW, r, D, 3*D)
}

// mhaCoreBackward is mhaBackward between the two Linear layers for one clip: from dctx [r, D]
// (ld D) it writes dqkv [r, 3D], the gradient of the in_proj output (q's part already divided
// by √head_dim). dp [r, r] is scratch.
func mhaCoreBackward[T Float](dqkv, dctx []T, r, D, heads int, qkv, probs []T, dr *dropper, p float64,
	pdrop, pmask, dp []T) {
	hd := D / heads
	for hh := 0; hh < heads; hh++ {
		pr := probs[hh*r*r : (hh+1)*r*r]
		used := pr
		if dr.on(p) {
			used = pdrop[hh*r*r : (hh+1)*r*r]
		}
		q, k, v := qkv[hh*hd:], qkv[D+hh*hd:], qkv[2*D+hh*hd:]
		dc := dctx[hh*hd:]
		// dP [r, r] = dctx_h · v_hᵀ;  dv_h [r, hd] = Pᵀ · dctx_h
		gemm(false, true, r, r, hd, 1, dc, D, v, 3*D, 0, dp, r)
		gemm(true, false, r, hd, r, 1, used, r, dc, D, 0, dqkv[2*D+hh*hd:], 3*D)
		if dr.on(p) {
			dropoutBackward(dr, p, dp[:r*r], pmask[hh*r*r:(hh+1)*r*r])
		}
		for i := 0; i < r; i++ {
			softmaxBackward(dp[i*r:i*r+r], pr[i*r:i*r+r])
		}
		// scores = q kᵀ with q already scaled: dq = dS · k, dk = dSᵀ · q
		gemm(false, false, r, hd, r, 1, dp, r, k, 3*D, 0, dqkv[hh*hd:], 3*D)
		gemm(true, false, r, hd, r, 1, dp, r, q, 3*D, 0, dqkv[D+hh*hd:], 3*D)
	}
	// q was divided by √head_dim after its bias: the raw projection's gradient is dq / √hd.
	sq := T(math.Sqrt(float64(hd)))
	for i := 0; i < r; i++ {
		dq := dqkv[i*3*D : i*3*D+D]
		for j := range dq {
			dq[j] /= sq
		}
	}
}
