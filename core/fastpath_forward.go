package core

// lstmLayerJob runs the directions of one LSTM layer on the pool. With threads < 2·dirs it is one
// run, parts over directions (each part: a direction's input product and recurrence). With more
// threads, the input products are split first, parts over (direction, block of gate columns),
// and the recurrences follow, parts over directions. Both partitions depend only on the shapes
// and the thread setting; a direction's recurrence is the same whichever part runs it.
type lstmLayerJob[T Float] struct {
	w         []lstmWeights[T]
	ws        *workspace[T]
	k         int
	in, out   []T
	inW, D, H int
	dirs      int

	phase  int // lstmBoth, lstmInputs or lstmSteps
	parts  int
	perDir int // lstmInputs: column blocks per direction
}

const (
	lstmBoth = iota
	lstmInputs
	lstmSteps
)

// runLayer runs the layer on the pool with the caller's thread snapshot.
func (j *lstmLayerJob[T]) runLayer(c *poolCall, threads int) {
	ws := j.ws
	if B, Tp := ws.lb.B, ws.lb.Tp; batchRows(B, Tp) {
		// Input products over the batch's valid rows, then the recurrences over directions.
		// Both directions read the same rows; with padding, the valid ones gathered into
		// ws.qkv (free until attention).
		src, N := j.in, B*Tp
		if ws.padded {
			packRows(ws.qkv, j.in, j.inW, j.inW, &ws.lb, ws.pos)
			src, N = ws.qkv, ws.pos[B]
		}
		var prods [2]rowProduct[T]
		for d := 0; d < j.dirs; d++ {
			w := j.w[d]
			prods[d] = rowProduct[T]{in: src, inW: j.inW, w: w.wih, b: w.bih, b2: w.bhh,
				out: ws.gates[j.k*j.dirs+d], ldo: 4 * j.H, O: 4 * j.H}
		}
		c.run(ws.rowJob.set(N, prods[:j.dirs]...), &ws.rowJob)
		ws.rowJob.release()
		for d := 0; d < j.dirs && ws.padded; d++ {
			unpackRows(ws.gates[j.k*j.dirs+d], 4*j.H, &ws.lb, ws.pos)
		}
		j.phase, j.parts = lstmSteps, j.dirs
		c.run(j.parts, j)
		return
	}
	if threads < 2*j.dirs {
		j.phase, j.parts = lstmBoth, partsFor(j.dirs, 1, threads)
		c.run(j.parts, j)
		return
	}
	j.phase, j.perDir = lstmInputs, threads/j.dirs
	j.parts = j.dirs * j.perDir
	c.run(j.parts, j)
	j.phase, j.parts = lstmSteps, j.dirs
	c.run(j.parts, j)
}

func (j *lstmLayerJob[T]) do(part int) {
	ws, H, B := j.ws, j.H, j.ws.lb.B
	G := 4 * H
	if j.phase == lstmInputs {
		d := part / j.perDir
		lo, hi := span(G, j.perDir, part%j.perDir, 64)
		lstmInputProduct(j.w[d], &ws.lb, j.in, j.inW, ws.gates[j.k*j.dirs+d], G, lo, hi)
		return
	}
	lo, hi := span(j.dirs, j.parts, part, 1)
	for d := lo; d < hi; d++ {
		i := j.k*j.dirs + d
		if j.phase == lstmBoth {
			lstmInputProduct(j.w[d], &ws.lb, j.in, j.inW, ws.gates[i], G, 0, G)
		}
		lstmRecurrence(j.w[d], &ws.lb, j.out, j.D, d*H, ws.gates[i], ws.cells[i],
			ws.h[d*B*H:(d+1)*B*H], ws.c[d*B*H:(d+1)*B*H], ws.rec[d*B*4*H:(d+1)*B*4*H], H, d == 1)
	}
}

