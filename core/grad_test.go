package core

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Finite-difference checks of every layer's backward in float64 (DESIGN §8): each layer's
// output is reduced to a scalar with fixed random coefficients, so the analytic input and
// parameter gradients of that scalar come from the backward with dOut = the coefficients.

const (
	fdEps = 1e-6
	fdTol = 1e-7 // |numeric − analytic| ≤ fdTol·max(1, max|analytic| of the tensor)
)

func randSlice(rng *rand.Rand, n int, scale float64) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = scale * (2*rng.Float64() - 1)
	}
	return s
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// fdTensor is one perturbed tensor with its analytic gradient.
type fdTensor struct {
	name     string
	x        []float64
	analytic []float64
}

// checkFD compares each tensor's analytic gradient with central differences of f, on every
// element or on up to maxPer sampled ones. f must re-run the whole forward from the tensors.
func checkFD(t *testing.T, what string, f func() float64, tensors []fdTensor, maxPer int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 7))
	for _, ts := range tensors {
		var scale float64 = 1
		for _, v := range ts.analytic {
			scale = math.Max(scale, math.Abs(v))
		}
		idx := make([]int, 0, len(ts.x))
		if maxPer <= 0 || len(ts.x) <= maxPer {
			for i := range ts.x {
				idx = append(idx, i)
			}
		} else {
			for range maxPer {
				idx = append(idx, rng.IntN(len(ts.x)))
			}
		}
		worst := 0.0
		for _, i := range idx {
			v := ts.x[i]
			ts.x[i] = v + fdEps
			fp := f()
			ts.x[i] = v - fdEps
			fm := f()
			ts.x[i] = v
			num := (fp - fm) / (2 * fdEps)
			e := math.Abs(num - ts.analytic[i])
			worst = math.Max(worst, e/scale)
			if e > fdTol*scale {
				t.Errorf("%s %s[%d]: numeric %.10g, analytic %.10g", what, ts.name, i, num, ts.analytic[i])
				return
			}
		}
		t.Logf("%s %s: worst |Δ|/scale %.2g over %d elements", what, ts.name, worst, len(idx))
	}
}

func TestLinearBackwardFD(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	N, I, O := 5, 7, 4
	x, w, b := randSlice(rng, N*I, 1), randSlice(rng, O*I, 1), randSlice(rng, O, 1)
	r := randSlice(rng, N*O, 1)
	out := make([]float64, N*O)
	f := func() float64 { linearForward(out, x, w, b, N, I, O); return dot(out, r) }
	dx, dw, db := make([]float64, N*I), make([]float64, O*I), make([]float64, O)
	linearBackward(dx, dw, db, r, x, w, N, I, O)
	checkFD(t, "linear", f, []fdTensor{{"x", x, dx}, {"W", w, dw}, {"b", b, db}}, 0)
}

func TestLayerNormBackwardFD(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 3))
	for _, C := range []int{1, 2, 9} {
		N := 4
		x, w, b := randSlice(rng, N*C, 2), randSlice(rng, C, 1), randSlice(rng, C, 1)
		r := randSlice(rng, N*C, 1)
		out, mean, rstd := make([]float64, N*C), make([]float64, N), make([]float64, N)
		f := func() float64 { layerNormForward(out, x, w, b, N, C, nil, nil); return dot(out, r) }
		layerNormForward(out, x, w, b, N, C, mean, rstd)
		dx, dw, db := make([]float64, N*C), make([]float64, C), make([]float64, C)
		layerNormBackward(dx, dw, db, r, x, w, mean, rstd, N, C)
		checkFD(t, fmt.Sprintf("layernorm C=%d", C), f, []fdTensor{{"x", x, dx}, {"w", w, dw}, {"b", b, db}}, 0)
	}
}

