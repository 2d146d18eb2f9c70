package core

import (
	"fmt"
	"math"
	"slices"
)

// Padding selects how a padded mixed-length batch is treated (DESIGN §2).
type Padding int

const (
	// PaddingMasked (default): each clip's output equals the clip run alone.
	PaddingMasked Padding = 0
	// PaddingReference: PyTorch's unmasked batch behaviour, cut to max(lengths).
	PaddingReference Padding = 1
)

func (p Padding) String() string {
	switch p {
	case PaddingMasked:
		return "masked"
	case PaddingReference:
		return "reference"
	}
	return fmt.Sprintf("padding(%d)", int(p))
}

// ParsePadding accepts "masked" and "reference".
func ParsePadding(s string) (Padding, error) {
	switch s {
	case "masked", "":
		return PaddingMasked, nil
	case "reference":
		return PaddingReference, nil
	}
	return 0, Errf(KindInvalidArgument, "unknown padding mode %q (want masked or reference)", s)
}

// Limits on one forward call's shapes, so that every derived size stays far from overflow and a
// hostile call fails before allocating.
const (
	MaxBatch          = 1 << 20
	MaxFrames         = 1 << 20
	maxWorkspaceElems = 1 << 32 // 16 GiB of float32
)

// weights binds every parameter of the model to typed views, in the layers' own terms.
type weights[T Float] struct {
	inW, inB, inLNW, inLNB []T
	lstm                   [][]lstmWeights[T] // [layer][direction]
	mha                    mhaWeights[T]
	normW, normB           []T
	pool                   poolingWeights[T]
	cls                    []classifierBlock[T] // hidden blocks, then the final Linear (no LN)
}

// classifierBlock is Linear → LayerNorm → ReLU → Dropout; the last block has only the Linear.
type classifierBlock[T Float] struct {
	w, b, lnW, lnB []T
	in, out        int
}

func bindWeights[T Float](cfg Config, get func(string) []T) *weights[T] {
	w := &weights[T]{
		inW: get("input_projection.0.weight"), inB: get("input_projection.0.bias"),
		inLNW: get("input_projection.1.weight"), inLNB: get("input_projection.1.bias"),
		mha: mhaWeights[T]{get("attention.in_proj_weight"), get("attention.in_proj_bias"),
			get("attention.out_proj.weight"), get("attention.out_proj.bias")},
		normW: get("attention_norm.weight"), normB: get("attention_norm.bias"),
		pool: poolingWeights[T]{get("attention_pooling.0.weight"), get("attention_pooling.0.bias"),
			get("attention_pooling.1.weight"), get("attention_pooling.1.bias"),
			get("attention_pooling.4.weight"), get("attention_pooling.4.bias")},
	}
	for k := 0; k < cfg.NumLayers; k++ {
		var dirs []lstmWeights[T]
		for d := 0; d < cfg.Directions(); d++ {
			sfx := fmt.Sprintf("_l%d%s", k, lstmSuffix(d))
			dirs = append(dirs, lstmWeights[T]{wih: get("lstm.weight_ih" + sfx), whh: get("lstm.weight_hh" + sfx),
				bih: get("lstm.bias_ih" + sfx), bhh: get("lstm.bias_hh" + sfx)})
		}
		w.lstm = append(w.lstm, dirs)
	}
	in := cfg.D()
	for i, width := range cfg.ClassifierWidths {
		w.cls = append(w.cls, classifierBlock[T]{
			w: get(fmt.Sprintf("classifier.%d.weight", 4*i)), b: get(fmt.Sprintf("classifier.%d.bias", 4*i)),
			lnW: get(fmt.Sprintf("classifier.%d.weight", 4*i+1)), lnB: get(fmt.Sprintf("classifier.%d.bias", 4*i+1)),
			in: in, out: width})
		in = width
	}
	last := 4 * len(cfg.ClassifierWidths)
	w.cls = append(w.cls, classifierBlock[T]{w: get(fmt.Sprintf("classifier.%d.weight", last)),
		b: get(fmt.Sprintf("classifier.%d.bias", last)), in: in, out: cfg.NumClasses})
	return w
}

