package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// bf16Ref rounds v to bfloat16 the slow way: the two bf16 neighbours of v (truncation, and one
// bf16 ulp away from zero), the nearer one in float64, ties to the even one.
func bf16Ref(v float32) uint16 {
	u := math.Float32bits(v)
	if v != v {
		return uint16(u>>16) | 0x40
	}
	lo := u &^ 0xffff // truncated: toward zero
	if lo == u {
		return uint16(u >> 16)
	}
	hi := lo + 0x10000 // away from zero (may be ±Inf: 0x7f80…)
	dlo := math.Abs(float64(math.Float32frombits(lo)) - float64(v))
	var dhi float64
	if hi&0x7fffffff == 0x7f800000 {
		// The rounding boundary toward Inf is MaxBF16 + half an ulp: distance to "2^128".
		dhi = math.Abs(math.Ldexp(math.Copysign(1, float64(v)), 128) - float64(v))
	} else {
		dhi = math.Abs(float64(math.Float32frombits(hi)) - float64(v))
	}
	switch {
	case dlo < dhi:
		return uint16(lo >> 16)
	case dhi < dlo:
		return uint16(hi >> 16)
	case (lo>>16)&1 == 0:
		return uint16(lo >> 16)
	}
	return uint16(hi >> 16)
}

func TestToBF16(t *testing.T) {
	var xs []float32
	for _, u := range []uint32{
		0, 0x80000000, 0x3f800000, 0x3f808000, 0x3f818000, 0x3f808001, 0x3f807fff, 0xbf808000, 0xbf818000,
		0x7f7fffff, 0xff7fffff, 0x7f7f7fff, 0x7f7f8000, 0x7f7f8001, 0x7f800000, 0xff800000, 0x7fc00000,
		0x7f800001, 0xff800001, 0x7fbfffff, 0x00000001, 0x00008000, 0x00018000, 0x00007fff, 0x807fffff,
		0x00800000, 0x007fffff,
	} {
		xs = append(xs, math.Float32frombits(u))
	}
	rng := rand.New(rand.NewPCG(21, 22))
	for i := 0; i < 2_000_000; i++ {
		xs = append(xs, math.Float32frombits(rng.Uint32()))
	}
	for i := 0; i < 200_000; i++ { // ties and near-ties
		xs = append(xs, math.Float32frombits(rng.Uint32()&^0xffff|0x8000+uint32(rng.IntN(3))-1))
	}
	got := make([]uint16, len(xs))
	ToBF16(got, xs)
	back := make([]float32, len(xs))
	FromBF16(back, got)
	for i, x := range xs {
		want := bf16Ref(x)
		if x != x {
			if got[i]&0x7f80 != 0x7f80 || got[i]&0x7f == 0 && got[i]&0x40 == 0 || got[i]&0x8000 != want&0x8000 {
				t.Fatalf("ToBF16(NaN %#08x) = %#04x, not a NaN of the same sign", math.Float32bits(x), got[i])
			}
			continue
		}
		if got[i] != want {
			t.Fatalf("ToBF16(%g = %#08x) = %#04x, want %#04x", x, math.Float32bits(x), got[i], want)
		}
		if math.Float32bits(back[i]) != uint32(want)<<16 {
			t.Fatalf("FromBF16(%#04x) = %#08x", want, math.Float32bits(back[i]))
		}
		// Relative error of a normal finite result: at most 2⁻⁸ (half an ulp of an 8-bit significand).
		if a := math.Abs(float64(x)); a >= 0x1p-126 && a < 0x1p127 {
			if e := math.Abs(float64(back[i])-float64(x)) / a; e > 0x1p-8 {
				t.Fatalf("ToBF16(%g): relative error %g > 2^-8", x, e)
			}
		}
	}
}

// PackBF16's layout, element by element, and UnpackBF16 as its inverse.
func TestPackBF16(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	for _, K := range []int{1, 15, 16, 31, 32, 33, 48, 64, 77, 768} {
		const M = 3
		src := randSlice(rng, M*K, 1)
		plain := make([]uint16, M*K)
		ToBF16(plain, src)
		p := make([]uint16, M*K)
		PackBF16(p, src, M, K)
		K32 := K / 32 * 32
		for j := 0; j < M; j++ {
			for k := 0; k < K; k++ {
				at := j*K + k
				if k < K32 {
					b, i := k/32*32, k%32
					at = j*K + b + 2*(i%16) + i/16
				}
				if p[at] != plain[j*K+k] {
					t.Fatalf("K=%d: W[%d,%d] is at %d? found %#x, want %#x", K, j, k, at, p[at], plain[j*K+k])
				}
			}
		}
		back, wide := make([]float32, M*K), make([]float32, M*K)
		UnpackBF16(back, p, M, K)
		FromBF16(wide, plain)
		for i := range back {
			if math.Float32bits(back[i]) != math.Float32bits(wide[i]) {
				t.Fatalf("K=%d: UnpackBF16 element %d = %v, want %v", K, i, back[i], wide[i])
			}
		}
	}
}

