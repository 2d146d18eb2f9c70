package core

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestFma32FastPath: fma32 (fast path + careful fallback) equals fma32Careful, the TwoSum
// implementation, on random operands of every magnitude, on products landing near float32
// midpoints, and near the subnormal and overflow edges.
func TestFma32FastPath(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 9))
	check := func(a, b, c float32) {
		got, want := fma32(a, b, c), fma32Careful(a, b, c)
		if math.Float32bits(got) != math.Float32bits(want) && !(got != got && want != want) {
			t.Fatalf("fma32(%g, %g, %g) = %g, careful %g", a, b, c, got, want)
		}
	}
	rnd := func() float32 {
		return float32(math.Ldexp(rng.Float64()*2-1, rng.IntN(300)-150))
	}
	for range 2_000_000 {
		check(rnd(), rnd(), rnd())
	}
	// Midpoints: c = m − a·b for a float32 midpoint m, plus small nudges.
	for range 500_000 {
		a, b := rnd(), rnd()
		r := rnd()
		m := float64(r) + float64(math.Nextafter32(r, float32(math.Inf(1)))-r)/2
		c := float32(m - float64(a)*float64(b))
		for _, d := range []float32{c, math.Nextafter32(c, 0), math.Nextafter32(c, float32(math.Inf(1)))} {
			check(a, b, d)
		}
	}
	edges := []float32{0, 1, -1, math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, 0x1p-126, 0x1p-127,
		0x1.fffffep-127, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}
	for _, a := range edges {
		for _, b := range edges {
			for _, c := range edges {
				check(a, b, c)
			}
		}
	}
}