// workspace holds every activation of one forward pass, batch-wide, so that a backward pass can
// read them and so that steady-state calls allocate nothing. Row blocks are per clip: clip b
// owns rows b·Tp … b·Tp+Tp−1 of each [B, Tp, ·] buffer.
type workspace[T Float] struct {
	lb        lstmBatch
	pos       []int // [B+1] clip b's first row in packed order (packedOffsets)
	padded    bool  // some clip is shorter than T′: batched products gather the valid rows
	proj      []T   // [B, Tp, H] input_projection output (LayerNorm + ReLU applied)
	projMean  []T   // [B·Tp] LayerNorm statistics
	projRstd  []T   //
	layerOut  [][]T // [L][B, Tp, D] LSTM layer outputs
	gates     [][]T // [L·dirs][B, Tp, 4H] activated gates
	cells     [][]T // [L·dirs][B, Tp, H]
	h, c, rec []T   // [B, H], [B, H], [B, 4H]
	rows      []int // [B] rows each clip uses after the LSTM (n_b masked, Tp reference)
	qkv       []T   // [B, Tp, 3D]
	probs     []T   // [B, heads, Tp, Tp]
	ctx       []T   // [B, Tp, D]
	attnOut   []T   // [B, Tp, D]
	attended  []T   // [B, Tp, D] attention_norm(lstm_out + attn_out)
	normMean  []T   // [B·Tp]
	normRstd  []T
	poolHid   []T // [B, Tp, P]
	poolMean  []T // [B·Tp]
	poolRstd  []T
	poolW     []T   // [B, Tp] per-frame weights
	pooled    []T   // [B, D]
	clsAct    [][]T // per classifier block: [B, width] output after LN + ReLU (last: logits)
	clsPre    [][]T // per hidden block: [B, width] Linear output (before LN), for backward
	clsMean   [][]T // [B]
	clsRstd   [][]T
	tr        trainBuffers[T] // sized only by a training pass

	call    poolCall        // this workspace's pool bookkeeping (one forward at a time uses it)
	lstmJob lstmLayerJob[T] // both directions of one layer, one part per direction
	clipJob attnClipJob[T]  // attention + pooling per clip, parts over clips
	parLin  parLinear[T]    // a clip's Linear layers over the pool when the clips leave threads idle
	rowJob  rowBlocksJob[T] // products over the whole batch's rows (batchRows)
}

// trainBuffers hold what only a training pass needs: the inputs of in-place layers that the
// backward reads, dropout outputs and masks, and the gradients of the activations.
type trainBuffers[T Float] struct {
	projPre              []T   // [B, Tp, H] input_projection Linear output (LayerNorm input)
	projDrop, projMask   []T   // [B, Tp, H] dropout(p/2) after the ReLU: the LSTM's input
	layerDrop, layerMask [][]T // [L−1][B, Tp, D] inter-layer dropout(p) of LSTM layers 0..L−2
	probsDrop, probsMask []T   // [B, heads, Tp, Tp] dropout(p) on the attention weights
	attnMask             []T   // [B, Tp, D] attention_dropout(p) on attn_out (applied in place)
	resid                []T   // [B, Tp, D] lstm_out + dropout(attn_out): attention_norm's input
	poolPre              []T   // [B, Tp, P] attention_pooling.0 output (LayerNorm input)
	poolDrop, poolMask   []T   // [B, Tp, P] dropout(p/2) after the Tanh
	clsDrop, clsMask     [][]T // per hidden classifier block [B, width]
	logits               []T   // [B, C]

	dlogits            []T    // [B, C]
	dcls, dclsPre      [][]T  // per hidden block [B, width]: its (dropped) output, its Linear output
	dpooled            []T    // [B, D]
	dattended, dresid  []T    // [B, Tp, D]
	dqkv               []T    // [Tp, 3D]
	dprobs             []T    // [Tp, Tp]
	dpoolHid, dpoolPre []T    // [Tp, P]
	dlayer             [2][]T // [B, Tp, D] gradients of a layer's output and input, in turn
	dproj, dprojPre    []T    // [B, Tp, H]
}