func TestRecurrentProductBF16(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	levels(t, func(l int) {
		for _, M := range []int{1, 3, 4, 7, 13, 64} {
			for _, K := range []int{1, 5, 8, 16, 17, 37, 48, 63, 64, 100, 768} {
				for a := 1; a <= 20; a++ {
					w32 := randSlice(rng, M*K, 1)
					w := make([]uint16, M*K)
					PackBF16(w, w32, M, K)
					wide := make([]float32, M*K)
					UnpackBF16(wide, w, M, K)
					x := randSlice(rng, a*K, 1)
					y := make([]float32, a*M+3)
					y[a*M], y[a*M+1], y[a*M+2] = 7, 7, 7
					RecurrentProductBF16(y, w, M, K, x, a)
					if y[a*M] != 7 || y[a*M+2] != 7 {
						t.Fatalf("%s M=%d K=%d a=%d: wrote past a·M", LevelName(l), M, K, a)
					}
					// Accurate against float64 on the bf16 weights: the kernel adds no error of
					// its own beyond float32 accumulation.
					for r := 0; r < a; r++ {
						for j := 0; j < M; j++ {
							var ref, mag float64
							for k := 0; k < K; k++ {
								p := float64(x[r*K+k]) * float64(wide[j*K+k])
								ref += p
								mag += math.Abs(p)
							}
							if d := math.Abs(float64(y[r*M+j]) - ref); d > 2e-6*mag+1e-30 {
								t.Fatalf("%s M=%d K=%d a=%d y[%d,%d] = %g, want %g (|x||w| %g)",
									LevelName(l), M, K, a, r, j, y[r*M+j], ref, mag)
							}
						}
					}
					// Bitwise RecurrentProduct on the widened weights.
					f := make([]float32, a*M)
					RecurrentProduct(f, wide, M, K, x, a)
					for i := range f {
						if math.Float32bits(f[i]) != math.Float32bits(y[i]) {
							t.Fatalf("%s M=%d K=%d a=%d: element %d = %g, RecurrentProduct on the widened weights %g",
								LevelName(l), M, K, a, i, y[i], f[i])
						}
					}
					// Bitwise: a row alone, and M split at any point, give the same values.
					one := make([]float32, M)
					for r := 0; r < a; r++ {
						RecurrentProductBF16(one, w, M, K, x[r*K:], 1)
						for j := range one {
							if one[j] != y[r*M+j] {
								t.Fatalf("%s M=%d K=%d a=%d: row %d alone differs at %d", LevelName(l), M, K, a, r, j)
							}
						}
					}
					if M > 1 {
						s := 1 + rng.IntN(M-1)
						lo, hi := make([]float32, a*s), make([]float32, a*(M-s))
						RecurrentProductBF16(lo, w, s, K, x, a)
						RecurrentProductBF16(hi, w[s*K:], M-s, K, x, a)
						for r := 0; r < a; r++ {
							for j := 0; j < M; j++ {
								var v float32
								if j < s {
									v = lo[r*s+j]
								} else {
									v = hi[r*(M-s)+j-s]
								}
								if v != y[r*M+j] {
									t.Fatalf("%s M=%d K=%d a=%d split at %d: y[%d,%d] differs", LevelName(l), M, K, a, s, r, j)
								}
							}
						}
					}
				}
			}
		}
	})
}

func TestRecurrentProductBF16Panics(t *testing.T) {
	for _, c := range []struct {
		y, w, x, M, K, a int
	}{{5, 12, 8, 3, 4, 2}, {6, 11, 8, 3, 4, 2}, {6, 12, 7, 3, 4, 2}, {6, 12, 8, -3, 4, 2}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("no panic for %+v", c)
				}
			}()
			RecurrentProductBF16(make([]float32, c.y), make([]uint16, c.w), c.M, c.K, make([]float32, c.x), c.a)
		}()
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("ToBF16 into a short dst did not panic")
			}
		}()
		ToBF16(make([]uint16, 3), make([]float32, 4))
	}()
}

// BenchmarkRecurrentProductBF16 alternates the float32 and the bf16 kernel on W [3072, 768]
// (one LSTM direction's W_hh at the default config; both copies L3-resident, as in the model)
// and reports each one's time per call and the bf16/float32 ratio (< 1: bf16 faster).
func BenchmarkRecurrentProductBF16(b *testing.B) {
	const M, K = 3072, 768
	rng := rand.New(rand.NewPCG(5, 6))
	w32 := randSlice(rng, M*K, 0.03)
	w := make([]uint16, M*K)
	PackBF16(w, w32, M, K)
	x := randSlice(rng, 64*K, 1)
	y := make([]float32, 64*M)
	levels(b, func(l int) {
		for _, a := range []int{1, 2, 4, 8, 16, 64} {
			b.Run(fmt.Sprintf("%s/a=%d", LevelName(l), a), func(b *testing.B) {
				var t32, t16 time.Duration
				for i := 0; i < b.N; i++ {
					t0 := time.Now()
					RecurrentProduct(y, w32, M, K, x, a)
					t1 := time.Now()
					RecurrentProductBF16(y, w, M, K, x, a)
					t16 += time.Since(t1)
					t32 += t1.Sub(t0)
				}
				n := float64(b.N)
				b.ReportMetric(t32.Seconds()/n*1e6, "f32-µs")
				b.ReportMetric(t16.Seconds()/n*1e6, "bf16-µs")
				b.ReportMetric(float64(M*K*2)/(t16.Seconds()/n)/1e9, "bf16-GB/s")
				b.ReportMetric(t16.Seconds()/t32.Seconds(), "bf16/f32")
			})
		}
	})
}
