package core

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestClassWeights: α_c = clip(N/(K·n_c), 0.5, 10) for present classes, 1 for absent ones.
func TestClassWeights(t *testing.T) {
	// N = 105: class 0 ×100, class 1 ×4, class 2 ×1, class 3 absent; K = 3.
	var labels []int64
	for i := 0; i < 100; i++ {
		labels = append(labels, 0)
	}
	labels = append(labels, 1, 1, 1, 1, 2)
	a := ClassWeights(labels, 4)
	want := []float32{0.5, float32(105.0 / 12), 10, 1} // 0.35 → 0.5; 8.75; 35 → 10; absent
	for c := range want {
		if a[c] != want[c] {
			t.Errorf("α[%d] = %v, want %v", c, a[c], want[c])
		}
	}
}

// TestWeightedSampler: draws follow P(i) ∝ α[y_i]; batches keep draw order, the last partial.
func TestWeightedSampler(t *testing.T) {
	labels := []int64{0, 0, 0, 1}
	alpha := []float32{1, 3} // total weight 6: clip 3 has probability 1/2
	s := NewWeightedSampler(labels, alpha)
	rng := rand.New(rand.NewPCG(1, 2))
	idx := make([]int, 60000)
	s.Draw(rng, idx)
	counts := make([]int, 4)
	for _, i := range idx {
		counts[i]++
	}
	for i, want := range []float64{1.0 / 6, 1.0 / 6, 1.0 / 6, 0.5} {
		got := float64(counts[i]) / float64(len(idx))
		if math.Abs(got-want) > 0.01 {
			t.Errorf("P(%d) = %.4f, want %.4f", i, got, want)
		}
	}
	order := []int{5, 3, 9, 1, 0, 2, 7}
	b := Batches(order, 3)
	if len(b) != 3 || !slices.Equal(b[0], []int{5, 3, 9}) || !slices.Equal(b[2], []int{7}) {
		t.Errorf("batches %v", b)
	}
}

// TestAugment: clips of ≤ 8 frames are untouched; longer clips keep ≥ 8 frames chosen in time
// order, shifts are circular, padding stays zero, and the result is a function of the rng state.
func TestAugment(t *testing.T) {
	a := DefaultAugment()
	F := 2
	mk := func(n, T int) []float32 {
		c := make([]float32, T*F)
		for t := 0; t < n; t++ {
			c[t*F], c[t*F+1] = float32(t+1), float32(-(t + 1))
		}
		return c
	}
	rng := rand.New(rand.NewPCG(3, 4))
	short := mk(8, 10)
	if n := a.AugmentClip(rng, short, 8, F); n != 8 || !slices.Equal(short, mk(8, 10)) {
		t.Errorf("an 8-frame clip was changed")
	}
	sawCrop, sawShift := false, false
	for trial := 0; trial < 300; trial++ {
		c := mk(20, 24)
		n := a.AugmentClip(rng, c, 20, F)
		if n < 8 || n > 20 {
			t.Fatalf("new length %d", n)
		}
		if n < 20 {
			sawCrop = true
		}
		for i := n * F; i < len(c); i++ {
			if c[i] != 0 {
				t.Fatalf("padding frame value %v at %d (n=%d)", c[i], i, n)
			}
		}
		// Without noise, frame values are original frame numbers; the sequence is increasing
		// up to one circular wrap.
		noisy := false
		vals := make([]float64, n)
		for t := 0; t < n; t++ {
			v := float64(c[t*F])
			if v != math.Round(v) {
				noisy = true
			}
			vals[t] = math.Round(v)
		}
		if noisy {
			continue
		}
		wraps := 0
		for t := 1; t < n; t++ {
			if vals[t] <= vals[t-1] {
				wraps++
			}
		}
		if wraps > 1 {
			t.Fatalf("frames out of order beyond one circular shift: %v", vals)
		}
		if wraps == 1 || vals[0] != 1 && n == 20 {
			sawShift = true
		}
	}
	if !sawCrop || !sawShift {
		t.Errorf("crop seen %v, shift seen %v in 300 trials", sawCrop, sawShift)
	}
	// Determinism: the same rng state gives the same clip.
	p1, p2 := rand.NewPCG(9, 9), rand.NewPCG(9, 9)
	c1, c2 := mk(30, 30), mk(30, 30)
	for i := 0; i < 20; i++ {
		a.AugmentClip(rand.New(p1), c1, 30, F)
		a.AugmentClip(rand.New(p2), c2, 30, F)
	}
	if countBitDiff(c1, c2) != 0 {
		t.Error("augmentation is not a function of the rng state")
	}
}