func grow[T any](s *[]T, n int) []T {
	if cap(*s) < n {
		*s = make([]T, n)
	}
	*s = (*s)[:n]
	return *s
}

// workspaceElems estimates the floats a forward of this shape needs, to refuse absurd shapes
// before allocating.
func workspaceElems(cfg Config, B, Tp int) int64 {
	b, t := int64(B), int64(Tp)
	H, D := int64(cfg.HiddenDim), int64(cfg.D())
	L, dirs := int64(cfg.NumLayers), int64(cfg.Directions())
	n := b * t * (H + L*D + L*dirs*5*H + 3*D + 3*D + int64(cfg.PoolDim()) + 8)
	n += b * int64(cfg.NumHeads) * t * t
	return n
}

// ensure sizes the workspace for B clips of Tp steps. train: the backward will read every
// layer's output, gates and cells; without it (inference) layer k's buffers may be layer k−2's
// output and layer k−1's gates and cells, which are dead by then — 3.4× less LSTM workspace at
// the default config (≈ 43 MB per 1000 rows instead of ≈ 147; the whole workspace at B = 32,
// T = 64 goes from ≈ 390 MB to ≈ 180).
func (ws *workspace[T]) ensure(cfg Config, B, Tp int, train bool) {
	H, D, P, L, dirs := cfg.HiddenDim, cfg.D(), cfg.PoolDim(), cfg.NumLayers, cfg.Directions()
	BT := B * Tp
	grow(&ws.lb.n, B)
	grow(&ws.lb.order, B)
	grow(&ws.pos, B+1)
	grow(&ws.rows, B)
	grow(&ws.proj, BT*H)
	grow(&ws.projMean, BT)
	grow(&ws.projRstd, BT)
	grow(&ws.layerOut, L)
	growLayers(ws.layerOut, BT*D, 2, !train) // layer k reads k−1 and writes k
	grow(&ws.gates, L*dirs)
	grow(&ws.cells, L*dirs)
	growLayers(ws.gates, BT*4*H, dirs, !train) // index k·dirs + d
	growLayers(ws.cells, BT*H, dirs, !train)
	grow(&ws.h, dirs*B*H) // per direction: the directions run concurrently
	grow(&ws.c, dirs*B*H)
	grow(&ws.rec, dirs*B*4*H)
	grow(&ws.qkv, BT*3*D)
	grow(&ws.probs, B*cfg.NumHeads*Tp*Tp)
	grow(&ws.ctx, BT*D)
	grow(&ws.attnOut, BT*D)
	grow(&ws.attended, BT*D)
	grow(&ws.normMean, BT)
	grow(&ws.normRstd, BT)
	grow(&ws.poolHid, BT*P)
	grow(&ws.poolMean, BT)
	grow(&ws.poolRstd, BT)
	grow(&ws.poolW, BT)
	grow(&ws.pooled, B*D)
	nb := len(cfg.ClassifierWidths) + 1
	grow(&ws.clsAct, nb)
	grow(&ws.clsPre, nb)
	grow(&ws.clsMean, nb)
	grow(&ws.clsRstd, nb)
	for i := 0; i < nb; i++ {
		width := cfg.NumClasses
		if i < len(cfg.ClassifierWidths) {
			width = cfg.ClassifierWidths[i]
		}
		grow(&ws.clsAct[i], B*width)
		grow(&ws.clsPre[i], B*width)
		grow(&ws.clsMean[i], B)
		grow(&ws.clsRstd[i], B)
	}
}

