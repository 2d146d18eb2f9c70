package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// The vdpbf16ps experiment against the shipped widening kernel, on one LSTM direction's shape
// (W_hh [3072, 768] ~ U(±1/√768) as PyTorch initialises it, h = tanh(N(0,1)) in (−1, 1)). It
// checks the experiment computes what it claims (bf16(x)·bf16(W) accumulated in float32) and
// logs each kernel's error against the exact product x·Wᵀ (float64 on the float32 weights), as
// max|Δ| / max|y| and RMS(Δ) / RMS(y): kernels/NOTES.md's table.
func TestBF16DotAccuracy(t *testing.T) {
	if !bf16DotAvailable() {
		t.Skip("no AVX512_BF16")
	}
	const M, K = 3072, 768
	rng := rand.New(rand.NewPCG(31, 32))
	w32 := make([]float32, M*K)
	bound := 1 / math.Sqrt(K)
	for i := range w32 {
		w32[i] = float32((2*rng.Float64() - 1) * bound)
	}
	w, wp := make([]uint16, M*K), make([]uint16, M*K)
	ToBF16(w, w32)
	PackBF16(wp, w32, M, K)
	wide := make([]float32, M*K)
	FromBF16(wide, w)
	for _, a := range []int{1, 5} {
		x := make([]float32, a*K)
		for i := range x {
			x[i] = float32(math.Tanh(rng.NormFloat64()))
		}
		xb := make([]uint16, len(x))
		ToBF16(xb, x)
		xr := make([]float32, len(x))
		FromBF16(xr, xb)
		yw, yd, yf := make([]float32, a*M), make([]float32, a*M), make([]float32, a*M)
		RecurrentProductBF16(yw, wp, M, K, x, a)
		recurrentProductBF16Dot(yd, w, M, K, x, a)
		RecurrentProduct(yf, w32, M, K, x, a)
		type acc struct{ maxD, sumD2 float64 }
		var ew, ed, ef acc
		var maxY, sumY2 float64
		for r := 0; r < a; r++ {
			for j := 0; j < M; j++ {
				var exact, rounded, mag float64
				for k := 0; k < K; k++ {
					exact += float64(x[r*K+k]) * float64(w32[j*K+k])
					p := float64(xr[r*K+k]) * float64(wide[j*K+k])
					rounded += p
					mag += math.Abs(p)
				}
				i := r*M + j
				if d := math.Abs(float64(yd[i]) - rounded); d > 2e-6*mag+1e-30 {
					t.Fatalf("a=%d y[%d,%d] = %g, want bf16(x)·bf16(W) = %g", a, r, j, yd[i], rounded)
				}
				maxY = math.Max(maxY, math.Abs(exact))
				sumY2 += exact * exact
				for _, e := range []struct {
					s *acc
					v float32
				}{{&ew, yw[i]}, {&ed, yd[i]}, {&ef, yf[i]}} {
					d := float64(e.v) - exact
					e.s.maxD = math.Max(e.s.maxD, math.Abs(d))
					e.s.sumD2 += d * d
				}
			}
		}
		for _, e := range []struct {
			name string
			s    acc
		}{{"float32 kernel", ef}, {"bf16 W, widened (shipped)", ew}, {"bf16 W and h, vdpbf16ps", ed}} {
			t.Logf("a=%d %-26s max|Δ|/max|y| %.3g  RMS(Δ)/RMS(y) %.3g", a, e.name, e.s.maxD/maxY,
				math.Sqrt(e.s.sumD2/sumY2))
		}
	}
}

// BenchmarkBF16Dot alternates the float32, the widening bf16 and the vdpbf16ps kernels on
// W [3072, 768] and reports each one's time per call.
func BenchmarkBF16Dot(b *testing.B) {
	if !bf16DotAvailable() {
		b.Skip("no AVX512_BF16")
	}
	defer SetLevel(Detect())
	SetLevel(AVX512)
	const M, K = 3072, 768
	rng := rand.New(rand.NewPCG(5, 6))
	w32 := randSlice(rng, M*K, 0.03)
	w, wp := make([]uint16, M*K), make([]uint16, M*K)
	ToBF16(w, w32)
	PackBF16(wp, w32, M, K)
	x := randSlice(rng, 64*K, 1)
	y := make([]float32, 64*M)
	for _, a := range []int{1, 2, 4, 8, 16, 64} {
		b.Run(fmt.Sprintf("a=%d", a), func(b *testing.B) {
			var t32, tw, td time.Duration
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				RecurrentProduct(y, w32, M, K, x, a)
				t1 := time.Now()
				RecurrentProductBF16(y, wp, M, K, x, a)
				t2 := time.Now()
				recurrentProductBF16Dot(y, w, M, K, x, a)
				td += time.Since(t2)
				tw += t2.Sub(t1)
				t32 += t1.Sub(t0)
			}
			n := float64(b.N)
			b.ReportMetric(t32.Seconds()/n*1e6, "f32-µs")
			b.ReportMetric(tw.Seconds()/n*1e6, "widen-µs")
			b.ReportMetric(td.Seconds()/n*1e6, "dp-µs")
		})
	}
}