// attnClipJob runs attention, attention_norm and pooling for the clips of each part (parts over
// clips, a fixed partition; each clip's arithmetic is the same whichever part runs it).
type attnClipJob[T Float] struct {
	cfg          Config
	w            *weights[T]
	ws           *workspace[T]
	lstmOut      []T
	pad          Padding
	train        bool
	dr           *dropper
	frameWeights []T
	Tfull, B     int
	parts        int
	stage        int           // which part of attendClip runs (attendAll unless batchRows)
	par          *parLinear[T] // nil, or the in-clip split when one part runs every clip
}

func (j *attnClipJob[T]) do(part int) {
	lo, hi := span(j.B, j.parts, part, 1)
	for b := lo; b < hi; b++ {
		attendClip(j.cfg, j.w, j.ws, j.lstmOut, b, j.pad, j.train, j.dr, j.frameWeights, j.Tfull, j.stage, j.par)
	}
}

// The stages of attendClip. With batchRows the forward computes attention's in_proj, out_proj
// and pooling's first Linear for the whole batch at once, so a clip's part is cut at those
// products; with dropout (whose masks are drawn clip after clip in one order) only in_proj is.
const (
	attendAll   = iota // everything
	attendQKV          // everything after in_proj (ws.qkv holds it for every row)
	attendHeads        // after in_proj, up to ctx (out_proj follows for the batch)
	attendNorm         // after out_proj: residual + attention_norm (pooling's Linear follows)
	attendPool         // after pooling's first Linear: the rest of pooling, frame weights
)

// attendClip is steps 3–4 of forward for clip b: self-attention, residual + attention_norm,
// attention pooling (and its frame weights), or one stage of them (above).
//
// par, when not nil, splits the clip's large Linear layers over the pool (used when the clips
// alone leave threads idle: one clip, or training with dropout).
func attendClip[T Float](cfg Config, w *weights[T], ws *workspace[T], lstmOut []T, b int, pad Padding, train bool,
	dr *dropper, frameWeights []T, Tfull int, stage int, par *parLinear[T]) {
	D, P, Tp, p := cfg.D(), cfg.PoolDim(), ws.lb.Tp, cfg.Dropout
	tb := &ws.tr
	heads := cfg.NumHeads
	r := Tp // reference: all T′ rows, zero padding included, take part
	if pad == PaddingMasked {
		r = ws.lb.n[b] // masked: the clip alone
	}
	ws.rows[b] = r
	o := b * Tp
	xb := lstmOut[o*D : (o+r)*D]
	ao := ws.attnOut[o*D : (o+r)*D]
	if stage <= attendHeads {
		var pdrop, pmask []T
		if dr.on(p) {
			pdrop, pmask = tb.probsDrop[b*heads*Tp*Tp:], tb.probsMask[b*heads*Tp*Tp:]
		}
		qkv, probs, ctx := ws.qkv[o*3*D:], ws.probs[b*heads*Tp*Tp:], ws.ctx[o*D:]
		switch stage {
		case attendAll:
			mhaForward(w.mha, xb, r, D, heads, qkv, probs, ctx, ws.attnOut[o*D:], dr, p, pdrop, pmask, par)
		case attendQKV:
			mhaAttend(w.mha, r, D, heads, qkv, probs, ctx, ws.attnOut[o*D:], dr, p, pdrop, pmask, par)
		case attendHeads:
			mhaHeads(r, D, heads, qkv, probs, ctx, dr, p, pdrop, pmask)
			return
		}
		if dr.on(p) {
			dropoutForward(dr, p, ao, ao, tb.attnMask[o*D:(o+r)*D])
		}
	}
	att := ws.attended[o*D : (o+r)*D]
	if stage <= attendNorm {
		res := att
		if train {
			res = tb.resid[o*D : (o+r)*D]
		}
		for i, v := range xb {
			res[i] = v + ao[i]
		}
		layerNormForward(att, res, w.normW, w.normB, r, D, ws.normMean[o:], ws.normRstd[o:])
		if stage == attendNorm {
			return
		}
	}
	pb := poolingBuffers[T]{pre: ws.poolHid[o*P:], hid: ws.poolHid[o*P:], lnMean: ws.poolMean[o:],
		lnRstd: ws.poolRstd[o:], weights: ws.poolW[o : o+r]}
	if train {
		pb.pre = tb.poolPre[o*P:]
	}
	if dr.on(p / 2) {
		pb.hdrop, pb.hmask = tb.poolDrop[o*P:(o+r)*P], tb.poolMask[o*P:(o+r)*P]
	}
	if stage == attendPool {
		poolingAfterLinear(w.pool, att, r, D, P, pb, ws.pooled[b*D:(b+1)*D], dr, p/2)
	} else {
		poolingForward(w.pool, att, r, D, P, pb, ws.pooled[b*D:(b+1)*D], dr, p/2, par)
	}
	if frameWeights != nil {
		fw := frameWeights[b*Tfull : (b+1)*Tfull]
		copy(fw, ws.poolW[o:o+r])
		clear(fw[r:])
	}
}