func TestActivationsBackwardFD(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 4))
	n := 20
	x, r := randSlice(rng, n, 2), randSlice(rng, n, 1)
	for i := range x { // keep ReLU inputs away from the kink
		if math.Abs(x[i]) < 0.1 {
			x[i] += 0.3
		}
	}
	y := make([]float64, n)
	for _, act := range []struct {
		name string
		fwd  func([]float64)
		bwd  func(d, y []float64)
	}{
		{"relu", reluForward[float64], reluBackward[float64]},
		{"tanh", tanhForward[float64], tanhBackward[float64]},
		{"softmax", softmaxForward[float64], softmaxBackward[float64]},
	} {
		f := func() float64 { copy(y, x); act.fwd(y); return dot(y, r) }
		f()
		d := append([]float64(nil), r...)
		act.bwd(d, y)
		checkFD(t, act.name, f, []fdTensor{{"x", x, d}}, 0)
	}
	// dropout: the mask is fixed by the seed, so the function is linear in x.
	mask := make([]float64, n)
	f := func() float64 {
		dr := &dropper{rand.New(rand.NewPCG(9, 9))}
		return dot(dropoutForward(dr, 0.4, y, x, mask), r)
	}
	f()
	d := append([]float64(nil), r...)
	dropoutBackward(&dropper{}, 0.4, d, mask)
	checkFD(t, "dropout", f, []fdTensor{{"x", x, d}}, 0)
}

// lstmFixture is one packed LSTM direction over a mixed-length batch.
func TestLSTMBackwardFD(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 5))
	B, Tp, inW, H := 4, 5, 3, 2
	D := 2 * H
	lens := []int{5, 2, 1, 5}
	for _, reverse := range []bool{false, true} {
		lb := &lstmBatch{B: B, Tp: Tp, n: append([]int(nil), lens...), order: []int{0, 1, 2, 3}}
		sortByLengthDesc(lb.order, lb.n)
		w := lstmWeights[float64]{wih: randSlice(rng, 4*H*inW, 0.8), whh: randSlice(rng, 4*H*H, 0.8),
			bih: randSlice(rng, 4*H, 0.5), bhh: randSlice(rng, 4*H, 0.5)}
		in := randSlice(rng, B*Tp*inW, 1)
		r := randSlice(rng, B*Tp*D, 1)
		off := 0
		if reverse {
			off = H
		}
		out := make([]float64, B*Tp*D)
		gates, cells := make([]float64, B*Tp*4*H), make([]float64, B*Tp*H)
		h, c, rec := make([]float64, B*H), make([]float64, B*H), make([]float64, B*4*H)
		valid := func(s []float64) float64 { // Σ r·out over valid rows and this direction's columns
			var sum float64
			for b := 0; b < B; b++ {
				for t := 0; t < lb.n[b]; t++ {
					for j := 0; j < H; j++ {
						i := (b*Tp+t)*D + off + j
						sum += s[i] * r[i]
					}
				}
			}
			return sum
		}
		f := func() float64 {
			lstmDirectionForward(w, lb, in, inW, out, D, off, gates, cells, h, c, rec, H, reverse)
			return valid(out)
		}
		f()
		gw := lstmWeights[float64]{wih: make([]float64, len(w.wih)), whh: make([]float64, len(w.whh)),
			bih: make([]float64, 4*H), bhh: make([]float64, 4*H)}
		din := make([]float64, B*Tp*inW)
		lstmDirectionBackward(w, gw, lb, in, inW, out, D, off, gates, cells, r, din,
			make([]float64, B*Tp*4*H), make([]float64, B*H), make([]float64, B*H), make([]float64, B*4*H), H, reverse)
		// Padded rows of in must get no gradient.
		for b := 0; b < B; b++ {
			for i := (b*Tp + lb.n[b]) * inW; i < (b+1)*Tp*inW; i++ {
				if din[i] != 0 {
					t.Fatalf("reverse=%v: gradient %v reached padding row of clip %d", reverse, din[i], b)
				}
			}
		}
		checkFD(t, fmt.Sprintf("lstm reverse=%v", reverse), f, []fdTensor{{"in", in, din},
			{"weight_ih", w.wih, gw.wih}, {"weight_hh", w.whh, gw.whh}, {"bias_ih", w.bih, gw.bih},
			{"bias_hh", w.bhh, gw.bhh}}, 0)
	}
}

