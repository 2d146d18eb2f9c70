package core

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestLossAndGradThreadSettings: the training step's loss and gradients are bitwise the same
// for every thread setting (the backward's partitions depend only on the shapes), in both
// padding modes, with mixed lengths and dropout, for a bidirectional and a unidirectional LSTM.
func TestLossAndGradThreadSettings(t *testing.T) {
	defer SetNumThreads(NumThreads())
	for _, bi := range []bool{true, false} {
		cfg := DefaultConfig()
		cfg.FeatureDim, cfg.HiddenDim, cfg.NumLayers, cfg.NumHeads, cfg.NumClasses = 24, 16, 3, 4, 3
		cfg.Bidirectional, cfg.ClassifierWidths = bi, []int{12, 8}
		m, err := NewModelInit(cfg, 3)
		if err != nil {
			t.Fatal(err)
		}
		B, T := 7, 80 // Σ lengths = 420 rows: the LSTM's din runs in 3 parts
		rng := rand.New(rand.NewPCG(5, 6))
		x := make([]float32, B*T*cfg.FeatureDim)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		lengths := []int32{80, 30, 70, 1, 80, 79, 80}
		labels := []int64{0, 2, 1, 1, 0, 2, 1}
		for _, pad := range []Padding{PaddingMasked, PaddingReference} {
			var want []float32
			var wantLoss float32
			for _, th := range []int{1, 2, 3, 4, 7} {
				SetNumThreads(th)
				g := NewGrads(m)
				opt := TrainStepOptions{Padding: pad, Dropout: true, RNG: rand.New(rand.NewPCG(1, 1)), Loss: DefaultLossConfig()}
				loss, err := m.LossAndGrad(x, B, T, lengths, labels, opt, g)
				if err != nil {
					t.Fatal(err)
				}
				if want == nil {
					want, wantLoss = g.Slab, loss
					continue
				}
				if loss != wantLoss || !slices.Equal(g.Slab, want) {
					t.Errorf("bi=%v %v: %d threads differ from 1 thread", bi, pad, th)
				}
			}
		}
	}
}