// growLayers sizes bufs[i] to n elements. shared (inference) lets bufs[i] for i ≥ period be
// bufs[i % period]; without it every buffer is its own. A buffer already large enough is kept
// as it is in inference (a workspace that has trained keeps its own buffers, so alternating
// training steps and predicts allocates nothing).
func growLayers[T any](bufs [][]T, n, period int, shared bool) {
	for i := range bufs {
		if i < period {
			grow(&bufs[i], n)
			continue
		}
		base := bufs[i%period]
		alias := cap(bufs[i]) > 0 && &bufs[i][:1][0] == &base[:1][0]
		switch {
		case shared && (alias || cap(bufs[i]) < n):
			bufs[i] = base[:n]
		case !shared && alias:
			bufs[i] = make([]T, n)
		default:
			grow(&bufs[i], n)
		}
	}
}

// ensureTrain also sizes the training buffers (masks only when dropout acts).
func (ws *workspace[T]) ensureTrain(cfg Config, B, Tp int, dropout bool) {
	ws.ensure(cfg, B, Tp, true)
	H, D, P, L, heads := cfg.HiddenDim, cfg.D(), cfg.PoolDim(), cfg.NumLayers, cfg.NumHeads
	BT := B * Tp
	tb := &ws.tr
	grow(&tb.projPre, BT*H)
	grow(&tb.resid, BT*D)
	grow(&tb.poolPre, BT*P)
	grow(&tb.logits, B*cfg.NumClasses)
	nh := len(cfg.ClassifierWidths)
	if dropout {
		grow(&tb.projDrop, BT*H)
		grow(&tb.projMask, BT*H)
		grow(&tb.layerDrop, L-1)
		grow(&tb.layerMask, L-1)
		for k := 0; k < L-1; k++ {
			grow(&tb.layerDrop[k], BT*D)
			grow(&tb.layerMask[k], BT*D)
		}
		grow(&tb.probsDrop, B*heads*Tp*Tp)
		grow(&tb.probsMask, B*heads*Tp*Tp)
		grow(&tb.attnMask, BT*D)
		grow(&tb.poolDrop, BT*P)
		grow(&tb.poolMask, BT*P)
		grow(&tb.clsDrop, nh)
		grow(&tb.clsMask, nh)
		for i, w := range cfg.ClassifierWidths {
			grow(&tb.clsDrop[i], B*w)
			grow(&tb.clsMask[i], B*w)
		}
	}
	grow(&tb.dlogits, B*cfg.NumClasses)
	grow(&tb.dcls, nh)
	grow(&tb.dclsPre, nh)
	for i, w := range cfg.ClassifierWidths {
		grow(&tb.dcls[i], B*w)
		grow(&tb.dclsPre[i], B*w)
	}
	grow(&tb.dpooled, B*D)
	grow(&tb.dattended, BT*D)
	grow(&tb.dresid, BT*D)
	grow(&tb.dqkv, Tp*3*D)
	grow(&tb.dprobs, Tp*Tp)
	grow(&tb.dpoolHid, Tp*P)
	grow(&tb.dpoolPre, Tp*P)
	grow(&tb.dlayer[0], BT*D)
	grow(&tb.dlayer[1], BT*D)
	grow(&tb.dproj, BT*H)
	grow(&tb.dprojPre, BT*H)
}

// batchShape validates a forward call's shapes and lengths and returns T′ (the LSTM output
// length: max(lengths), or T without lengths).
func batchShape(cfg Config, xLen, B, T int, lengths []int32) (int, error) {
	if B < 1 || B > MaxBatch {
		return 0, Errf(KindInvalidArgument, "batch = %d out of range [1, %d]", B, MaxBatch)
	}
	if T < 1 || T > MaxFrames {
		return 0, Errf(KindInvalidArgument, "frames = %d out of range [1, %d]", T, MaxFrames)
	}
	want := int64(B) * int64(T) * int64(cfg.FeatureDim)
	if int64(xLen) != want {
		return 0, Errf(KindShape, "features hold %d values, want batch·frames·feature_dim = %d·%d·%d = %d",
			xLen, B, T, cfg.FeatureDim, want)
	}
	Tp := T
	if lengths != nil {
		if len(lengths) != B {
			return 0, Errf(KindShape, "lengths hold %d values for a batch of %d", len(lengths), B)
		}
		Tp = 0
		for b, n := range lengths {
			if n < 1 || int(n) > T {
				return 0, Errf(KindInvalidArgument, "lengths[%d] = %d out of range [1, %d]", b, n, T)
			}
			Tp = max(Tp, int(n))
		}
	}
	if e := workspaceElems(cfg, B, Tp); e > maxWorkspaceElems {
		return 0, Errf(KindOutOfMemory, "a batch of %d clips of %d frames needs %d workspace values, over the limit %d",
			B, Tp, e, int64(maxWorkspaceElems))
	}
	return Tp, nil
}

