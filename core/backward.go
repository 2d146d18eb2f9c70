package core

import (
	"math/rand/v2"
)

// TrainStepOptions configure one training-mode forward and backward pass.
type TrainStepOptions struct {
	Padding Padding
	Dropout bool       // dropout on (training mode); off = exactly the inference computation
	RNG     *rand.Rand // draws the dropout masks; owned by the caller (required when Dropout)
	Loss    LossConfig
}

// LossAndGrad runs the model in training mode on x [B, T, F] with optional lengths [B] and
// labels [B] in [0, C), then the backward pass. It zeroes g first and returns the mean loss.
// Shapes, lengths and finiteness are validated as Forward does, labels and the loss config
// before anything runs. It only reads the weights, so it may run beside Forward calls; g must
// not be shared between concurrent calls. With opt.Dropout the masks come from opt.RNG in a
// fixed order, so a seed reproduces a step bitwise.
func (m *Model) LossAndGrad(x []float32, B, T int, lengths []int32, labels []int64, opt TrainStepOptions, g *Grads) (float32, error) {
	if g == nil || len(g.Slab) != len(m.slab) {
		return 0, Errf(KindInvalidArgument, "gradients are not shaped like this model's parameters")
	}
	Tp, dr, err := m.checkTrain(len(x), B, T, lengths, labels, opt)
	if err != nil {
		return 0, err
	}
	if err := checkFinite(x, "features"); err != nil {
		return 0, err
	}
	if g.w == nil || g.model != m {
		g.model = m
		g.w = bindWeights(m.cfg, g.Param)
	}
	g.Zero()
	ws := m.getWorkspace()
	defer m.putWorkspace(ws)
	loss := lossAndGrad(m.cfg, m.w32, g.w, ws, &g.bw, x, B, T, Tp, lengths, labels, opt, dr)
	return float32(loss), nil
}

// LossAndGradFloat64 is the same computation in float64 on a float64 copy of the weights (for
// finite-difference checks and the float64 fixtures); it returns the loss and a gradient slab
// with the layout of Model.Slab().
func (m *Model) LossAndGradFloat64(x []float64, B, T int, lengths []int32, labels []int64, opt TrainStepOptions) (float64, []float64, error) {
	Tp, dr, err := m.checkTrain(len(x), B, T, lengths, labels, opt)
	if err != nil {
		return 0, nil, err
	}
	if err := checkFinite(x, "features"); err != nil {
		return 0, nil, err
	}
	slab := make([]float64, len(m.slab))
	for i, v := range m.slab {
		slab[i] = float64(v)
	}
	loss, grad := m.lossAndGradSlab64(slab, x, B, T, Tp, lengths, labels, opt, dr)
	return loss, grad, nil
}

// lossAndGradSlab64 runs the float64 instantiation with the parameters taken from slab (the
// layout of Model.Slab()); the finite-difference checks perturb slab directly.
func (m *Model) lossAndGradSlab64(slab, x []float64, B, T, Tp int, lengths []int32, labels []int64,
	opt TrainStepOptions, dr *dropper) (float64, []float64) {
	grad := make([]float64, len(m.slab))
	view := func(s []float64) func(string) []float64 {
		return func(name string) []float64 {
			i := m.index[name]
			return s[m.paramOffset(i):][:len(m.params[i].Data)]
		}
	}
	w, gw := bindWeights(m.cfg, view(slab)), bindWeights(m.cfg, view(grad))
	loss := lossAndGrad(m.cfg, w, gw, &workspace[float64]{}, &backwardScratch[float64]{}, x, B, T, Tp, lengths, labels, opt, dr)
	return loss, grad
}

