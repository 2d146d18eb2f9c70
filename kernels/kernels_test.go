package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// levels runs f once per code path this machine supports, highest first, and restores the
// default afterwards.
func levels(t testing.TB, f func(l int)) {
	defer SetLevel(Detect())
	for l := Detect(); l >= Generic; l-- {
		if got := SetLevel(l); got != l {
			t.Fatalf("SetLevel(%d) = %d", l, got)
		}
		f(l)
	}
}

func randSlice(rng *rand.Rand, n int, scale float64) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64() * scale)
	}
	return s
}

func TestLevels(t *testing.T) {
	d := Detect()
	t.Logf("detected %s", LevelName(d))
	if SetLevel(AVX512+5) != d || Level() != d {
		t.Fatalf("SetLevel above the CPU must clamp to %d", d)
	}
	if SetLevel(-3) != Generic {
		t.Fatal("SetLevel below generic must clamp")
	}
	SetLevel(d)
}

func TestRecurrentProduct(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	levels(t, func(l int) {
		for _, M := range []int{1, 3, 4, 7, 13, 64} {
			for _, K := range []int{1, 5, 8, 16, 17, 37, 768} {
				for a := 1; a <= 20; a++ {
					w := randSlice(rng, M*K, 1)
					x := randSlice(rng, a*K, 1)
					y := make([]float32, a*M+3)
					y[a*M], y[a*M+1], y[a*M+2] = 7, 7, 7
					RecurrentProduct(y, w, M, K, x, a)
					if y[a*M] != 7 || y[a*M+2] != 7 {
						t.Fatalf("%s M=%d K=%d a=%d: wrote past a·M", LevelName(l), M, K, a)
					}
					for r := 0; r < a; r++ {
						for j := 0; j < M; j++ {
							var ref, mag float64
							for k := 0; k < K; k++ {
								p := float64(x[r*K+k]) * float64(w[j*K+k])
								ref += p
								mag += math.Abs(p)
							}
							if d := math.Abs(float64(y[r*M+j]) - ref); d > 2e-6*mag+1e-30 {
								t.Fatalf("%s M=%d K=%d a=%d y[%d,%d] = %g, want %g (|x||w| %g)",
									LevelName(l), M, K, a, r, j, y[r*M+j], ref, mag)
							}
						}
					}
					// Bitwise: a row alone, and M split at any point, give the same values.
					one := make([]float32, M)
					for r := 0; r < a; r++ {
						RecurrentProduct(one, w, M, K, x[r*K:], 1)
						for j := range one {
							if one[j] != y[r*M+j] {
								t.Fatalf("%s M=%d K=%d a=%d: row %d alone differs at %d", LevelName(l), M, K, a, r, j)
							}
						}
					}
					if M > 1 {
						s := 1 + rng.IntN(M-1)
						lo, hi := make([]float32, a*s), make([]float32, a*(M-s))
						RecurrentProduct(lo, w, s, K, x, a)
						RecurrentProduct(hi, w[s*K:], M-s, K, x, a)
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

func TestGemmNTStridesAndAccumulate(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	levels(t, func(l int) {
		for _, c := range []struct{ a, M, K, ldy, ldx, ldw int }{
			{1, 5, 7, 9, 7, 8}, {6, 13, 33, 20, 40, 35}, {9, 64, 130, 70, 130, 131}, {4, 4, 16, 4, 16, 16},
		} {
			x := randSlice(rng, (c.a-1)*c.ldx+c.K, 1)
			w := randSlice(rng, (c.M-1)*c.ldw+c.K, 1)
			y0 := randSlice(rng, (c.a-1)*c.ldy+c.M, 1)
			for _, accumulate := range []bool{false, true} {
				y := append([]float32(nil), y0...)
				GemmNT(y, c.ldy, x, c.ldx, w, c.ldw, c.a, c.M, c.K, accumulate)
				for r := 0; r < c.a; r++ {
					for j := 0; j < c.ldy && r*c.ldy+j < len(y); j++ {
						if j >= c.M {
							if y[r*c.ldy+j] != y0[r*c.ldy+j] {
								t.Fatalf("%s %+v: wrote outside the block at [%d,%d]", LevelName(l), c, r, j)
							}
							continue
						}
						var ref, mag float64
						for k := 0; k < c.K; k++ {
							p := float64(x[r*c.ldx+k]) * float64(w[j*c.ldw+k])
							ref += p
							mag += math.Abs(p)
						}
						if accumulate {
							ref += float64(y0[r*c.ldy+j])
							mag += math.Abs(float64(y0[r*c.ldy+j]))
						}
						if d := math.Abs(float64(y[r*c.ldy+j]) - ref); d > 2e-6*mag+1e-30 {
							t.Fatalf("%s %+v acc=%v: y[%d,%d] = %g, want %g", LevelName(l), c, accumulate, r, j, y[r*c.ldy+j], ref)
						}
					}
				}
			}
		}
	})
}

func TestRecurrentProductPanics(t *testing.T) {
	for _, c := range []struct {
		y, w, x, M, K, a int
	}{{5, 12, 8, 3, 4, 2}, {6, 11, 8, 3, 4, 2}, {6, 12, 7, 3, 4, 2}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("no panic for %+v", c)
				}
			}()
			RecurrentProduct(make([]float32, c.y), make([]float32, c.w), c.M, c.K, make([]float32, c.x), c.a)
		}()
	}
}

func sigmoid64(x float64) float64 {
	if x < 0 {
		e := math.Exp(x)
		return e / (1 + e)
	}
	return 1 / (1 + math.Exp(-x))
}

// ulps is the distance between two float32 values in units in the last place (0 for equal,
// counting across zero), or a huge number when exactly one is NaN.
func ulps(a, b float32) int64 {
	if a != a || b != b {
		if a != a && b != b {
			return 0
		}
		return math.MaxInt64
	}
	ord := func(f float32) int64 {
		i := int64(int32(math.Float32bits(f)))
		if i < 0 {
			i = math.MinInt32 - i
		}
		return i
	}
	d := ord(a) - ord(b)
	if d < 0 {
		d = -d
	}
	return d
}

// activationInputs: a dense sweep of [−120, 120], every float32 in [−2⁻¹⁰, 2⁻¹⁰]'s neighbourhood
// of 0 sampled by exponent, and the extremes.
func activationInputs() []float32 {
	var xs []float32
	for i := -1_200_000; i <= 1_200_000; i++ {
		xs = append(xs, float32(i)*1e-4)
	}
	for e := -149; e <= 127; e++ {
		for _, m := range []float64{1, 1.3, 1.77, 1.999} {
			v := float32(math.Ldexp(m, e))
			xs = append(xs, v, -v)
		}
	}
	xs = append(xs, 0, float32(math.Copysign(0, -1)), math.MaxFloat32, -math.MaxFloat32,
		float32(math.Inf(1)), float32(math.Inf(-1)), 88.72283, 88.72284, 88.75, -87.33654, -103.2789, -103.97, -104, 9.01, -9.01)
	return xs
}

func TestActivationsAccuracy(t *testing.T) {
	xs := activationInputs()
	y := make([]float32, len(xs))
	fns := []struct {
		name string
		f    func(y, x []float32)
		ref  func(float64) float64
		max  int64
	}{
		{"exp", Exp, math.Exp, 2},
		{"sigmoid", Sigmoid, sigmoid64, 3},
		{"tanh", Tanh, math.Tanh, 3},
	}
	var prev [][]float32
	levels(t, func(l int) {
		for i, fn := range fns {
			fn.f(y, xs)
			var worst int64
			var at float32
			for k, x := range xs {
				want := float32(fn.ref(float64(x)))
				if d := ulps(y[k], want); d > worst {
					worst, at = d, x
				}
			}
			t.Logf("%s %s: max error %d ulp (at x = %g) over %d inputs", LevelName(l), fn.name, worst, at, len(xs))
			if worst > fn.max {
				t.Errorf("%s %s: %d ulp at x = %g, over the bound %d", LevelName(l), fn.name, worst, at, fn.max)
			}
			if len(prev) <= i {
				prev = append(prev, append([]float32(nil), y...))
			} else {
				for k := range y {
					if math.Float32bits(y[k]) != math.Float32bits(prev[i][k]) {
						t.Fatalf("%s %s(%g) = %g, not bitwise the value of the higher path %g",
							LevelName(l), fn.name, xs[k], y[k], prev[i][k])
					}
				}
			}
		}
	})
	// NaN propagates.
	nan := []float32{float32(math.NaN())}
	for _, fn := range fns {
		fn.f(y[:1], nan)
		if y[0] == y[0] {
			t.Errorf("%s(NaN) = %g", fn.name, y[0])
		}
	}
}

// lstmCellRef is the cell in float64 (what core's generic lstmCell computes), rounded at the end.
func lstmCellRef(gates, rec, c, h []float32, H int) {
	for j := 0; j < H; j++ {
		i := sigmoid64(float64(gates[j] + rec[j]))
		f := sigmoid64(float64(gates[H+j] + rec[H+j]))
		g := math.Tanh(float64(gates[2*H+j] + rec[2*H+j]))
		o := sigmoid64(float64(gates[3*H+j] + rec[3*H+j]))
		cj := f*float64(c[j]) + i*g
		c[j] = float32(cj)
		h[j] = float32(o * math.Tanh(cj))
		gates[j], gates[H+j], gates[2*H+j], gates[3*H+j] = float32(i), float32(f), float32(g), float32(o)
	}
}

func TestLSTMCell(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, H := range []int{1, 3, 4, 5, 8, 15, 16, 17, 33, 768, 769} {
		for _, scale := range []float64{0.1, 1, 4, 40} {
			gates := randSlice(rng, 4*H+1, scale)
			rec := randSlice(rng, 4*H+1, scale)
			c0 := randSlice(rng, H+1, scale)
			gr, cr, hr := append([]float32(nil), gates...), append([]float32(nil), c0...), make([]float32, H+1)
			lstmCellRef(gr, rec, cr, hr, H)
			var prevG, prevC, prevH []float32
			levels(t, func(l int) {
				g, c, h := append([]float32(nil), gates...), append([]float32(nil), c0...), make([]float32, H+1)
				g[4*H], c[H], h[H] = 9, 9, 9
				LSTMCell(g, rec, c, h, H)
				if g[4*H] != 9 || c[H] != 9 || h[H] != 9 {
					t.Fatalf("%s H=%d wrote past the end", LevelName(l), H)
				}
				// c accumulates two rounded products; the gates and h are a few ulp off.
				for j := 0; j < H; j++ {
					for q := 0; q < 4; q++ {
						if d := math.Abs(float64(g[q*H+j] - gr[q*H+j])); d > 4e-7*math.Abs(float64(gr[q*H+j]))+1e-37 {
							t.Fatalf("%s H=%d scale=%g gate %d[%d] = %g, want %g", LevelName(l), H, scale, q, j, g[q*H+j], gr[q*H+j])
						}
					}
					tol := 6e-7 * (math.Abs(float64(c0[j])) + 1)
					if d := math.Abs(float64(c[j] - cr[j])); d > tol {
						t.Fatalf("%s H=%d scale=%g c[%d] = %g, want %g", LevelName(l), H, scale, j, c[j], cr[j])
					}
					if d := math.Abs(float64(h[j] - hr[j])); d > tol {
						t.Fatalf("%s H=%d scale=%g h[%d] = %g, want %g", LevelName(l), H, scale, j, h[j], hr[j])
					}
				}
				if prevG != nil {
					for j := range g {
						if g[j] != prevG[j] || (j < len(c) && (c[j] != prevC[j] || h[j] != prevH[j])) {
							t.Fatalf("%s H=%d: not bitwise the higher path's result at %d", LevelName(l), H, j)
						}
					}
				}
				prevG, prevC, prevH = g, c, h
			})
		}
	}
}

func BenchmarkRecurrentProduct(b *testing.B) {
	const M, K = 3072, 768
	rng := rand.New(rand.NewPCG(5, 6))
	w := randSlice(rng, M*K, 0.03)
	x := randSlice(rng, 48*K, 1)
	y := make([]float32, 48*M)
	levels(b, func(l int) {
		for _, a := range []int{1, 2, 4, 8, 16, 32, 48} {
			b.Run(fmt.Sprintf("%s/a=%d", LevelName(l), a), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					RecurrentProduct(y, w, M, K, x, a)
				}
				s := b.Elapsed().Seconds() / float64(b.N)
				b.ReportMetric(float64(M*K*4)/s/1e9, "GB/s")
				b.ReportMetric(float64(2*M*K*a)/s/1e9, "GFLOP/s")
			})
		}
	})
}

func BenchmarkLSTMCell(b *testing.B) {
	const H = 768
	rng := rand.New(rand.NewPCG(7, 8))
	gates, rec := randSlice(rng, 4*H, 1), randSlice(rng, 4*H, 1)
	c, h := randSlice(rng, H, 1), make([]float32, H)
	g := make([]float32, 4*H)
	levels(b, func(l int) {
		b.Run(LevelName(l), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				copy(g, gates)
				LSTMCell(g, rec, c, h, H)
			}
			b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N)/H, "ns/unit")
		})
	})
}

func BenchmarkActivations(b *testing.B) {
	rng := rand.New(rand.NewPCG(9, 10))
	x := randSlice(rng, 4096, 3)
	y := make([]float32, len(x))
	for _, fn := range []struct {
		name string
		f    func(y, x []float32)
	}{{"exp", Exp}, {"sigmoid", Sigmoid}, {"tanh", Tanh}} {
		levels(b, func(l int) {
			b.Run(fn.name+"/"+LevelName(l), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					fn.f(y, x)
				}
				b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N)/float64(len(x)), "ns/elem")
			})
		})
	}
}
