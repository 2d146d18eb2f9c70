//go:build !nocuda

package cuda

import (
	"fmt"
	"math"
	"slices"
	"sync"

	"libtemporal/core"
	"libtemporal/cuda/cu"
)

// Model is a core.Model's inference on one CUDA device: its weights uploaded once, a workspace
// reused (grown, never shrunk) across calls, every call run on the device's thread.
type Model struct {
	cfg     core.Config
	host    *core.Model // for CheckForward (validation identical to the CPU path)
	dev     *device
	ops     ops          // gpuOps{dev}; a host emulation in tests
	mu      sync.RWMutex // Forward holds it shared, Close exclusively (so Close waits for calls)
	closed  bool
	weights cu.Ptr // every tensor the forward reads, in one allocation
	w       devWeights
	ws      workspace
	hostFW  []float32 // [B, T′] frame weights on their way back
	order   []int     // clip indices by decreasing length
	ints    []int32   // [lens(B) | order(B)] uploaded per call
	active  []int     // active[t] = clips with n > t

	// phase, when set (tests only), is called after each stage of the forward with the device
	// synchronised first, so the time between calls is that stage's (upload, input projection,
	// LSTM, attention, pooling, classifier + download).
	phase func(name string)
}

// devWeights are device pointers into Model.weights, in the layers' own terms. The LSTM's
// weights are rearranged at upload: both directions' W_ih stacked into one [dirs·4H, in] matrix
// (one product gives both directions' input gates), W_hh [dirs][4H, H] adjacent (one batched
// product per step), and bias_ih + bias_hh summed [dirs][4H].
type devWeights struct {
	inW, inB, inLNW, inLNB cu.Ptr
	wih, whh, bias         []cu.Ptr // per layer
	mhaInW, mhaInB         cu.Ptr
	mhaOutW, mhaOutB       cu.Ptr
	normW, normB           cu.Ptr
	pool0W, pool0B         cu.Ptr
	poolLNW, poolLNB       cu.Ptr
	pool4W, pool4B         cu.Ptr
	clsW, clsB             []cu.Ptr
	clsLNW, clsLNB         []cu.Ptr // hidden blocks only
}

// NewModel uploads m's weights to CUDA device ordinal (the N-th visible device, as "cuda:N").
// It keeps a reference to m only to validate calls; later changes to m's parameters are not
// seen (load a new Model after training).
func NewModel(m *core.Model, ordinal int) (*Model, error) {
	d, err := acquireDevice(ordinal)
	if err != nil {
		return nil, err
	}
	g := &Model{cfg: m.Config(), host: m, dev: d, ops: gpuOps{d}}
	if err := d.run(g.upload); err != nil {
		_ = d.run(func() error { g.free(); return nil })
		releaseDevice(d)
		return nil, err
	}
	return g, nil
}

// Device is the model's device ordinal.
func (g *Model) Device() int { return g.dev.ordinal }

// Close frees the model's device memory (on the device thread) and, for the last model on the
// device, the device's context. It waits for calls in flight on the device. Idempotent.
func (g *Model) Close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil
	}
	g.closed = true
	err := g.dev.run(func() error { return g.free() })
	releaseDevice(g.dev)
	return err
}