// splitClipLinears enables parLinear for a lone clip; only the A/B benchmark turns it off.
var splitClipLinears = true

// parLinear splits a Linear layer's output columns over the pool (parts fixed by the caller from
// the thread setting; 64-aligned blocks). One per workspace; not for concurrent use.
type parLinear[T Float] struct {
	call          poolCall
	parts         int
	out, in, w, b []T
	N, I, O       int
}

func (pl *parLinear[T]) do(part int) {
	lo, hi := span(pl.O, pl.parts, part, 64)
	linearColumns(pl.out, pl.in, pl.w, pl.b, pl.N, pl.I, pl.O, lo, hi)
}

func firstPar[T Float](par []*parLinear[T]) *parLinear[T] {
	if len(par) > 0 {
		return par[0]
	}
	return nil
}

// linearPar is linearForward, split over pl.parts column blocks when pl is not nil.
func linearPar[T Float](pl *parLinear[T], out, in, w, b []T, N, I, O int) {
	if pl == nil || pl.parts <= 1 || N == 0 || O < 128 {
		linearForward(out, in, w, b, N, I, O)
		return
	}
	pl.out, pl.in, pl.w, pl.b, pl.N, pl.I, pl.O = out, in, w, b, N, I, O
	pl.call.run(pl.parts, pl)
	pl.out, pl.in, pl.w, pl.b = nil, nil, nil, nil
}

// linearColumns computes columns [lo, hi) of linearForward's out [N, O].
func linearColumns[T Float](out, in, w, b []T, N, I, O, lo, hi int) {
	if lo >= hi {
		return
	}
	beta := T(0)
	if b != nil {
		need("linear bias", len(b), O)
		for n := 0; n < N; n++ {
			copy(out[n*O+lo:n*O+hi], b[lo:hi])
		}
		beta = 1
	}
	gemm(false, true, N, hi-lo, I, 1, in, I, w[lo*I:], I, beta, out[lo:], O)
}

// Products over the whole batch's rows. A product x·Wᵀ done clip by clip streams W once per
// clip (kernels.GemmNT: once per L2-sized block of rows); the LSTM layers' W_ih (132 MB at the
// default config) do not fit L3, so at B > 1 that stream is what bounds the products. Done over
// all B·T′ rows at once, OpenBLAS's AVX-512 sgemm packs W once per block and runs near its peak
// (≈ 240 GFLOP/s per core here against ≈ 115 for the clip-by-clip products in the model).
//
// The rows are split into fixed blocks of batchRowBlock rows, and a part is one (product, block)
// pair: the partition depends only on the shape, so every element is computed by the same call
// whatever the thread setting, and results never depend on it. With lengths, the valid rows are
// gathered first (rowsProduct, runLayer), so padding rows take no part — except in reference
// padding's attention, where PyTorch itself attends over the zero rows of the LSTM output.
//
// Variables only so that tests can force the route on small models (and the A/B benchmark off).
var (
	batchRowBlock = 512 // rows per part: ≈ 95 % of OpenBLAS's large-product rate (1 thread, W cold)
	batchMinRows  = 256 // below this many rows per batch, products stay clip by clip
)

