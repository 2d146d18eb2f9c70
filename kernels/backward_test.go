package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestGemmNN checks GemmNN against a float64 product on every path the machine has, over
// shapes that exercise the tiles' row and column remainders and the K blocking, and that a
// row's result does not depend on a, N's blocking or the path (bitwise).
func TestGemmNN(t *testing.T) {
	defer SetLevel(Detect())
	rng := rand.New(rand.NewPCG(1, 2))
	for _, sh := range []struct{ a, N, K, ldx, ldw, ldy int }{
		{1, 1, 1, 1, 1, 1}, {3, 5, 7, 7, 5, 5}, {4, 16, 128, 128, 16, 16}, {5, 64, 129, 130, 70, 66},
		{7, 80, 300, 300, 80, 81}, {9, 100, 3, 3, 100, 100}, {48, 768, 3072, 3072, 768, 768},
	} {
		x := make([]float32, (sh.a-1)*sh.ldx+sh.K)
		w := make([]float32, (sh.K-1)*sh.ldw+sh.N)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		for i := range w {
			w[i] = float32(rng.NormFloat64())
		}
		var ref []float32
		for l := Detect(); l >= Generic; l-- {
			SetLevel(l)
			y := make([]float32, (sh.a-1)*sh.ldy+sh.N)
			for i := range y {
				y[i] = float32(math.NaN()) // overwritten, never read
			}
			if !GemmNN(y, sh.ldy, x, sh.ldx, w, sh.ldw, sh.a, sh.N, sh.K) {
				if l != Generic {
					t.Fatalf("%s: GemmNN declined", LevelName(l))
				}
				continue
			}
			for r := 0; r < sh.a; r++ {
				for j := 0; j < sh.N; j++ {
					var s, mag float64
					for k := 0; k < sh.K; k++ {
						p := float64(x[r*sh.ldx+k]) * float64(w[k*sh.ldw+j])
						s += p
						mag += math.Abs(p)
					}
					if got := float64(y[r*sh.ldy+j]); math.Abs(got-s) > 1e-6*mag+1e-30 {
						t.Fatalf("%s %+v: y[%d,%d] = %g, want %g", LevelName(l), sh, r, j, got, s)
					}
				}
			}
			// Row independence: the last row alone, and a narrower N, give the same bits.
			last := make([]float32, sh.N)
			GemmNN(last, sh.N, x[(sh.a-1)*sh.ldx:], sh.ldx, w, sh.ldw, 1, sh.N, sh.K)
			for j, v := range last {
				if v != y[(sh.a-1)*sh.ldy+j] {
					t.Fatalf("%s %+v: row %d alone differs at %d", LevelName(l), sh, sh.a-1, j)
				}
			}
			if ref == nil {
				ref = y
			} else {
				for i := range y {
					if y[i] != ref[i] && !(math.IsNaN(float64(y[i])) && math.IsNaN(float64(ref[i]))) {
						t.Fatalf("%s %+v: differs from %s at %d", LevelName(l), sh, LevelName(Detect()), i)
					}
				}
			}
		}
	}
}
