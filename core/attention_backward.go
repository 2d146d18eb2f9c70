package core

// Steps 4–3 of the backward (attention pooling, attention_norm and the residual, self-attention)
// for the whole batch. The per-clip work that does not touch a large weight stays per clip
// (pooling's score and LayerNorm backward, attention_norm, the attention core over heads); the
// Linear layers' products — pooling.0, out_proj and in_proj, each a weight gradient and an input
// gradient — run once over all B·Tp rows of the batch (rows past a clip's r rows hold zero
// gradients), the two products of each layer side by side on the pool (two fixed parts). The
// backward of one clip alone (poolingBackward, mhaBackward) gives the same values up to rounding.

// gemmCall is one deferred gemmRows call.
type gemmCall[T Float] struct {
	transA, transB bool
	M, N, K        int
	a              []T
	lda            int
	b              []T
	ldb            int
	beta           T
	c              []T
	ldc            int
}

func (g *gemmCall[T]) run() {
	gemmRows(g.transA, g.transB, g.M, g.N, g.K, 1, g.a, g.lda, g.b, g.ldb, g.beta, g.c, g.ldc)
}

// gemmPairJob runs two independent products, one part each.
type gemmPairJob[T Float] struct{ g [2]gemmCall[T] }

func (j *gemmPairJob[T]) do(part int) { j.g[part].run() }

// linearBackwardRows accumulates a Linear layer's gradients over N rows at once, the two
// products on the pool: dW [O, I] += dOutᵀ · in, dIn [N, I] = dOut · W + betaIn·dIn,
// db [O] += Σ_n dOut[n].
func linearBackwardRows[T Float](c *poolCall, j *gemmPairJob[T], dIn, dW, dB, dOut, in, w []T, N, I, O int, betaIn T) {
	if N == 0 {
		return
	}
	j.g[0] = gemmCall[T]{transA: true, M: O, N: I, K: N, a: dOut, lda: O, b: in, ldb: I, beta: 1, c: dW, ldc: I}
	j.g[1] = gemmCall[T]{M: N, N: I, K: O, a: dOut, lda: O, b: w, ldb: I, beta: betaIn, c: dIn, ldc: I}
	c.run(2, j)
	*j = gemmPairJob[T]{}
	for n := 0; n < N; n++ {
		for o, v := range dOut[n*O : n*O+O] {
			dB[o] += v
		}
	}
}

// attnBackward is steps 4–3 of backward: from tb.dpooled it accumulates the gradients of
// attention_pooling, attention_norm and attention into gw and writes the LSTM output's gradient
// into tb.dlayer[0] (each clip's r rows). The gradients live in a packed row order — clip 0's r₀
// rows, then clip 1's, … (bs.apos) — so the batch-wide products do no work on padding rows;
// ws.attnOut (not read by the backward) holds each product's activation operand packed. The
// forward's buffers that only this backward reads are reused once read: poolPre holds
// pooling.0's output gradient and qkv the gradient of qkv (packed: clip b's rows move down to
// apos[b] ≤ b·Tp once read), dattended the gradient of attended then that of ctx, and
// dlayer[1] the LSTM output's gradient before it is scattered into dlayer[0].
func attnBackward[T Float](cfg Config, w, gw *weights[T], ws *workspace[T], bs *backwardScratch[T], B, Tp int,
	dr *dropper) {
	D, P, heads, p := cfg.D(), cfg.PoolDim(), cfg.NumHeads, cfg.Dropout
	tb := &ws.tr
	lstmOut := ws.layerOut[cfg.NumLayers-1]
	pos := grow(&bs.apos, B+1)
	pos[0] = 0
	for b := 0; b < B; b++ {
		pos[b+1] = pos[b] + ws.rows[b]
	}
	N := pos[B]
	actP := ws.attnOut[:N*D]
	pack := func(src []T) {
		for b := 0; b < B; b++ {
			copy(actP[pos[b]*D:pos[b+1]*D], src[b*Tp*D:(b*Tp+ws.rows[b])*D])
		}
	}

	// 4. attention pooling per clip, up to pooling.0's output gradient (packed into poolPre).
	datt := tb.dattended[:N*D]
	clear(datt)
	for b := 0; b < B; b++ {
		r, o, q := ws.rows[b], b*Tp, pos[b]
		pb := poolingBuffers[T]{pre: tb.poolPre[o*P:], hid: ws.poolHid[o*P:], lnMean: ws.poolMean[o:],
			lnRstd: ws.poolRstd[o:], weights: ws.poolW[o : o+r]}
		if dr.on(p / 2) {
			pb.hdrop, pb.hmask = tb.poolDrop[o*P:(o+r)*P], tb.poolMask[o*P:(o+r)*P]
		}
		poolingBackwardScores(w.pool, gw.pool, datt[q*D:(q+r)*D], tb.dpooled[b*D:(b+1)*D], ws.attended[o*D:(o+r)*D],
			r, D, P, pb, dr, p/2, tb.dpoolHid, tb.dpoolPre)
		copy(tb.poolPre[q*P:(q+r)*P], tb.dpoolPre[:r*P])
	}
	pack(ws.attended)
	linearBackwardRows(&ws.call, &bs.pair, datt, gw.pool.w0, gw.pool.b0, tb.poolPre[:N*P], actP, w.pool.w0, N, D, P, 1)

	// attended = LN(lstm_out + dropout(attn_out)): the residual's gradient goes to both.
	dres, dx := tb.dresid[:N*D], tb.dlayer[1][:N*D]
	for b := 0; b < B; b++ {
		r, o, q := ws.rows[b], b*Tp, pos[b]
		d := dres[q*D : (q+r)*D]
		clear(d)
		layerNormBackward(d, gw.normW, gw.normB, datt[q*D:(q+r)*D], tb.resid[o*D:(o+r)*D], w.normW,
			ws.normMean[o:], ws.normRstd[o:], r, D)
		copy(dx[q*D:(q+r)*D], d)
		if dr.on(p) {
			dropoutBackward(dr, p, d, tb.attnMask[o*D:(o+r)*D])
		}
	}
	// out_proj; datt is free now: it takes dctx = dres·W_out.
	mha := w.mha
	dctx := datt
	pack(ws.ctx)
	linearBackwardRows(&ws.call, &bs.pair, dctx, gw.mha.outW, gw.mha.outB, dres, actP, mha.outW, N, D, D, 0)

	// The attention core per clip: dqkv packed into qkv once the clip's q, k, v are read.
	for b := 0; b < B; b++ {
		r, o, q := ws.rows[b], b*Tp, pos[b]
		var pdrop, pmask []T
		if dr.on(p) {
			pdrop, pmask = tb.probsDrop[b*heads*Tp*Tp:], tb.probsMask[b*heads*Tp*Tp:]
		}
		mhaCoreBackward(tb.dqkv, dctx[q*D:], r, D, heads, ws.qkv[o*3*D:], ws.probs[b*heads*Tp*Tp:], dr, p,
			pdrop, pmask, tb.dprobs)
		copy(ws.qkv[q*3*D:(q+r)*3*D], tb.dqkv[:r*3*D])
	}
	pack(lstmOut)
	linearBackwardRows(&ws.call, &bs.pair, dx, gw.mha.inW, gw.mha.inB, ws.qkv[:N*3*D], actP, mha.inW, N, D, 3*D, 1)
	for b := 0; b < B; b++ {
		copy(tb.dlayer[0][b*Tp*D:(b*Tp+ws.rows[b])*D], dx[pos[b]*D:pos[b+1]*D])
	}
}
