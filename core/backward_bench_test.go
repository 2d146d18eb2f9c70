package core

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// benchLossAndGrad times one training step's forward + backward (dropout on, masked padding,
// mixed lengths) at the default config. Compare with BenchmarkForward* of the same shape: a
// backward costs about twice a forward in matrix products.
func benchLossAndGrad(b *testing.B, B, T int) {
	step := lossAndGradStep(b, B, T)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		step()
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/step")
}

// lossAndGradStep sets up benchLossAndGrad's model and batch, runs one warm-up step and returns
// the step.
func lossAndGradStep(b *testing.B, B, T int) func() {
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
	step := func() {
		if _, err := m.LossAndGrad(x, B, T, lengths, labels, opt, g); err != nil {
			b.Fatal(err)
		}
	}
	step()
	return step
}

func BenchmarkLossAndGradB8T64(b *testing.B)  { benchLossAndGrad(b, 8, 64) }
func BenchmarkLossAndGradB48T64(b *testing.B) { benchLossAndGrad(b, 48, 64) }

// BenchmarkBackwardAB times variants of the backward alternated per iteration in one process
// (B=48, T=64, lengths, dropout, as benchLossAndGrad): a switch on, then off, per iteration; the
// ratio off/on is reported (> 1: the switch helps).
func BenchmarkBackwardAB(b *testing.B) {
	for _, v := range []struct {
		name string
		set  func(bool)
	}{{"gemmnn", func(on bool) { useGemmNN = on }}, {"tanh", func(on bool) { useTanhKernel = on }}} {
		b.Run(v.name, func(b *testing.B) {
			defer v.set(true)
			step := lossAndGradStep(b, 48, 64)
			var t [2]time.Duration
			for i := 0; i < b.N; i++ {
				for k, on := range []bool{true, false} {
					v.set(on)
					t0 := time.Now()
					step()
					t[k] += time.Since(t0)
				}
			}
			b.ReportMetric(t[0].Seconds()/float64(b.N), "s/on")
			b.ReportMetric(t[1].Seconds()/float64(b.N), "s/off")
			b.ReportMetric(t[1].Seconds()/t[0].Seconds(), "off/on")
		})
	}
}

// BenchmarkDhProduct compares the backward's per-step dh = dgates·W_hh (W_hh [3072, 768]) on
// kernels.GemmNN and on OpenBLAS, alternated per iteration; GFLOP/s of each.
func BenchmarkDhProduct(b *testing.B) {
	H := 768
	G := 4 * H
	rng := rand.New(rand.NewPCG(1, 2))
	whh := make([]float32, G*H)
	for i := range whh {
		whh[i] = float32(rng.NormFloat64())
	}
	for _, a := range []int{1, 4, 16, 48} {
		b.Run(fmt.Sprint(a), func(b *testing.B) {
			drec, dh := make([]float32, a*G), make([]float32, a*H)
			for i := range drec {
				drec[i] = float32(rng.NormFloat64())
			}
			var t [2]time.Duration
			for i := 0; i < b.N; i++ {
				for k, on := range []bool{true, false} {
					useGemmNN = on
					t0 := time.Now()
					for range 20 {
						dhProduct(dh, drec, whh, H, a)
					}
					t[k] += time.Since(t0)
				}
			}
			useGemmNN = true
			fl := 2 * float64(a*G*H) * 20 * float64(b.N) / 1e9
			b.ReportMetric(fl/t[0].Seconds(), "GFLOP/s-kernel")
			b.ReportMetric(fl/t[1].Seconds(), "GFLOP/s-blas")
		})
	}
}