func TestMHABackwardFD(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 6))
	for _, tc := range []struct {
		r, D, heads int
		p           float64
	}{{5, 6, 2, 0}, {4, 6, 3, 0.4}, {1, 4, 1, 0}, {6, 8, 4, 0.3}} {
		r, D, heads := tc.r, tc.D, tc.heads
		w := mhaWeights[float64]{randSlice(rng, 3*D*D, 0.7), randSlice(rng, 3*D, 0.5),
			randSlice(rng, D*D, 0.7), randSlice(rng, D, 0.5)}
		x, rr := randSlice(rng, r*D, 1), randSlice(rng, r*D, 1)
		qkv, probs, ctx, out := make([]float64, r*3*D), make([]float64, heads*r*r), make([]float64, r*D), make([]float64, r*D)
		pdrop, pmask := make([]float64, heads*r*r), make([]float64, heads*r*r)
		run := func() *dropper {
			var dr *dropper
			if tc.p > 0 {
				dr = &dropper{rand.New(rand.NewPCG(3, 4))}
			}
			mhaForward(w, x, r, D, heads, qkv, probs, ctx, out, dr, tc.p, pdrop, pmask)
			return dr
		}
		f := func() float64 { run(); return dot(out, rr) }
		dr := run()
		gw := mhaWeights[float64]{make([]float64, 3*D*D), make([]float64, 3*D), make([]float64, D*D), make([]float64, D)}
		dx := make([]float64, r*D)
		mhaBackward(w, gw, dx, rr, x, r, D, heads, qkv, probs, ctx, dr, tc.p, pdrop, pmask,
			make([]float64, r*D), make([]float64, r*3*D), make([]float64, r*r))
		checkFD(t, fmt.Sprintf("mha r=%d D=%d heads=%d p=%v", r, D, heads, tc.p), f, []fdTensor{{"x", x, dx},
			{"in_proj_weight", w.inW, gw.inW}, {"in_proj_bias", w.inB, gw.inB},
			{"out_proj.weight", w.outW, gw.outW}, {"out_proj.bias", w.outB, gw.outB}}, 0)
	}
}

func TestPoolingBackwardFD(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 7))
	for _, tc := range []struct {
		r, D int
		p    float64
	}{{5, 6, 0}, {4, 8, 0.2}, {1, 2, 0}} {
		r, D := tc.r, tc.D
		P := D / 2
		w := poolingWeights[float64]{randSlice(rng, P*D, 0.8), randSlice(rng, P, 0.5), randSlice(rng, P, 1),
			randSlice(rng, P, 0.5), randSlice(rng, P, 1), randSlice(rng, 1, 0.5)}
		x, rr := randSlice(rng, r*D, 1), randSlice(rng, D, 1)
		a := poolingBuffers[float64]{pre: make([]float64, r*P), hid: make([]float64, r*P), lnMean: make([]float64, r),
			lnRstd: make([]float64, r), hdrop: make([]float64, r*P), hmask: make([]float64, r*P), weights: make([]float64, r)}
		pooled := make([]float64, D)
		run := func() *dropper {
			var dr *dropper
			if tc.p > 0 {
				dr = &dropper{rand.New(rand.NewPCG(5, 6))}
			}
			poolingForward(w, x, r, D, P, a, pooled, dr, tc.p)
			return dr
		}
		f := func() float64 { run(); return dot(pooled, rr) }
		dr := run()
		gw := poolingWeights[float64]{make([]float64, P*D), make([]float64, P), make([]float64, P),
			make([]float64, P), make([]float64, P), make([]float64, 1)}
		dx := make([]float64, r*D)
		poolingBackward(w, gw, dx, rr, x, r, D, P, a, dr, tc.p, make([]float64, r*P), make([]float64, r*P))
		if math.Abs(gw.b4[0]) > 1e-14 {
			t.Errorf("pooling bias gradient %v, mathematically 0", gw.b4[0])
		}
		checkFD(t, fmt.Sprintf("pooling r=%d D=%d p=%v", r, D, tc.p), f, []fdTensor{{"x", x, dx},
			{"0.weight", w.w0, gw.w0}, {"0.bias", w.b0, gw.b0}, {"1.weight", w.lnW, gw.lnW},
			{"1.bias", w.lnB, gw.lnB}, {"4.weight", w.w4, gw.w4}}, 0)
	}
}

