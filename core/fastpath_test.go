package core

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"libtemporal/kernels"
)

// The forward under different thread settings: below 2·directions threads the partition is
// over directions and clips only, which changes no value, so results are bitwise those of one
// thread; from 4 threads the LSTM input products are also split over gate columns (sgemm on
// column blocks), which may change the last bits, so those settings are checked against one
// thread with a tolerance and for determinism (repeated and concurrent calls) bitwise.
func TestForwardThreadSettings(t *testing.T) {
	cfg := Config{FeatureDim: 24, HiddenDim: 40, NumLayers: 2, NumHeads: 4, NumClasses: 3, Dropout: 0.4,
		Bidirectional: true, ClassifierWidths: []int{16, 8}}
	m, err := NewModelInit(cfg, 11)
	if err != nil {
		t.Fatal(err)
	}
	B, T := 5, 9
	rng := rand.New(rand.NewPCG(1, 1))
	x := make([]float32, B*T*cfg.FeatureDim)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	lengths := []int32{9, 4, 1, 9, 6}
	run := func() []float32 {
		lg, fw := make([]float32, B*cfg.NumClasses), make([]float32, B*T)
		if err := m.Forward(x, B, T, lengths, PaddingMasked, lg, fw); err != nil {
			t.Fatal(err)
		}
		return append(lg, fw...)
	}
	old := int(threadSetting.Load())
	defer SetNumThreads(old)
	SetNumThreads(1)
	ref := run()
	for _, n := range []int{2, 3, 4, 7, 16} {
		SetNumThreads(n)
		got := run()
		exact := n < 2*cfg.Directions()
		for i := range ref {
			if exact && math.Float32bits(got[i]) != math.Float32bits(ref[i]) {
				t.Fatalf("threads %d: output %d = %v, one thread gives %v (must be bitwise equal)", n, i, got[i], ref[i])
			}
			if d := math.Abs(float64(got[i] - ref[i])); d > 1e-5*(1+math.Abs(float64(ref[i]))) {
				t.Fatalf("threads %d: output %d = %v, one thread gives %v", n, i, got[i], ref[i])
			}
		}
		var wg sync.WaitGroup
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for it := 0; it < 5; it++ {
					again := run()
					for i := range got {
						if math.Float32bits(again[i]) != math.Float32bits(got[i]) {
							t.Errorf("threads %d: concurrent call differs at %d", n, i)
							return
						}
					}
				}
			}()
		}
		wg.Wait()
	}
}

func TestRecurrentStepMatchesBLAS(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 3))
	H := 37
	G := 4 * H
	whh := make([]float32, G*H)
	for i := range whh {
		whh[i] = float32(rng.NormFloat64())
	}
	for a := 1; a <= 9; a++ {
		h := make([]float32, a*H)
		for i := range h {
			h[i] = float32(rng.NormFloat64())
		}
		got, want := make([]float32, a*G), make([]float32, a*G)
		recurrentStep(got, whh, G, H, h, a)
		gemm(false, true, a, G, H, 1, h, H, whh, H, 0, want, G)
		for i := range want {
			if d := math.Abs(float64(got[i] - want[i])); d > 1e-5*(1+math.Abs(float64(want[i]))) {
				t.Fatalf("a=%d (%s, kernel up to a=%d): rec[%d] = %v, sgemm %v", a,
					kernels.LevelName(kernels.Level()), kernels.RecurrentMaxRows(), i, got[i], want[i])
			}
		}
	}
}