// upload stages every tensor in one host buffer, in the order devWeights wants, and copies it
// in one transfer. Runs on the device thread.
func (g *Model) upload() error {
	cfg, m := g.cfg, g.host
	H, dirs := cfg.HiddenDim, cfg.Directions()
	var stage []float32
	var offs []int
	add := func(parts ...[]float32) int {
		off := len(stage)
		for _, p := range parts {
			stage = append(stage, p...)
		}
		// Keep every tensor 256-byte aligned (cuBLAS and vector loads like aligned operands).
		for len(stage)%64 != 0 {
			stage = append(stage, 0)
		}
		offs = append(offs, off)
		return off
	}
	get := func(name string) []float32 {
		p := m.Param(name)
		if p == nil {
			panic("cuda: model has no tensor " + name)
		}
		return p
	}
	type slot struct {
		dst *cu.Ptr
		off int
	}
	var slots []slot
	put := func(dst *cu.Ptr, parts ...[]float32) { slots = append(slots, slot{dst, add(parts...)}) }
	w := &g.w
	put(&w.inW, get("input_projection.0.weight"))
	put(&w.inB, get("input_projection.0.bias"))
	put(&w.inLNW, get("input_projection.1.weight"))
	put(&w.inLNB, get("input_projection.1.bias"))
	w.wih = make([]cu.Ptr, cfg.NumLayers)
	w.whh = make([]cu.Ptr, cfg.NumLayers)
	w.bias = make([]cu.Ptr, cfg.NumLayers)
	for k := 0; k < cfg.NumLayers; k++ {
		var wih, whh, bias [][]float32
		for d := 0; d < dirs; d++ {
			sfx := fmt.Sprintf("_l%d", k)
			if d == 1 {
				sfx += "_reverse"
			}
			wih = append(wih, get("lstm.weight_ih"+sfx))
			whh = append(whh, get("lstm.weight_hh"+sfx))
			bih, bhh := get("lstm.bias_ih"+sfx), get("lstm.bias_hh"+sfx)
			sum := make([]float32, 4*H)
			for j := range sum {
				sum[j] = bih[j] + bhh[j]
			}
			bias = append(bias, sum)
		}
		put(&w.wih[k], wih...)
		put(&w.whh[k], whh...)
		put(&w.bias[k], bias...)
	}
	put(&w.mhaInW, get("attention.in_proj_weight"))
	put(&w.mhaInB, get("attention.in_proj_bias"))
	put(&w.mhaOutW, get("attention.out_proj.weight"))
	put(&w.mhaOutB, get("attention.out_proj.bias"))
	put(&w.normW, get("attention_norm.weight"))
	put(&w.normB, get("attention_norm.bias"))
	put(&w.pool0W, get("attention_pooling.0.weight"))
	put(&w.pool0B, get("attention_pooling.0.bias"))
	put(&w.poolLNW, get("attention_pooling.1.weight"))
	put(&w.poolLNB, get("attention_pooling.1.bias"))
	put(&w.pool4W, get("attention_pooling.4.weight"))
	put(&w.pool4B, get("attention_pooling.4.bias"))
	nh := len(cfg.ClassifierWidths)
	w.clsW = make([]cu.Ptr, nh+1)
	w.clsB = make([]cu.Ptr, nh+1)
	w.clsLNW = make([]cu.Ptr, nh)
	w.clsLNB = make([]cu.Ptr, nh)
	for i := 0; i <= nh; i++ {
		put(&w.clsW[i], get(fmt.Sprintf("classifier.%d.weight", 4*i)))
		put(&w.clsB[i], get(fmt.Sprintf("classifier.%d.bias", 4*i)))
		if i < nh {
			put(&w.clsLNW[i], get(fmt.Sprintf("classifier.%d.weight", 4*i+1)))
			put(&w.clsLNB[i], get(fmt.Sprintf("classifier.%d.bias", 4*i+1)))
		}
	}
	base, err := g.ops.alloc(4 * uint64(len(stage)))
	if err != nil {
		return core.Wrap(core.KindDevice, err, "uploading %d weights", len(stage))
	}
	g.weights = base
	for _, s := range slots {
		*s.dst = base + cu.Ptr(4*s.off)
	}
	return g.ops.htodF(base, stage)
}

// free releases the model's device memory. Runs on the device thread.
func (g *Model) free() error {
	var first error
	for _, p := range []*cu.Ptr{&g.weights, &g.ws.base} {
		if *p != 0 {
			if err := g.ops.free(*p); err != nil && first == nil {
				first = err
			}
			*p = 0
		}
	}
	g.ws.cap = 0
	return first
}

// workspace is one device allocation carved into the forward's buffers for B clips of T frames
// (input) padded to Tp steps (after the input projection). Row blocks are per clip, as in core.
type workspace struct {
	base                                  cu.Ptr
	cap                                   int64 // floats allocated
	x                                     cu.Ptr
	ints                                  cu.Ptr // int32 [lens(B) | order(B)]
	proj                                  cu.Ptr // [B·Tp, H]
	gin                                   cu.Ptr // [B·Tp, dirs·4H] LSTM input gates; later qkv [B·Tp, 3D] (3D ≤ 4D)
	outs                                  [2]cu.Ptr
	h, c                                  cu.Ptr // [dirs, B, H]
	rec                                   cu.Ptr // [dirs, B, 4H]
	q, k, v, ctxh, ctx, attnOut, attended cu.Ptr // [B·Tp, D] (q, k, v, ctxh as [B·heads, Tp, hd])
	scores                                cu.Ptr // [B·heads, Tp, Tp]
	poolHid                               cu.Ptr // [B·Tp, P]
	score, poolW                          cu.Ptr // [B·Tp]
	pooled                                cu.Ptr // [B, D]
	cls                                   []cu.Ptr
	logits                                cu.Ptr // [B, C]
}