// checkTrain validates a training call and returns T′ and the dropout state (nil: off).
func (m *Model) checkTrain(xLen, B, T int, lengths []int32, labels []int64, opt TrainStepOptions) (int, *dropper, error) {
	Tp, err := m.checkForward(xLen, B, T, lengths, opt.Padding, B*m.cfg.NumClasses, nil)
	if err != nil {
		return 0, nil, err
	}
	if e := workspaceElems(m.cfg, B, Tp) + trainWorkspaceElems(m.cfg, B, Tp); e > maxWorkspaceElems {
		return 0, nil, Errf(KindOutOfMemory, "training on a batch of %d clips of %d frames needs %d workspace values, over the limit %d",
			B, Tp, e, int64(maxWorkspaceElems))
	}
	if err := opt.Loss.validate(labels, B, m.cfg.NumClasses); err != nil {
		return 0, nil, err
	}
	if !opt.Dropout || m.cfg.Dropout == 0 {
		return Tp, nil, nil
	}
	if opt.RNG == nil {
		return 0, nil, Errf(KindInvalidArgument, "dropout needs a random generator (TrainStepOptions.RNG)")
	}
	return Tp, &dropper{rng: opt.RNG}, nil
}

// trainWorkspaceElems estimates the values ensureTrain adds (with dropout masks) to a forward's
// workspace.
func trainWorkspaceElems(cfg Config, B, Tp int) int64 {
	b, t := int64(B), int64(Tp)
	H, D, P, L := int64(cfg.HiddenDim), int64(cfg.D()), int64(cfg.PoolDim()), int64(cfg.NumLayers)
	n := b * t * (5*H + (2*(L-1)+6)*D + 4*P)
	n += 2 * b * int64(cfg.NumHeads) * t * t
	n += t * (3*D + t + 2*P)
	var w int64
	for _, x := range cfg.ClassifierWidths {
		w += int64(x)
	}
	n += b * (4*w + D + 2*int64(cfg.NumClasses))
	return n
}

// lossAndGrad is the training-mode forward, the loss and the backward over a validated batch;
// gradients accumulate into gw.
func lossAndGrad[T Float](cfg Config, w, gw *weights[T], ws *workspace[T], bs *backwardScratch[T], x []T, B, Tfull, Tp int,
	lengths []int32, labels []int64, opt TrainStepOptions, dr *dropper) float64 {
	ws.ensureTrain(cfg, B, Tp, dr.on(cfg.Dropout)) // sizes tr.logits before it is passed
	forward(cfg, w, ws, x, B, Tfull, Tp, lengths, opt.Padding, ws.tr.logits, nil, true, dr)
	loss := lossForward(opt.Loss, ws.tr.logits, labels, B, cfg.NumClasses, ws.tr.dlogits)
	backward(cfg, w, gw, ws, bs, x, B, Tfull, Tp, dr)
	return loss
}

