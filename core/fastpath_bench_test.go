package core

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"libtemporal/kernels"
)

// The floor of issue 5, measured in the same process as the forward it is compared with, each
// iteration interleaving the two so that load from other processes hits both alike:
//
//	floor = the recurrent W_hh stream (per layer and direction, Tp steps of one sgemv over the
//	        same [4H, H] matrix, as the model reads it) + every other product at the sgemm rate
//	        (one OpenBLAS thread, 64·3072·1536, measured in the same iteration; OpenBLAS's own
//	        sgemm, with the GemmNT route switched off for that measurement).
//
// Reported: fwd-ms, floor-ms, fwd/floor, and GFLOP/s of the forward against the sgemm rate.
func benchFloor(b *testing.B, B, T int, withLengths bool) {
	m, x, lengths := benchSetup(b, B, T, withLengths)
	cfg := m.cfg
	rng := rand.New(rand.NewPCG(3, 4)) // the floor's own operands
	logits := make([]float32, B*cfg.NumClasses)
	H, G := cfg.HiddenDim, 4*cfg.HiddenDim
	h := make([]float32, H)
	rec := make([]float32, G)
	for i := range h {
		h[i] = float32(rng.NormFloat64()) * 0.1
	}
	const gm, gn, gk = 64, 3072, 1536
	ga, gb, gc := make([]float32, gm*gk), make([]float32, gn*gk), make([]float32, gm*gn)
	for i := range gb {
		gb[i] = float32(rng.NormFloat64()) * 0.01
	}
	for i := range ga {
		ga[i] = float32(rng.NormFloat64())
	}
	recFLOPs := 2 * float64(B*T) * float64(cfg.NumLayers*cfg.Directions()) * float64(G*H)
	other := forwardFLOPs(cfg, B, T) - recFLOPs
	var fwd, stream, sg, sg2 time.Duration
	run := func() {
		t0 := time.Now()
		if err := m.Forward(x, B, T, lengths, PaddingMasked, logits, nil); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		for k := 0; k < cfg.NumLayers; k++ {
			for d := 0; d < cfg.Directions(); d++ {
				for s := 0; s < T; s++ {
					gemv(G, H, 1, m.w32.lstm[k][d].whh, H, h, 0, rec)
				}
			}
		}
		useGemmKernel = false // the floor is at OpenBLAS's sgemm rate, not our kernel's
		defer func() { useGemmKernel = true }()
		t2 := time.Now()
		for i := 0; i < 4; i++ {
			gemm(false, true, gm, gn, gk, 1, ga, gk, gb, gk, 0, gc, gn)
		}
		t3 := time.Now()
		var wg sync.WaitGroup // two single-threaded sgemms at once: the pool's rate on 2 cores
		for p := 0; p < 2; p++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := make([]float32, gm*gn)
				for i := 0; i < 4; i++ {
					gemm(false, true, gm, gn, gk, 1, ga, gk, gb, gk, 0, c, gn)
				}
			}()
		}
		wg.Wait()
		t4 := time.Now()
		useGemmKernel = true
		fwd += t1.Sub(t0)
		stream += t2.Sub(t1)
		sg += t3.Sub(t2)
		sg2 += t4.Sub(t3)
	}
	run()
	fwd, stream, sg, sg2 = 0, 0, 0, 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		run()
	}
	n := float64(b.N)
	rate := 4 * 2 * gm * gn * gk / (sg.Seconds() / n)       // FLOP/s, one thread
	rate2 := 2 * 4 * 2 * gm * gn * gk / (sg2.Seconds() / n) // two threads
	floor := stream.Seconds()/n*float64(B*T)/float64(T)/float64(B) + other/rate
	if B > 1 { // the sgemv stream stands for B = 1 only; above, every product is at the sgemm rate
		floor = forwardFLOPs(cfg, B, T) / rate
	}
	f := fwd.Seconds() / n
	b.ReportMetric(f*1e3, "fwd-ms")
	b.ReportMetric(floor*1e3, "floor-ms")
	b.ReportMetric(f/floor, "fwd/floor")
	b.ReportMetric(stream.Seconds()/n*1e3, "whh-stream-ms")
	b.ReportMetric(rate/1e9, "sgemm1-GFLOP/s")
	b.ReportMetric(rate2/1e9, "sgemm2-GFLOP/s")
	if !withLengths {
		b.ReportMetric(forwardFLOPs(cfg, B, T)/f/1e9, "fwd-GFLOP/s")
	}
}