// layout assigns the workspace's buffers from base (nil base: only counts) and returns the
// floats needed; every buffer starts 256-byte aligned.
func (ws *workspace) layout(cfg core.Config, base cu.Ptr, B, T, Tp int) int64 {
	H, D, P, F, dirs := int64(cfg.HiddenDim), int64(cfg.D()), int64(cfg.PoolDim()), int64(cfg.FeatureDim), int64(cfg.Directions())
	b, bt := int64(B), int64(B)*int64(Tp)
	heads := int64(cfg.NumHeads)
	var off int64
	take := func(n int64) cu.Ptr {
		p := base + cu.Ptr(4*off)
		off += (n + 63) / 64 * 64
		return p
	}
	ws.x = take(b * int64(T) * F)
	ws.ints = take(2 * b)
	ws.proj = take(bt * H)
	ws.gin = take(bt * max(dirs*4*H, 3*D))
	ws.outs[0] = take(bt * D)
	ws.outs[1] = take(bt * D)
	ws.h = take(dirs * b * H)
	ws.c = take(dirs * b * H)
	ws.rec = take(dirs * b * 4 * H)
	ws.q, ws.k, ws.v = take(bt*D), take(bt*D), take(bt*D)
	ws.ctxh, ws.ctx = take(bt*D), take(bt*D)
	ws.attnOut, ws.attended = take(bt*D), take(bt*D)
	ws.scores = take(b * heads * int64(Tp) * int64(Tp))
	ws.poolHid = take(bt * P)
	ws.score, ws.poolW = take(bt), take(bt)
	ws.pooled = take(b * D)
	ws.cls = ws.cls[:0]
	for _, wd := range cfg.ClassifierWidths {
		ws.cls = append(ws.cls, take(b*int64(wd)))
	}
	ws.logits = take(b * int64(cfg.NumClasses))
	return off
}

// ensure makes the workspace large enough for the shape (device thread).
func (g *Model) ensure(B, T, Tp int) error {
	ws := &g.ws
	need := ws.layout(g.cfg, 0, B, T, Tp)
	if need > ws.cap {
		if ws.base != 0 {
			if err := g.ops.free(ws.base); err != nil {
				return err
			}
			ws.base, ws.cap = 0, 0
		}
		p, err := g.ops.alloc(4 * uint64(need))
		if err != nil {
			return core.Wrap(core.KindDevice, err, "workspace for %d clips of %d frames", B, Tp)
		}
		ws.base, ws.cap = p, need
	}
	ws.layout(g.cfg, ws.base, B, T, Tp)
	return nil
}