func TestLossBackwardFD(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 8))
	B, C := 5, 4
	z := randSlice(rng, B*C, 3)
	labels := []int64{0, 3, 1, 1, 2}
	for _, lc := range []LossConfig{
		{Kind: LossFocal, Gamma: 2, Smoothing: 0.1, Alpha: []float32{0.5, 2, 1, 10}},
		{Kind: LossFocal, Gamma: 0, Smoothing: 0},
		{Kind: LossFocal, Gamma: 0.5, Smoothing: 0.2},
		{Kind: LossCrossEntropy, Smoothing: 0.1, Alpha: []float32{0.5, 2, 1, 10}},
		{Kind: LossCrossEntropy},
	} {
		if err := lc.validate(labels, B, C); err != nil {
			t.Fatal(err)
		}
		dz := make([]float64, B*C)
		f := func() float64 { return lossForward(lc, z, labels, B, C, make([]float64, B*C)) }
		lossForward(lc, z, labels, B, C, dz)
		checkFD(t, fmt.Sprintf("loss %+v", lc), f, []fdTensor{{"logits", z, dz}}, 0)
	}
}

// tinyTrainModel is a small config with every parameter random (biases and LayerNorm affine
// included, so every tensor affects the loss) and a mixed-length batch with max(lengths) < T.
func tinyTrainModel(t *testing.T, bidirectional bool, layers int) (*Model, []float32, []int32, []int64, int, int) {
	t.Helper()
	cfg := Config{FeatureDim: 4, HiddenDim: 3, NumLayers: layers, NumHeads: 2, NumClasses: 3, Dropout: 0.3,
		Bidirectional: bidirectional, ClassifierWidths: []int{5, 4}}
	if !bidirectional {
		cfg.HiddenDim = 4
	}
	m, err := NewModel(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(11, 12))
	for _, p := range m.Params() {
		for i := range p.Data {
			p.Data[i] = float32(0.8 * (2*rng.Float64() - 1))
		}
		if isLayerNormWeight(m, p.Name) {
			for i := range p.Data {
				p.Data[i] += 1
			}
		}
	}
	B, T := 4, 6
	x := make([]float32, B*T*cfg.FeatureDim)
	for i := range x {
		x[i] = float32(2*rng.Float64() - 1)
	}
	return m, x, []int32{5, 2, 1, 4}, []int64{0, 2, 1, 2}, B, T
}

// TestModelGradFD checks the whole model's loss gradient against central differences on a
// sample of elements of every tensor, in both padding modes, with dropout off and on (the
// masks are fixed by re-seeding the generator for every evaluation).
func TestModelGradFD(t *testing.T) {
	for _, arch := range []struct {
		bi     bool
		layers int
	}{{true, 2}, {false, 1}} {
		m, x32, lengths, labels, B, T := tinyTrainModel(t, arch.bi, arch.layers)
		x := make([]float64, len(x32))
		for i, v := range x32 {
			x[i] = float64(v)
		}
		for _, pad := range []Padding{PaddingMasked, PaddingReference} {
			for _, dropout := range []bool{false, true} {
				opt := TrainStepOptions{Padding: pad, Loss: LossConfig{Kind: LossFocal, Gamma: 2, Smoothing: 0.1,
					Alpha: []float32{0.7, 2, 1.3}}}
				Tp, _, err := m.checkTrain(len(x), B, T, lengths, labels, opt)
				if err != nil {
					t.Fatal(err)
				}
				slab := make([]float64, len(m.Slab()))
				for i, v := range m.Slab() {
					slab[i] = float64(v)
				}
				run := func() (float64, []float64) {
					var dr *dropper
					if dropout {
						dr = &dropper{rand.New(rand.NewPCG(21, 22))}
					}
					return m.lossAndGradSlab64(slab, x, B, T, Tp, lengths, labels, opt, dr)
				}
				_, grad := run()
				f := func() float64 { l, _ := run(); return l }
				var tensors []fdTensor
				off := 0
				for _, p := range m.Params() {
					n := len(p.Data)
					tensors = append(tensors, fdTensor{p.Name, slab[off : off+n], grad[off : off+n]})
					off += n
				}
				checkFD(t, fmt.Sprintf("model bi=%v L=%d %s dropout=%v", arch.bi, arch.layers, pad, dropout), f, tensors, 6)
			}
		}
	}
}
