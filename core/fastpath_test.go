package core

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"libtemporal/kernels"
)

// The forward under different thread settings. With B > 1 and fewer than 2·directions threads
// the partition is over directions and clips only, which changes no value: results are bitwise
// those of one thread. Otherwise sgemm also runs on column blocks (the LSTM input products from
// 4 threads, a single clip's Linear layers from 2), which may change the last bits: checked
// against one thread with a tolerance, and for determinism (repeated and concurrent calls)
// bitwise.
func TestForwardThreadSettings(t *testing.T) {
	cfg := Config{FeatureDim: 24, HiddenDim: 40, NumLayers: 2, NumHeads: 4, NumClasses: 3, Dropout: 0.4,
		Bidirectional: true, ClassifierWidths: []int{16, 8}}
	m, err := NewModelInit(cfg, 11)
	if err != nil {
		t.Fatal(err)
	}
	old := int(threadSetting.Load())
	defer SetNumThreads(old)
	for _, shape := range []struct {
		B, T    int
		lengths []int32
	}{{5, 9, []int32{9, 4, 1, 9, 6}}, {1, 70, nil}} {
		B, T := shape.B, shape.T
		rng := rand.New(rand.NewPCG(1, 1))
		x := make([]float32, B*T*cfg.FeatureDim)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		run := func() []float32 {
			lg, fw := make([]float32, B*cfg.NumClasses), make([]float32, B*T)
			if err := m.Forward(x, B, T, shape.lengths, PaddingMasked, lg, fw); err != nil {
				t.Fatal(err)
			}
			return append(lg, fw...)
		}
		SetNumThreads(1)
		ref := run()
		for _, n := range []int{2, 3, 4, 7, 16} {
			SetNumThreads(n)
			got := run()
			// Bitwise: partitions over directions and clips only (B > 1 keeps every clip whole).
			exact := n < 2*cfg.Directions() && B > 1
			same := true
			for i := range ref {
				if math.Float32bits(got[i]) != math.Float32bits(ref[i]) {
					same = false
					if exact {
						t.Fatalf("B=%d threads %d: output %d = %v, one thread gives %v (must be bitwise equal)", B, n, i, got[i], ref[i])
					}
				}
				if d := math.Abs(float64(got[i] - ref[i])); d > 1e-5*(1+math.Abs(float64(ref[i]))) {
					t.Fatalf("B=%d threads %d: output %d = %v, one thread gives %v", B, n, i, got[i], ref[i])
				}
			}
			t.Logf("B=%d threads %d: bitwise equal to one thread: %v", B, n, same)
			var wg sync.WaitGroup
			for g := 0; g < 4; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for it := 0; it < 5; it++ {
						again := run()
						for i := range got {
							if math.Float32bits(again[i]) != math.Float32bits(got[i]) {
								t.Errorf("B=%d threads %d: concurrent call differs at %d", B, n, i)
								return
							}
						}
					}
				}()
			}
			wg.Wait()
		}
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
		recurrentStep(got, whh, nil, G, H, h, a)
		gemm(false, true, a, G, H, 1, h, H, whh, H, 0, want, G)
		for i := range want {
			if d := math.Abs(float64(got[i] - want[i])); d > 1e-5*(1+math.Abs(float64(want[i]))) {
				t.Fatalf("a=%d (%s, kernel up to a=%d): rec[%d] = %v, sgemm %v", a,
					kernels.LevelName(kernels.Level()), kernels.RecurrentMaxRows(), i, got[i], want[i])
			}
		}
	}
}

// gemmKernel on a product taller than one row block: close to sgemm, and bitwise equal to the
// same rows computed one at a time (row blocking changes no value).
func TestGemmKernelRowBlocks(t *testing.T) {
	rows := kernels.GemmNTRowBlock(1000)
	if rows == 0 {
		t.Skip("GemmNT not preferred on this CPU")
	}
	rng := rand.New(rand.NewPCG(4, 5))
	M, N, K := 3*rows+5, 70, 1000
	a, b := make([]float32, M*K), make([]float32, N*K)
	for i := range a {
		a[i] = float32(rng.NormFloat64())
	}
	for i := range b {
		b[i] = float32(rng.NormFloat64())
	}
	c, want := make([]float32, M*N), make([]float32, M*N)
	for i := range c {
		c[i] = float32(rng.NormFloat64())
	}
	copy(want, c)
	one := append([]float32(nil), c...)
	gemm(false, true, M, N, K, 1, a, K, b, K, 1, c, N)
	useGemmKernel = false
	gemm(false, true, M, N, K, 1, a, K, b, K, 1, want, N)
	useGemmKernel = true
	for r := 0; r < M; r++ {
		kernels.GemmNT(one[r*N:], N, a[r*K:], K, b, K, 1, N, K, true)
	}
	for i := range want {
		// |a|, |b| ~ N(0, 1): Σ|a·b| over K terms ≈ 0.64·K, float32 rounding ~1e-7 of that.
		if d := math.Abs(float64(c[i] - want[i])); d > 2e-7*0.64*float64(K)*4 {
			t.Fatalf("c[%d] = %v, sgemm %v", i, c[i], want[i])
		}
		if math.Float32bits(c[i]) != math.Float32bits(one[i]) {
			t.Fatalf("c[%d] = %v in row blocks of %d, %v row by row", i, c[i], rows, one[i])
		}
	}
}
