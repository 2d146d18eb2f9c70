package core

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestDropoutSeedReproducible: the same seed gives bitwise the same loss and gradients; another
// seed gives different ones; the float32 and float64 paths draw the same masks.
func TestDropoutSeedReproducible(t *testing.T) {
	m, x, lengths, labels, B, T := tinyTrainModel(t, true, 2)
	run := func(seed uint64) (float32, []float32) {
		g := NewGrads(m)
		opt := TrainStepOptions{Dropout: true, RNG: rand.New(rand.NewPCG(seed, 1)), Loss: DefaultLossConfig()}
		loss, err := m.LossAndGrad(x, B, T, lengths, labels, opt, g)
		if err != nil {
			t.Fatal(err)
		}
		return loss, g.Slab
	}
	l1, g1 := run(5)
	l2, g2 := run(5)
	if l1 != l2 || !slices.Equal(g1, g2) {
		t.Fatalf("same seed, different results: loss %v vs %v", l1, l2)
	}
	l3, g3 := run(6)
	if l3 == l1 || slices.Equal(g1, g3) {
		t.Fatalf("different seeds, same results")
	}
	x64 := make([]float64, len(x))
	for i, v := range x {
		x64[i] = float64(v)
	}
	opt := TrainStepOptions{Dropout: true, RNG: rand.New(rand.NewPCG(5, 1)), Loss: DefaultLossConfig()}
	l64, g64, err := m.LossAndGradFloat64(x64, B, T, lengths, labels, opt)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(float64(l1)-l64) > 1e-5*math.Abs(l64) {
		t.Errorf("float32 loss %v, float64 %v with the same seed", l1, l64)
	}
	if e, bound := maxErr(g1, g64); e > bound {
		t.Errorf("float32 vs float64 gradients with the same seed: max|Δ| %.3g > %.3g", e, bound)
	}
}

// TestDropoutOffIsInference: a training pass without dropout (or with dropout on and p = 0)
// computes exactly Forward's logits and the same loss and gradients bitwise.
func TestDropoutOffIsInference(t *testing.T) {
	m, x, lengths, labels, B, T := tinyTrainModel(t, true, 2)
	C := m.Config().NumClasses
	for _, pad := range []Padding{PaddingMasked, PaddingReference} {
		want := make([]float32, B*C)
		if err := m.Forward(x, B, T, lengths, pad, want, nil); err != nil {
			t.Fatal(err)
		}
		Tp, _, err := m.checkTrain(len(x), B, T, lengths, labels, TrainStepOptions{Padding: pad})
		if err != nil {
			t.Fatal(err)
		}
		ws := &workspace[float32]{}
		ws.ensureTrain(m.cfg, B, Tp, false)
		forward(m.cfg, m.w32, ws, x, B, T, Tp, lengths, pad, ws.tr.logits, nil, true, nil)
		if !slices.Equal(ws.tr.logits[:B*C], want) {
			t.Errorf("%s: training forward without dropout %v, inference %v", pad, ws.tr.logits, want)
		}
		opt := TrainStepOptions{Padding: pad, Loss: DefaultLossConfig()}
		g := NewGrads(m)
		loss, err := m.LossAndGrad(x, B, T, lengths, labels, opt, g)
		if err != nil {
			t.Fatal(err)
		}
		if wantLoss := float32(lossForward(opt.Loss, want, labels, B, C, make([]float32, B*C))); loss != wantLoss {
			t.Errorf("%s: loss %v, loss of Forward's logits %v", pad, loss, wantLoss)
		}
		// Dropout requested but p = 0: the same computation, no generator touched.
		cfg := m.Config()
		cfg.Dropout = 0
		m0, _ := NewModel(cfg)
		copy(m0.Slab(), m.Slab())
		rng := rand.New(rand.NewPCG(1, 2))
		opt.Dropout, opt.RNG = true, rng
		g0 := NewGrads(m0)
		loss0, err := m0.LossAndGrad(x, B, T, lengths, labels, opt, g0)
		if err != nil {
			t.Fatal(err)
		}
		if loss0 != loss || !slices.Equal(g0.Slab, g.Slab) {
			t.Errorf("%s: p = 0 with dropout on differs from dropout off", pad)
		}
		if rng.Uint64() != rand.New(rand.NewPCG(1, 2)).Uint64() {
			t.Errorf("%s: p = 0 consumed random numbers", pad)
		}
	}
}