// useBatchRows enables the batched products; only the A/B benchmark turns it off.
var useBatchRows = true

// batchRows reports whether a batch of B·Tp rows takes the batched products.
func batchRows(B, Tp int) bool { return useBatchRows && B*Tp >= batchMinRows }

// rowProduct is out[r, 0:O] = b + b2 + in[r]·Wᵀ for every row r (b2 may be nil).
type rowProduct[T Float] struct {
	in     []T // [rows, inW]
	inW    int
	w      []T // [O, inW], PyTorch's layout
	b, b2  []T // [O]
	out    []T // [rows, ldo]
	ldo, O int
}

// rowBlocksJob runs up to two rowProducts over the same rows, parts over (product, row block).
type rowBlocksJob[T Float] struct {
	prods  [2]rowProduct[T]
	n      int // products in use
	rows   int
	blocks int
}

func (j *rowBlocksJob[T]) set(rows int, prods ...rowProduct[T]) int {
	j.n = copy(j.prods[:], prods)
	j.rows, j.blocks = rows, (rows+batchRowBlock-1)/batchRowBlock
	return j.n * j.blocks
}

func (j *rowBlocksJob[T]) do(part int) {
	p := &j.prods[part/j.blocks]
	lo := (part % j.blocks) * batchRowBlock
	hi := min(lo+batchRowBlock, j.rows)
	for r := lo; r < hi; r++ {
		row := p.out[r*p.ldo : r*p.ldo+p.O]
		if p.b == nil {
			clear(row)
			continue
		}
		copy(row, p.b[:p.O])
		if p.b2 != nil {
			for c := range row {
				row[c] += p.b2[c]
			}
		}
	}
	gemmRows(false, true, hi-lo, p.O, p.inW, 1, p.in[lo*p.inW:], p.inW, p.w, p.inW, 1, p.out[lo*p.ldo:], p.ldo)
}

// rowsProduct is out[row] = b + in[row]·Wᵀ (in [B, Tp, inW], out [B, Tp, O], W [O, inW]) on
// the pool in row blocks. packed: only the valid rows (clip b's first n[b]): they are gathered
// clip after clip into scratch (packRows) and the results moved back to their padded rows
// afterwards, so no product is spent on padding (≈ 25 % of the rows at B = 8 with lengths
// 32–64); the rows between are left as they were. Otherwise every row of in.
func (ws *workspace[T]) rowsProduct(packed bool, in []T, inW int, scratch []T, w, b, out []T, O int) {
	lb := &ws.lb
	src, N := in, lb.B*lb.Tp
	if packed {
		packRows(scratch, in, inW, inW, lb, ws.pos)
		src, N = scratch, ws.pos[lb.B]
	}
	ws.call.run(ws.rowJob.set(N, rowProduct[T]{in: src, inW: inW, w: w, b: b, out: out, ldo: O, O: O}), &ws.rowJob)
	ws.rowJob.release()
	if packed {
		unpackRows(out, O, lb, ws.pos)
	}
}

// unpackRows moves rows packed clip after clip at the start of buf [B, Tp, w] (clip b's at
// pos[b]) to their padded positions, in place: pos[b] ≤ b·Tp, so moving the last clip first,
// last row first, never overwrites a row still to be moved.
func unpackRows[T Float](buf []T, w int, lb *lstmBatch, pos []int) {
	for b := lb.B - 1; b >= 0; b-- {
		if pos[b] == b*lb.Tp {
			continue // in place already (every clip before b is full length)
		}
		for t := lb.n[b] - 1; t >= 0; t-- {
			copy(buf[(b*lb.Tp+t)*w:(b*lb.Tp+t+1)*w], buf[(pos[b]+t)*w:(pos[b]+t+1)*w])
		}
	}
}

// release drops the job's references to the caller's buffers.
func (j *rowBlocksJob[T]) release() { j.prods = [2]rowProduct[T]{} }