// TestMetrics: a hand-checked confusion matrix.
func TestMetrics(t *testing.T) {
	labels := []int64{0, 0, 0, 1, 1, 2}
	pred := []int64{0, 0, 1, 1, 0, 1}
	m := ComputeMetrics(labels, pred, 4)
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-12 }
	if !near(m.Accuracy, 3.0/6) {
		t.Errorf("accuracy %v", m.Accuracy)
	}
	// class 0: tp 2, predicted 3, true 3 → P 2/3 R 2/3 F1 2/3; class 1: tp 1, predicted 3, true 2
	// → P 1/3 R 1/2 F1 0.4; class 2: 0; class 3 absent.
	wantF1 := []float64{2.0 / 3, 0.4, 0, 0}
	for c := range wantF1 {
		if !near(m.F1[c], wantF1[c]) {
			t.Errorf("F1[%d] = %v, want %v", c, m.F1[c], wantF1[c])
		}
	}
	if !near(m.MacroF1, (2.0/3+0.4)/3) || !near(m.WeightedF1, (3*2.0/3+2*0.4)/6) {
		t.Errorf("macro %v weighted %v", m.MacroF1, m.WeightedF1)
	}
	if m.Confusion[1][0] != 1 || m.Confusion[2][1] != 1 || m.Support[0] != 3 || m.PredictedClasses != 2 {
		t.Errorf("confusion %v support %v predicted %d", m.Confusion, m.Support, m.PredictedClasses)
	}
	if _, err := m.JSON(); err != nil {
		t.Error(err)
	}
}

// TestEnsembleEvaluate: an ensemble's prediction is the argmax of the mean softmax.
func TestEnsembleEvaluate(t *testing.T) {
	d := SyntheticOrderDataset(30, 6, 10, 12, 5)
	cfg := Config{FeatureDim: 6, HiddenDim: 4, NumLayers: 1, NumHeads: 2, NumClasses: 4, Bidirectional: true, ClassifierWidths: []int{8}}
	var ms []*Model
	for s := uint64(1); s <= 3; s++ {
		m, _ := NewModelInit(cfg, s)
		ms = append(ms, m)
	}
	_, pred, err := Evaluate(ms, d, EvalOptions{BatchSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, 12*6)
	logits := make([]float32, 4)
	for i := 0; i < d.Len(); i++ {
		d.ReadClips([]int{i}, 12, x)
		mean := make([]float64, 4)
		for _, m := range ms {
			m.Forward(x, 1, 12, d.Lengths()[i:i+1], PaddingMasked, logits, nil)
			mx := math.Inf(-1)
			for _, v := range logits {
				mx = math.Max(mx, float64(v))
			}
			s := 0.0
			for _, v := range logits {
				s += math.Exp(float64(v) - mx)
			}
			for c, v := range logits {
				mean[c] += math.Exp(float64(v)-mx) / s / 3
			}
		}
		best := 0
		for c := range mean {
			if mean[c] > mean[best] {
				best = c
			}
		}
		if int64(best) != pred[i] {
			t.Errorf("clip %d: ensemble predicted %d, direct mean softmax %d (%v)", i, pred[i], best, mean)
		}
	}
}