// backward runs every layer's backward in reverse order from ws.tr.dlogits, reading the
// activations forward(train=true) left in ws, accumulating parameter gradients into gw.
func backward[T Float](cfg Config, w, gw *weights[T], ws *workspace[T], bs *backwardScratch[T], x []T, B, Tfull, Tp int,
	dr *dropper) {
	H, D, F := cfg.HiddenDim, cfg.D(), cfg.FeatureDim
	p := cfg.Dropout
	tb, lb := &ws.tr, &ws.lb

	// 5. classifier, last Linear first. act(i) is what block i read: pooled, or the (dropped)
	// output of block i−1.
	act := func(i int) []T {
		if i == 0 {
			return ws.pooled
		}
		if pc := cfg.classifierDropout(i - 1); dr.on(pc) {
			return tb.clsDrop[i-1]
		}
		return ws.clsAct[i-1]
	}
	dIn := func(i int) []T {
		if i == 0 {
			return tb.dpooled[:B*D]
		}
		return tb.dcls[i-1]
	}
	dOut := tb.dlogits
	for i := len(gw.cls) - 1; i >= 0; i-- {
		blk, gblk := w.cls[i], gw.cls[i]
		din := dIn(i)
		if i < len(gw.cls)-1 { // hidden block: dOut is the gradient of its (dropped) output
			if pc := cfg.classifierDropout(i); dr.on(pc) {
				dropoutBackward(dr, pc, dOut, tb.clsMask[i])
			}
			reluBackward(dOut, ws.clsAct[i])
			dpre := tb.dclsPre[i]
			clear(dpre)
			layerNormBackward(dpre, gblk.lnW, gblk.lnB, dOut, ws.clsPre[i], blk.lnW, ws.clsMean[i], ws.clsRstd[i], B, blk.out)
			dOut = dpre
		}
		clear(din)
		linearBackward(din, gblk.w, gblk.b, dOut, act(i), blk.w, B, blk.in, blk.out)
		dOut = din
	}

	// 4–3. attention pooling, attention_norm, residual, self-attention (attnBackward).
	bs.ensure(cfg, lb)
	attnBackward(cfg, w, gw, ws, bs, B, Tp, dr)

	// 2. LSTM layers, top first, over the whole batch (lstmBackwardJob). Rows past a clip's
	// length (reference mode's zero padding) are constants: their gradients are never read, and
	// din's are left zero. dattended is free from here on: it holds each layer's input packed,
	// then the packed din.
	N := bs.pos[B]
	dout, dother := tb.dlayer[0], tb.dlayer[1]
	for k := cfg.NumLayers - 1; k >= 0; k-- {
		in, inW, din := ws.proj, H, tb.dproj
		if dr.on(p / 2) {
			in = tb.projDrop
		}
		if k > 0 {
			in, inW, din = ws.layerOut[k-1], D, dother
			if dr.on(p) {
				in = tb.layerDrop[k-1]
			}
		}
		inP := tb.dattended[:N*inW]
		packRows(inP, in, inW, inW, lb, bs.pos)
		job := &bs.lstm
		*job = lstmBackwardJob[T]{w: w.lstm[k], gw: gw.lstm[k], ws: ws, bs: bs, k: k, inP: inP, inW: inW,
			dout: dout, din: din, D: D, H: H, dirs: cfg.Directions()}
		job.run(&ws.call)
		*job = lstmBackwardJob[T]{}
		for b := 0; b < B; b++ {
			clear(din[(b*Tp+lb.n[b])*inW : (b+1)*Tp*inW])
		}
		if k > 0 {
			if dr.on(p) {
				dropoutBackward(dr, p, din[:B*Tp*D], tb.layerMask[k-1])
			}
			dout, dother = din, dout
		}
	}

	// 1. input_projection: Dropout(p/2) ← ReLU ← LayerNorm ← Linear, per clip's valid rows; the
	// Linear's weight gradient over every valid row at once (packed: dprojPre, and the features
	// in dattended when they fit), two fixed parts over its output rows.
	xP := tb.dattended
	packed := N*F <= len(xP)
	for b := 0; b < B; b++ {
		n := lb.n[b]
		rows := func(s []T) []T { return s[b*Tp*H : (b*Tp+n)*H] }
		d := rows(tb.dproj)
		if dr.on(p / 2) {
			dropoutBackward(dr, p/2, d, rows(tb.projMask))
		}
		reluBackward(d, rows(ws.proj))
		dpre := rows(tb.dprojPre)
		if packed {
			dpre = tb.dprojPre[bs.pos[b]*H : (bs.pos[b]+n)*H]
			copy(xP[bs.pos[b]*F:(bs.pos[b]+n)*F], x[b*Tfull*F:(b*Tfull+n)*F])
		}
		clear(dpre)
		layerNormBackward(dpre, gw.inLNW, gw.inLNB, d, rows(tb.projPre), w.inLNW, ws.projMean[b*Tp:], ws.projRstd[b*Tp:], n, H)
		if !packed {
			linearBackward(nil, gw.inW, gw.inB, dpre, x[b*Tfull*F:], w.inW, n, F, H)
		}
	}
	if packed && N > 0 {
		dpre := tb.dprojPre[:N*H]
		j := &bs.pair
		for part := range j.g {
			lo, hi := span(H, len(j.g), part, 16)
			j.g[part] = gemmCall[T]{transA: true, M: hi - lo, N: F, K: N, a: dpre[lo:], lda: H, b: xP[:N*F], ldb: F,
				beta: 1, c: gw.inW[lo*F:], ldc: F}
		}
		ws.call.run(len(j.g), j)
		*j = gemmPairJob[T]{}
		for r := 0; r < N; r++ {
			for o, v := range dpre[r*H : r*H+H] {
				gw.inB[o] += v
			}
		}
	}
}
