package core

import (
	"math/rand/v2"
	"testing"
)

// forwardFLOPs counts the multiply-adds ×2 of one forward at cfg for B clips of T frames (no
// lengths): the matrix products only, which dominate.
func forwardFLOPs(cfg Config, B, T int) float64 {
	H, D, F, P := float64(cfg.HiddenDim), float64(cfg.D()), float64(cfg.FeatureDim), float64(cfg.PoolDim())
	bt := float64(B * T)
	f := bt * F * H
	for k := 0; k < cfg.NumLayers; k++ {
		f += float64(cfg.Directions()) * bt * (float64(cfg.lstmInput(k)) + H) * 4 * H
	}
	f += bt*D*3*D + float64(B)*2*float64(T*T)*D + bt*D*D + bt*D*P
	in := D
	for _, w := range cfg.ClassifierWidths {
		f += float64(B) * in * float64(w)
		in = float64(w)
	}
	return 2 * f
}

// benchSetup makes the default-config model with seeded weights, features [B, T, F] and, with
// withLengths, lengths in [T/2, T] with the first clip full: the benchmarks' common inputs.
func benchSetup(b *testing.B, B, T int, withLengths bool) (*Model, []float32, []int32) {
	m, err := NewModelInit(DefaultConfig(), 1)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, B*T*m.cfg.FeatureDim)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	var lengths []int32
	if withLengths {
		lengths = make([]int32, B)
		for i := range lengths {
			lengths[i] = int32(T/2 + rng.IntN(T/2+1))
		}
		lengths[0] = int32(T)
	}
	return m, x, lengths
}

func benchForward(b *testing.B, B, T int, withLengths bool) {
	m, x, lengths := benchSetup(b, B, T, withLengths)
	cfg := m.cfg
	logits := make([]float32, B*cfg.NumClasses)
	if err := m.Forward(x, B, T, lengths, PaddingMasked, logits, nil); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := m.Forward(x, B, T, lengths, PaddingMasked, logits, nil); err != nil {
			b.Fatal(err)
		}
	}
	s := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(s*1e3/float64(B), "ms/clip")
	if !withLengths {
		b.ReportMetric(forwardFLOPs(cfg, B, T)/s/1e9, "GFLOP/s")
	}
}

func BenchmarkForwardB1T64(b *testing.B)        { benchForward(b, 1, 64, false) }
func BenchmarkForwardB8T64Lengths(b *testing.B) { benchForward(b, 8, 64, true) }
func BenchmarkForwardB48T64(b *testing.B)       { benchForward(b, 48, 64, false) }