// TestDropoutMaskStatistics: every dropout site drops at its own rate (DESIGN §2: p/2 after
// input_projection and in pooling, p between LSTM layers, on attention weights, on attn_out and
// in the classifier, p/2 before its last Linear), and kept values are scaled by 1/(1−p).
func TestDropoutMaskStatistics(t *testing.T) {
	cfg := Config{FeatureDim: 8, HiddenDim: 16, NumLayers: 3, NumHeads: 4, NumClasses: 3, Dropout: 0.4,
		Bidirectional: true, ClassifierWidths: []int{64, 48, 32}}
	m, err := NewModelInit(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	B, T := 16, 12
	rng := rand.New(rand.NewPCG(3, 3))
	x := make([]float32, B*T*cfg.FeatureDim)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	lengths := make([]int32, B)
	for b := range lengths {
		lengths[b] = int32(1 + rng.IntN(T))
	}
	type site struct {
		name  string
		p     float64
		kept  float64
		total float64
	}
	sites := map[string]*site{}
	count := func(name string, p float64, mask []float32) {
		s := sites[name]
		if s == nil {
			s = &site{name: name, p: p}
			sites[name] = s
		}
		scale := float32(1 / (1 - p))
		for _, v := range mask {
			switch v {
			case 0:
			case scale:
				s.kept++
			default:
				t.Fatalf("%s: mask value %v, want 0 or %v", name, v, scale)
			}
			s.total++
		}
	}
	p := cfg.Dropout
	dr := &dropper{rand.New(rand.NewPCG(8, 8))}
	for range 20 {
		Tp := int(slices.Max(lengths))
		ws := &workspace[float32]{}
		ws.ensureTrain(cfg, B, Tp, true)
		forward(m.cfg, m.w32, ws, x, B, T, Tp, lengths, PaddingMasked, ws.tr.logits, nil, true, dr)
		tb := &ws.tr
		D, H, P := cfg.D(), cfg.HiddenDim, cfg.PoolDim()
		for b := 0; b < B; b++ {
			n, o := int(lengths[b]), b*Tp
			count("input_projection", p/2, tb.projMask[o*H:(o+n)*H])
			for k := 0; k < cfg.NumLayers-1; k++ {
				count("lstm inter-layer", p, tb.layerMask[k][o*D:(o+n)*D])
			}
			count("attention weights", p, tb.probsMask[b*cfg.NumHeads*Tp*Tp:][:cfg.NumHeads*n*n])
			count("attention_dropout", p, tb.attnMask[o*D:(o+n)*D])
			count("attention_pooling", p/2, tb.poolMask[o*P:(o+n)*P])
		}
		for i := range cfg.ClassifierWidths {
			count("classifier "+string(rune('0'+i)), cfg.classifierDropout(i), tb.clsMask[i])
		}
	}
	for _, s := range sites {
		rate := 1 - s.kept/s.total
		sigma := math.Sqrt(s.p * (1 - s.p) / s.total)
		t.Logf("%-18s p=%.2f: dropped %.4f of %.0f (σ %.4f)", s.name, s.p, rate, s.total, sigma)
		if math.Abs(rate-s.p) > 5*sigma {
			t.Errorf("%s: drop rate %.4f, want %.2f ± %.4f (5σ)", s.name, rate, s.p, 5*sigma)
		}
	}
	if len(sites) != 8 {
		t.Errorf("%d dropout sites counted, want 8", len(sites))
	}
}