// checkFinite rejects NaN and Inf features (documented: TEMPORAL_ERR_NUMERIC). Every element is
// read, which is also what lets the C API turn an unmapped caller buffer into an error.
func checkFinite[T Float](x []T, what string) error {
	for i, v := range x {
		if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
			return Errf(KindNumeric, "%s[%d] is %v: inputs must be finite", what, i, v)
		}
	}
	return nil
}

// Forward runs the model in inference mode (dropout off) on x [B, T, F] float32 with optional
// lengths [B] (nil: every clip has T frames). It writes logits [B, C] into logits[:B*C] and, when
// frameWeights is not nil, the attention-pooling weights [B, T] into frameWeights[:B*T] (zero
// where DESIGN §2 says). Safe for concurrent use; allocates nothing in steady state.
func (m *Model) Forward(x []float32, B, T int, lengths []int32, pad Padding, logits, frameWeights []float32) error {
	Tp, err := m.checkForward(len(x), B, T, lengths, pad, len(logits), frameWeights)
	if err != nil {
		return err
	}
	if err := checkFinite(x, "features"); err != nil {
		return err
	}
	ws := m.getWorkspace()
	defer m.putWorkspace(ws)
	forward(m.cfg, m.inferenceWeights(), ws, x, B, T, Tp, lengths, pad, logits, frameWeights, false, nil)
	return nil
}

// ForwardFloat64 is the same computation in float64 on a float64 copy of the weights: the
// instantiation that the float64 parity fixtures and finite-difference checks use.
func (m *Model) ForwardFloat64(x []float64, B, T int, lengths []int32, pad Padding, logits, frameWeights []float64) error {
	Tp, err := m.checkForward(len(x), B, T, lengths, pad, len(logits), frameWeights)
	if err != nil {
		return err
	}
	if err := checkFinite(x, "features"); err != nil {
		return err
	}
	w := bindWeights(m.cfg, func(name string) []float64 {
		src := m.Param(name)
		d := make([]float64, len(src))
		for i, v := range src {
			d[i] = float64(v)
		}
		return d
	})
	forward(m.cfg, w, &workspace[float64]{}, x, B, T, Tp, lengths, pad, logits, frameWeights, false, nil)
	return nil
}

func (m *Model) checkForward(xLen, B, T int, lengths []int32, pad Padding, logitsLen int, fw any) (int, error) {
	if pad != PaddingMasked && pad != PaddingReference {
		return 0, Errf(KindInvalidArgument, "unknown padding mode %d", int(pad))
	}
	Tp, err := batchShape(m.cfg, xLen, B, T, lengths)
	if err != nil {
		return 0, err
	}
	if logitsLen < B*m.cfg.NumClasses {
		return 0, Errf(KindShape, "logits buffer holds %d values, needs batch·classes = %d", logitsLen, B*m.cfg.NumClasses)
	}
	fwLen := -1
	switch f := fw.(type) {
	case []float32:
		if f != nil {
			fwLen = len(f)
		}
	case []float64:
		if f != nil {
			fwLen = len(f)
		}
	}
	if fwLen >= 0 && fwLen < B*T {
		return 0, Errf(KindShape, "frame_weights buffer holds %d values, needs batch·frames = %d", fwLen, B*T)
	}
	return Tp, nil
}

func (m *Model) getWorkspace() *workspace[float32] {
	m.wsMu.Lock()
	defer m.wsMu.Unlock()
	if n := len(m.wsFree); n > 0 {
		ws := m.wsFree[n-1]
		m.wsFree = m.wsFree[:n-1]
		return ws
	}
	return &workspace[float32]{}
}