// Forward is core.Model.Forward on the device: x [B, T, F], optional lengths [B], both padding
// modes; logits [B, C] and, when frameWeights is not nil, the pooling weights [B, T] (zero where
// DESIGN §2 says). Validation is core's own, done on the caller's goroutine before any CUDA
// call. Calls on one device run one at a time on its thread.
func (g *Model) Forward(x []float32, B, T int, lengths []int32, pad core.Padding, logits, frameWeights []float32) error {
	Tp, err := g.host.CheckForward(x, B, T, lengths, pad, logits, frameWeights)
	if err != nil {
		return err
	}
	if err := g.checkSizes(B, T, Tp); err != nil {
		return err
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.closed {
		return core.Errf(core.KindInvalidArgument, "cuda: model is closed")
	}
	return g.dev.run(func() error { return g.forward(x, B, T, Tp, lengths, pad, logits, frameWeights) })
}

// checkSizes refuses shapes whose products overflow cuBLAS's and the kernels' 32-bit counts.
func (g *Model) checkSizes(B, T, Tp int) error {
	c := g.cfg
	lim := int64(math.MaxInt32)
	if int64(B)*int64(T) > lim || int64(B)*int64(c.NumHeads) > lim {
		return core.Errf(core.KindOutOfMemory, "cuda: a batch of %d clips of %d frames is too large for one call", B, T)
	}
	return nil
}

// Activations of tk_bias_act and tk_layernorm.
const (
	actNone = 0
	actReLU = 1
	actTanh = 2
)

// forward runs on the device thread (or over the host emulation in tests).
func (g *Model) forward(x []float32, B, T, Tp int, lengths []int32, pad core.Padding, logits, frameWeights []float32) error {
	cfg, w, o := g.cfg, &g.w, g.ops
	H, D, F, P, C := cfg.HiddenDim, cfg.D(), cfg.FeatureDim, cfg.PoolDim(), cfg.NumClasses
	dirs, heads := cfg.Directions(), cfg.NumHeads
	hd := D / heads
	G := 4 * H
	BTp := int64(B) * int64(Tp)
	masked := pad == core.PaddingMasked
	if err := g.ensure(B, T, Tp); err != nil {
		return err
	}
	ws := &g.ws

	// Lengths, clips by decreasing length (ties by index, as core), and the number of clips
	// still active at each step: a prefix of that order.
	g.order = slices.Grow(g.order[:0], B)[:B]
	g.ints = slices.Grow(g.ints[:0], 2*B)[:2*B]
	for b := 0; b < B; b++ {
		n := int32(Tp)
		if lengths != nil {
			n = lengths[b]
		}
		g.ints[b] = n
		g.order[b] = b
	}
	slices.SortStableFunc(g.order, func(a, b int) int { return int(g.ints[b]) - int(g.ints[a]) })
	for r, b := range g.order {
		g.ints[B+r] = int32(b)
	}
	g.active = slices.Grow(g.active[:0], Tp)[:Tp]
	clear(g.active)
	for b := 0; b < B; b++ {
		for t := 0; t < int(g.ints[b]); t++ {
			g.active[t]++
		}
	}
	lens, order := ws.ints, ws.ints+cu.Ptr(4*B)

	if err := o.htodF(ws.x, x[:B*T*F]); err != nil {
		return err
	}
	if err := o.htodI(ws.ints, g.ints); err != nil {
		return err
	}
	// Each step's error ends the forward; later steps are skipped.
	var err error
	do := func(e error) {
		if err == nil {
			err = e
		}
	}

	mark := func(name string) {
		if g.phase != nil {
			do(o.sync())
			g.phase(name)
		}
	}
	mark("upload")

	// 1. input_projection: Linear → LayerNorm → ReLU over the first Tp frames of every clip
	// (rows past a clip's length are computed and never read).
	if Tp == T {
		do(o.gemm(false, true, B*Tp, H, F, ws.x, F, w.inW, F, ws.proj, H))
	} else {
		do(o.gemmBatched(false, true, Tp, H, F, ws.x, F, int64(T)*int64(F), w.inW, F, 0, ws.proj, H,
			int64(Tp)*int64(H), B))
	}
	do(o.layerNorm(ws.proj, ws.proj, w.inB, 0, w.inLNW, w.inLNB, BTp, H, actReLU))

	mark("input projection")

	// 2. LSTM, packed semantics; outputs past a clip's length stay zero (reference mode reads
	// them as attention keys and queries).
	in, inW := ws.proj, H
	var out cu.Ptr
	state := int64(dirs) * int64(B) * int64(H)
	for l := 0; l < cfg.NumLayers && err == nil; l++ {
		out = ws.outs[l%2]
		do(o.fill(out, 0, BTp*int64(D)))
		// Input gates of both directions for every step in one product: [B·Tp, dirs·4H].
		do(o.gemm(false, true, B*Tp, dirs*G, inW, in, inW, w.wih[l], inW, ws.gin, dirs*G))
		do(o.fill(ws.h, 0, state))
		do(o.fill(ws.c, 0, state))
		for step := 0; step < Tp && err == nil; step++ {
			a := g.active[step]
			if dirs == 2 {
				a = max(a, g.active[Tp-1-step])
			}
			// rec[d][r] = h[d][r]·W_hh[d]ᵀ for the first a clips (in length order) of every
			// direction, in one batched product.
			do(o.gemmBatched(false, true, a, G, H, ws.h, H, int64(B)*int64(H), w.whh[l], H, int64(G)*int64(H),
				ws.rec, G, int64(B)*int64(G), dirs))
			do(o.lstmStep(ws.gin, ws.rec, w.bias[l], ws.h, ws.c, out, order, lens, B, Tp, H, dirs, step))
		}
		in, inW = out, D
	}
	lstmOut := out

	mark("lstm")

	// 3. Self-attention (masked: keys past the clip's length excluded, which equals the clip run
	// alone; reference: all Tp rows), then attention_norm(lstm_out + attn_out).
	qkv := ws.gin
	do(o.gemm(false, true, B*Tp, 3*D, D, lstmOut, D, w.mhaInW, D, qkv, 3*D))
	do(o.qkvSplit(qkv, w.mhaInB, ws.q, ws.k, ws.v, B, Tp, D, heads, float32(math.Sqrt(float64(hd)))))
	bh := B * heads
	tt := int64(Tp) * int64(Tp)
	th := int64(Tp) * int64(hd)
	do(o.gemmBatched(false, true, Tp, Tp, hd, ws.q, hd, th, ws.k, hd, th, ws.scores, Tp, tt, bh))
	do(o.attnSoftmax(ws.scores, lens, B, heads, Tp, masked))
	do(o.gemmBatched(false, false, Tp, hd, Tp, ws.scores, Tp, tt, ws.v, hd, th, ws.ctxh, hd, th, bh))
	do(o.mergeHeads(ws.ctxh, ws.ctx, B, Tp, D, heads))
	do(o.gemm(false, true, B*Tp, D, D, ws.ctx, D, w.mhaOutW, D, ws.attnOut, D))
	do(o.layerNorm(ws.attended, ws.attnOut, w.mhaOutB, lstmOut, w.normW, w.normB, BTp, D, actNone))

	mark("attention")

	// 4. Attention pooling: Linear → LayerNorm → Tanh → Linear(P→1), softmax over the clip's
	// rows, weighted sum.
	do(o.gemm(false, true, B*Tp, P, D, ws.attended, D, w.pool0W, D, ws.poolHid, P))
	do(o.layerNorm(ws.poolHid, ws.poolHid, w.pool0B, 0, w.poolLNW, w.poolLNB, BTp, P, actTanh))
	do(o.gemm(false, true, B*Tp, 1, P, ws.poolHid, P, w.pool4W, P, ws.score, 1))
	do(o.poolSoftmax(ws.score, w.pool4B, ws.poolW, lens, B, Tp, masked))
	do(o.poolSum(ws.poolW, ws.attended, ws.pooled, lens, B, Tp, D, masked))

	mark("pooling")

	// 5. Classifier: (Linear → LayerNorm → ReLU) per hidden width, then Linear → logits.
	act, width := ws.pooled, D
	for i, wd := range cfg.ClassifierWidths {
		do(o.gemm(false, true, B, wd, width, act, width, w.clsW[i], width, ws.cls[i], wd))
		do(o.layerNorm(ws.cls[i], ws.cls[i], w.clsB[i], 0, w.clsLNW[i], w.clsLNB[i], int64(B), wd, actReLU))
		act, width = ws.cls[i], wd
	}
	last := len(cfg.ClassifierWidths)
	do(o.gemm(false, true, B, C, width, act, width, w.clsW[last], width, ws.logits, C))
	do(o.biasAct(ws.logits, w.clsB[last], int64(B), C, actNone))
	do(o.sync())
	if err != nil {
		return err
	}

	if err := o.dtohF(logits[:B*C], ws.logits); err != nil {
		return err
	}
	if frameWeights != nil {
		g.hostFW = slices.Grow(g.hostFW[:0], B*Tp)[:B*Tp]
		if err := o.dtohF(g.hostFW, ws.poolW); err != nil {
			return err
		}
		for b := 0; b < B; b++ {
			fw := frameWeights[b*T : (b+1)*T]
			copy(fw, g.hostFW[b*Tp:(b+1)*Tp])
			clear(fw[Tp:])
		}
	}
	return nil
}