func BenchmarkFloorB1T64(b *testing.B)        { benchFloor(b, 1, 64, false) }
func BenchmarkFloorB8T64Lengths(b *testing.B) { benchFloor(b, 8, 64, true) }
func BenchmarkFloorB48T64(b *testing.B)       { benchFloor(b, 48, 64, false) }

// BenchmarkRecurrentVsBLAS: the kernels' multi-row product against OpenBLAS (sgemv at a = 1,
// sgemm above) on the recurrent shape, in one process — the data behind RecurrentMaxRows.
func BenchmarkRecurrentVsBLAS(b *testing.B) {
	const M, K = 3072, 768
	rng := rand.New(rand.NewPCG(5, 6))
	w := make([]float32, M*K)
	for i := range w {
		w[i] = float32(rng.NormFloat64()) * 0.03
	}
	x := make([]float32, 64*K)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	y := make([]float32, 64*M)
	b.Logf("%s, kernels %s", BLASInfo(), kernels.LevelName(kernels.Level()))
	for _, a := range []int{1, 2, 4, 8, 16, 24, 32, 48, 64} {
		for _, impl := range []string{"blas", "kernel"} {
			b.Run(fmt.Sprintf("a=%d/%s", a, impl), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					switch {
					case impl == "kernel":
						kernels.RecurrentProduct(y, w, M, K, x, a)
					case a == 1:
						gemv(M, K, 1, w, K, x, 0, y)
					default:
						gemm(false, true, a, M, K, 1, x, K, w, K, 0, y, M)
					}
				}
				s := b.Elapsed().Seconds() / float64(b.N)
				b.ReportMetric(float64(2*M*K*a)/s/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkForwardT: cost against T at B=1 (issue 5: near-linear in T; attention's T² part is
// reported as its share of the FLOPs).
func BenchmarkForwardT(b *testing.B) {
	for _, T := range []int{16, 32, 64, 128, 256, 512, 1024} {
		b.Run(fmt.Sprintf("T=%d", T), func(b *testing.B) { benchForwardShape(b, 1, T) })
	}
}

// BenchmarkForwardBSweep: cost against B at T=64 (issue 5: near-linear in B; per clip it falls
// as the products grow from skinny to batched).
func BenchmarkForwardBSweep(b *testing.B) {
	for _, B := range []int{1, 2, 4, 8, 16, 32, 48, 64} {
		b.Run(fmt.Sprintf("B=%d", B), func(b *testing.B) { benchForwardShape(b, B, 64) })
	}
}

var sweepModel *Model

func benchForwardShape(b *testing.B, B, T int) {
	cfg := DefaultConfig()
	if sweepModel == nil {
		m, err := NewModelInit(cfg, 1)
		if err != nil {
			b.Fatal(err)
		}
		sweepModel = m
	}
	m := sweepModel
	rng := rand.New(rand.NewPCG(3, uint64(B*T)))
	x := make([]float32, B*T*cfg.FeatureDim)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	logits := make([]float32, B*cfg.NumClasses)
	if err := m.Forward(x, B, T, nil, PaddingMasked, logits, nil); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := m.Forward(x, B, T, nil, PaddingMasked, logits, nil); err != nil {
			b.Fatal(err)
		}
	}
	s := b.Elapsed().Seconds() / float64(b.N)
	f := forwardFLOPs(cfg, B, T)
	b.ReportMetric(s*1e3/float64(B), "ms/clip")
	b.ReportMetric(s*1e6/float64(B*T), "us/frame")
	b.ReportMetric(f/s/1e9, "GFLOP/s")
	b.ReportMetric(2*2*float64(T*T*cfg.D())/(f/float64(B)), "attnT2-share")
}

// BenchmarkFastPathAB: each optional fast-path switch on and off, alternated per iteration in
// one process (so load from other processes hits both alike): "gemm" = kernels.GemmNT for the
// x·Wᵀ products, "split" = a lone clip's Linear layers over the pool, "rows" = the products over
// the whole batch's rows (batchRows).
func BenchmarkFastPathAB(b *testing.B) {
	cfg := DefaultConfig()
	m, err := NewModelInit(cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	const T = 64
	for _, sw := range []struct {
		name string
		flag *bool
	}{{"gemm", &useGemmKernel}, {"split", &splitClipLinears}, {"rows", &useBatchRows}} {
		for _, B := range []int{1, 48} {
			b.Run(fmt.Sprintf("%s/B=%d", sw.name, B), func(b *testing.B) {
				rng := rand.New(rand.NewPCG(1, 2))
				x := make([]float32, B*T*cfg.FeatureDim)
				for i := range x {
					x[i] = float32(rng.NormFloat64())
				}
				logits := make([]float32, B*cfg.NumClasses)
				defer func() { *sw.flag = true }()
				var on, off time.Duration
				for i := -1; i < b.N; i++ {
					for _, v := range []bool{true, false} {
						*sw.flag = v
						t0 := time.Now()
						if err := m.Forward(x, B, T, nil, PaddingMasked, logits, nil); err != nil {
							b.Fatal(err)
						}
						if d := time.Since(t0); i >= 0 && v {
							on += d
						} else if i >= 0 {
							off += d
						}
					}
				}
				b.ReportMetric(on.Seconds()*1e3/float64(b.N), "on-ms")
				b.ReportMetric(off.Seconds()*1e3/float64(b.N), "off-ms")
				b.ReportMetric(on.Seconds()/off.Seconds(), "on/off")
			})
		}
	}
}

// BenchmarkGemmNTVsBLAS: kernels.GemmNT against OpenBLAS sgemm on the forward's x·Wᵀ shapes,
// alternated per iteration in one process; reports both rates and kernel/sgemm time.
func BenchmarkGemmNTVsBLAS(b *testing.B) {
	b.Logf("%s, kernels %s", BLASInfo(), kernels.LevelName(kernels.Level()))
	for _, s := range []struct {
		name    string
		a, M, K int
	}{{"lstm-in-l0", 64, 3072, 768}, {"lstm-in", 64, 3072, 1536}, {"qkv", 64, 4608, 1536},
		{"in-proj", 64, 768, 1280}, {"classifier", 48, 768, 1536}} {
		b.Run(s.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(7, 8))
			w := make([]float32, s.M*s.K)
			for i := range w {
				w[i] = float32(rng.NormFloat64()) * 0.03
			}
			x := make([]float32, s.a*s.K)
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
			y := make([]float32, s.a*s.M)
			var tk, tb time.Duration
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				kernels.GemmNT(y, s.M, x, s.K, w, s.K, s.a, s.M, s.K, false)
				t1 := time.Now()
				C := y
				useGemmKernel = false
				gemm(false, true, s.a, s.M, s.K, 1, x, s.K, w, s.K, 0, C, s.M)
				useGemmKernel = true
				tk += t1.Sub(t0)
				tb += time.Since(t1)
			}
			f := 2 * float64(s.a*s.M*s.K) * float64(b.N)
			b.ReportMetric(f/tk.Seconds()/1e9, "kernel-GFLOP/s")
			b.ReportMetric(f/tb.Seconds()/1e9, "sgemm-GFLOP/s")
			b.ReportMetric(tk.Seconds()/tb.Seconds(), "kernel/sgemm")
		})
	}
}
