package core

import (
	"math/rand/v2"
	"testing"
)

// benchLossAndGrad times one training step's forward + backward (dropout on, masked padding,
// mixed lengths) at the default config. Compare with BenchmarkForward* of the same shape: a
// backward costs about twice a forward in matrix products.
func benchLossAndGrad(b *testing.B, B, T int) {
	cfg := DefaultConfig()
	m, err := NewModelInit(cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, B*T*cfg.FeatureDim)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	lengths := make([]int32, B)
	labels := make([]int64, B)
	for i := range lengths {
		lengths[i] = int32(T/2 + rng.IntN(T/2+1))
		labels[i] = int64(rng.IntN(cfg.NumClasses))
	}
	lengths[0] = int32(T)
	g := NewGrads(m)
	opt := TrainStepOptions{Dropout: true, RNG: rand.New(rand.NewPCG(3, 4)), Loss: DefaultLossConfig()}
	if _, err := m.LossAndGrad(x, B, T, lengths, labels, opt, g); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.LossAndGrad(x, B, T, lengths, labels, opt, g); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/step")
}

func BenchmarkLossAndGradB8T64(b *testing.B)  { benchLossAndGrad(b, 8, 64) }
func BenchmarkLossAndGradB48T64(b *testing.B) { benchLossAndGrad(b, 48, 64) }