func (m *Model) putWorkspace(ws *workspace[float32]) {
	m.wsMu.Lock()
	m.wsFree = append(m.wsFree, ws)
	m.wsMu.Unlock()
}

// ReleaseWorkspaces drops cached workspaces (memory returns to the Go heap).
func (m *Model) ReleaseWorkspaces() {
	m.wsMu.Lock()
	m.wsFree = nil
	m.wsMu.Unlock()
}

// forward is the whole model over a validated batch. Tp = max(lengths) (or T). With train it
// also keeps what the backward reads (the inputs of layers that inference runs in place), and
// dr, when not nil, applies dropout where DESIGN §2 places it; without train (inference) the
// training buffers are neither sized nor touched. Dropout off is exactly the inference
// computation: the same operations on the same values.
func forward[T Float](cfg Config, w *weights[T], ws *workspace[T], x []T, B, Tfull, Tp int, lengths []int32,
	pad Padding, logits, frameWeights []T, train bool, dr *dropper) {
	H, D, F := cfg.HiddenDim, cfg.D(), cfg.FeatureDim
	p := cfg.Dropout
	threads := NumThreads() // one snapshot: the partition of this call
	if train {
		ws.ensureTrain(cfg, B, Tp, dr.on(p))
	} else {
		ws.ensure(cfg, B, Tp, false)
	}
	tb := &ws.tr
	lb := &ws.lb
	lb.B, lb.Tp = B, Tp
	for b := 0; b < B; b++ {
		lb.n[b] = Tp
		if lengths != nil {
			lb.n[b] = int(lengths[b])
		}
		lb.order[b] = b
	}
	sortByLengthDesc(lb.order, lb.n)

	// 1. input_projection on each clip's valid frames: Linear → LayerNorm → ReLU → Dropout(p/2).
	pre, in := ws.proj, ws.proj
	if train {
		pre = tb.projPre
	}
	if dr.on(p / 2) {
		in = tb.projDrop
	}
	// batched: the large products run over the batch's valid rows at once (batchRows). x's
	// rows are clip after clip when T′ = T; gathering them borrows ws.qkv (free until attention).
	batched := batchRows(B, Tp)
	packedOffsets(ws.pos, lb)
	ws.padded = ws.pos[B] < B*Tp
	projDone := batched && Tp == Tfull && (!ws.padded || F <= 3*D)
	if projDone {
		ws.rowsProduct(ws.padded, x, F, ws.qkv, w.inW, w.inB, pre, H)
	}
	for b := 0; b < B; b++ {
		n := lb.n[b]
		rows := func(s []T) []T { return s[b*Tp*H : (b*Tp+n)*H] }
		out := rows(ws.proj)
		if !projDone {
			var pl *parLinear[T] // a lone clip's product over the pool's threads (columns)
			if B == 1 && threads > 1 && splitClipLinears {
				pl = &ws.parLin
				pl.parts = threads
			}
			linearPar(pl, rows(pre), x[b*Tfull*F:], w.inW, w.inB, n, F, H)
		}
		layerNormForward(out, rows(pre), w.inLNW, w.inLNB, n, H, ws.projMean[b*Tp:], ws.projRstd[b*Tp:])
		reluForward(out)
		if dr.on(p / 2) {
			dropoutForward(dr, p/2, rows(tb.projDrop), out, rows(tb.projMask))
		}
	}

	// 2. LSTM layers, packed semantics; outputs past a clip's length are zero. Layers 0..L−2
	// feed the next through dropout(p) in training.
	inW := H
	for k := 0; k < cfg.NumLayers; k++ {
		out := ws.layerOut[k]
		for b := 0; b < B; b++ {
			clear(out[(b*Tp+lb.n[b])*D : (b+1)*Tp*D])
		}
		ws.lstmJob = lstmLayerJob[T]{w: w.lstm[k], ws: ws, k: k, in: in, inW: inW, out: out, D: D, H: H,
			dirs: cfg.Directions()}
		ws.lstmJob.runLayer(&ws.call, threads)
		in, inW = out, D
		if k < cfg.NumLayers-1 && dr.on(p) {
			for b := 0; b < B; b++ {
				lo, hi := b*Tp*D, (b*Tp+lb.n[b])*D
				dropoutForward(dr, p, tb.layerDrop[k][lo:hi], out[lo:hi], tb.layerMask[k][lo:hi])
			}
			in = tb.layerDrop[k]
		}
	}

	// 3–4. Per clip: self-attention, residual + attention_norm, attention pooling. Clips are
	// independent: without dropout they run on the pool, parts over clips (dropout draws from
	// one random stream in clip order, so training with dropout stays serial).
	ws.clipJob = attnClipJob[T]{cfg: cfg, w: w, ws: ws, lstmOut: ws.layerOut[cfg.NumLayers-1], pad: pad,
		train: train, dr: dr, frameWeights: frameWeights, Tfull: Tfull, B: B, parts: 1}
	if !dr.on(p) && !dr.on(p/2) {
		ws.clipJob.parts = partsFor(B, 1, threads)
	}
	if ws.clipJob.parts == 1 && threads > 1 && splitClipLinears {
		ws.parLin.parts = threads
		ws.clipJob.par = &ws.parLin
	}
	// Rows each clip's attention uses: masked, its own; reference, all T′ (padding included).
	// Gathering them borrows buffers written only later in the forward (ctx, attended, attnOut).
	na := ws.padded && pad == PaddingMasked
	switch {
	case !batched:
		ws.clipJob.stage = attendAll
		ws.call.run(ws.clipJob.parts, &ws.clipJob)
	case dr.on(p) || dr.on(p/2): // dropout draws stay in clip order: only in_proj is batched
		ws.rowsProduct(na, ws.clipJob.lstmOut, D, ws.ctx, w.mha.inW, w.mha.inB, ws.qkv, 3*D)
		ws.clipJob.stage = attendQKV
		ws.call.run(ws.clipJob.parts, &ws.clipJob)
	default: // in_proj, out_proj and pooling's first Linear over the batch's rows
		ws.rowsProduct(na, ws.clipJob.lstmOut, D, ws.ctx, w.mha.inW, w.mha.inB, ws.qkv, 3*D)
		ws.clipJob.stage = attendHeads
		ws.call.run(ws.clipJob.parts, &ws.clipJob)
		ws.rowsProduct(na, ws.ctx, D, ws.attended, w.mha.outW, w.mha.outB, ws.attnOut, D)
		ws.clipJob.stage = attendNorm
		ws.call.run(ws.clipJob.parts, &ws.clipJob)
		pre := ws.poolHid
		if train {
			pre = tb.poolPre
		}
		ws.rowsProduct(na, ws.attended, D, ws.attnOut, w.pool.w0, w.pool.b0, pre, cfg.PoolDim())
		ws.clipJob.stage = attendPool
		ws.call.run(ws.clipJob.parts, &ws.clipJob)
	}

	// 5. classifier on the pooled vectors of the whole batch.
	act := ws.pooled
	for i, blk := range w.cls {
		if i == len(w.cls)-1 {
			linearForward(logits[:B*blk.out], act, blk.w, blk.b, B, blk.in, blk.out)
			break
		}
		pre, out := ws.clsPre[i], ws.clsAct[i]
		linearForward(pre, act, blk.w, blk.b, B, blk.in, blk.out)
		layerNormForward(out, pre, blk.lnW, blk.lnB, B, blk.out, ws.clsMean[i], ws.clsRstd[i])
		reluForward(out)
		act = out
		if pc := cfg.classifierDropout(i); dr.on(pc) {
			act = dropoutForward(dr, pc, tb.clsDrop[i], out, tb.clsMask[i])
		}
	}
}

// sortByLengthDesc orders clip indices by decreasing length, ties by index.
func sortByLengthDesc(order, n []int) {
	slices.SortStableFunc(order, func(a, b int) int { return n[b] - n[a] })
}
