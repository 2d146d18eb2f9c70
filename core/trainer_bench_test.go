package core

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkTrainStepDefault: one Trainer step (forward, backward, clip, AdamW) of the default
// config (65M parameters) on B=48 clips of T=64 frames with dropout on. Slow (seconds per step):
// run with -bench TrainStepDefault -benchtime 3x.
func BenchmarkTrainStepDefault(b *testing.B) {
	benchTrainStep(b, DefaultConfig(), 48, 64)
}

// BenchmarkTrainStepSmall is the same at H=128, F=256, L=2: the per-step overhead at test sizes.
func BenchmarkTrainStepSmall(b *testing.B) {
	c := DefaultConfig()
	c.FeatureDim, c.HiddenDim, c.NumLayers, c.NumHeads, c.ClassifierWidths = 256, 128, 2, 8, []int{128, 64}
	benchTrainStep(b, c, 48, 64)
}

func benchTrainStep(b *testing.B, cfg Config, B, T int) {
	m, err := NewModelInit(cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	tr, err := NewTrainer(m, DefaultTrainerOptions())
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
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
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := tr.Step(x, B, T, lengths, labels); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/step")
}
