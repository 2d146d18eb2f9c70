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
//	ctx   [r, D]          heads concatenated
//	out   [r, D]          ctx · out_projᵀ + out_proj.bias
func mhaForward[T Float](w mhaWeights[T], x []T, r, D, heads int, qkv, probs, ctx, out []T) {
	hd := D / heads
	linearForward(qkv, x, w.inW, w.inB, r, D, 3*D)
	sq := T(math.Sqrt(float64(hd)))
	for i := 0; i < r; i++ {
		q := qkv[i*3*D : i*3*D+D]
		for j := range q {
			q[j] /= sq
		}
	}
	for hh := 0; hh < heads; hh++ {
		p := probs[hh*r*r : (hh+1)*r*r]
		q, k, v := qkv[hh*hd:], qkv[D+hh*hd:], qkv[2*D+hh*hd:]
		gemm(false, true, r, r, hd, 1, q, 3*D, k, 3*D, 0, p, r)
		for i := 0; i < r; i++ {
			softmaxForward(p[i*r : i*r+r])
		}
		gemm(false, false, r, hd, r, 1, p, r, v, 3*D, 0, ctx[hh*hd:], D)
	}
	linearForward(out, ctx, w.outW, w.outB, r, D, D)
}
