package core

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// benchLossAndGrad times one training step's forward + backward (dropout on, masked padding,
// mixed lengths) at the default config, and in the same iterations OpenBLAS's sgemm rate on a
// large product (3072×1536·1536×3072) on one thread and on two at once (two such products
// concurrently, the pool's rate on 2 cores). Reported: s/step; step-GFLOP/s, the step's useful
// FLOPs (3 × the forward's FLOPs of each clip's own length) per second; the sgemm rates; and
// step/sgemm2, the step's rate as a share of the two-thread sgemm rate (issue 5: > 0.5).
func benchLossAndGrad(b *testing.B, B, T int) {
	step, lengths := lossAndGradStep(b, B, T)
	cfg := DefaultConfig()
	var flops float64
	for _, n := range lengths {
		flops += 3 * forwardFLOPs(cfg, 1, int(n))
	}
	const gm, gn, gk = 3072, 3072, 1536
	rng := rand.New(rand.NewPCG(5, 6))
	ga, gb := make([]float32, gm*gk), make([]float32, gk*gn)
	for i := range ga {
		ga[i] = float32(rng.NormFloat64())
	}
	for i := range gb {
		gb[i] = float32(rng.NormFloat64())
	}
	gc := [2][]float32{make([]float32, gm*gn), make([]float32, gm*gn)}
	var st, sg1, sg2 time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		step()
		t1 := time.Now()
		gemm(false, false, gm, gn, gk, 1, ga, gk, gb, gn, 0, gc[0], gn)
		t2 := time.Now()
		var wg sync.WaitGroup
		for p := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				gemm(false, false, gm, gn, gk, 1, ga, gk, gb, gn, 0, gc[p], gn)
			}()
		}
		wg.Wait()
		st, sg1, sg2 = st+t1.Sub(t0), sg1+t2.Sub(t1), sg2+time.Since(t2)
	}
	n := float64(b.N)
	f := 2 * float64(gm) * gn * gk
	rate, rate1, rate2 := flops/(st.Seconds()/n), f/(sg1.Seconds()/n), 2*f/(sg2.Seconds()/n)
	b.ReportMetric(st.Seconds()/n, "s/step")
	b.ReportMetric(rate/1e9, "step-GFLOP/s")
	b.ReportMetric(rate1/1e9, "sgemm1-GFLOP/s")
	b.ReportMetric(rate2/1e9, "sgemm2-GFLOP/s")
	b.ReportMetric(rate/rate2, "step/sgemm2")
}

// lossAndGradStep sets up benchLossAndGrad's model and batch (benchSetup's, with lengths),
// runs one warm-up step and returns the step and the lengths.
func lossAndGradStep(b *testing.B, B, T int) (func(), []int32) {
	m, x, lengths := benchSetup(b, B, T, true)
	rng := rand.New(rand.NewPCG(7, 8))
	labels := make([]int64, B)
	for i := range labels {
		labels[i] = int64(rng.IntN(m.cfg.NumClasses))
	}
	g := NewGrads(m)
	opt := TrainStepOptions{Dropout: true, RNG: rand.New(rand.NewPCG(3, 4)), Loss: DefaultLossConfig()}
	step := func() {
		if _, err := m.LossAndGrad(x, B, T, lengths, labels, opt, g); err != nil {
			b.Fatal(err)
		}
	}
	step()
	return step, lengths
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
			step, _ := lossAndGradStep(b, 48, 64)
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
