package core

import (
	"math"
	"math/rand/v2"
	"testing"
)

func ttaTestModel(t *testing.T, seed uint64) *Model {
	t.Helper()
	m, err := NewModelInit(Config{FeatureDim: 5, HiddenDim: 6, NumLayers: 1, NumHeads: 2, NumClasses: 3,
		Dropout: 0.4, Bidirectional: true, ClassifierWidths: []int{8}}, seed)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func randClips(B, T, F int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	x := make([]float32, B*T*F)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

func TestTTAIndicesExact(t *testing.T) {
	eq := func(a, b []int) bool {
		if len(a) != len(b) {
			return false
		}
		for i := range a {
			if a[i] != b[i] {
				return false
			}
		}
		return true
	}
	for _, c := range []struct {
		mode TTAMode
		n    int
		want []int
	}{
		{TTAOriginal, 3, []int{0, 1, 2}},
		{TTAReversed, 3, []int{2, 1, 0}},
		{TTASpeedUp, 10, nil},
		{TTASpeedDown, 10, nil},
		{TTASpeedUp, 11, []int{0, 2, 5, 7, 10}}, // h = 5: ⌊10i/4⌋
		{TTASpeedDown, 11, []int{0, 0, 1, 2, 2, 3, 4, 4, 5, 6, 6, 7, 8, 8, 9, 10}},        // m = 16: ⌊10i/15⌋
		{TTASpeedUp, 12, []int{0, 2, 4, 6, 8, 11}},                                        // h = 6: ⌊11i/5⌋
		{TTASpeedDown, 12, []int{0, 0, 1, 1, 2, 3, 3, 4, 5, 5, 6, 7, 7, 8, 9, 9, 10, 11}}, // m = 18: ⌊11i/17⌋
	} {
		if got := TTAIndices(c.mode, c.n); !eq(got, c.want) {
			t.Errorf("%v n=%d: %v, want %v", c.mode, c.n, got, c.want)
		}
	}
	// Every n: right lengths, first and last frames kept, in order, within range.
	for n := 11; n < 400; n++ {
		up, down := TTAIndices(TTASpeedUp, n), TTAIndices(TTASpeedDown, n)
		if len(up) != n/2 || len(down) != (3*n)/2 {
			t.Fatalf("n=%d: lengths %d %d", n, len(up), len(down))
		}
		for _, ix := range [][]int{up, down} {
			if ix[0] != 0 || ix[len(ix)-1] != n-1 {
				t.Fatalf("n=%d: ends %d..%d", n, ix[0], ix[len(ix)-1])
			}
			for i := 1; i < len(ix); i++ {
				if ix[i] < ix[i-1] || ix[i] > n-1 {
					t.Fatalf("n=%d: not increasing at %d: %v", n, i, ix)
				}
			}
		}
	}
	// n = 73, where float32 linspace differs: exact rational floor.
	up := TTAIndices(TTASpeedUp, 73)
	for i, v := range up {
		if want := int(math.Floor(float64(i) * 72 / 35)); v != want && float64(i*72)/35 != float64(v) {
			t.Fatalf("n=73 speed-up idx[%d] = %d, want %d", i, v, want)
		}
	}
}

// TestPredictTTAMatchesDirectComputation builds every mode's clip by hand, runs each alone
// through Forward, and compares the mean of softmax with PredictTTA.
func TestPredictTTAMatchesDirectComputation(t *testing.T) {
	m := ttaTestModel(t, 7)
	B, T, F, C := 4, 14, 5, 3
	x := randClips(B, T, F, 3)
	lengths := []int32{14, 11, 10, 4} // two clips with all four modes, two with two
	got := make([]float32, B*C)
	fw := make([]float32, B*T)
	if err := m.PredictTTA(x, B, T, lengths, PaddingMasked, got, fw); err != nil {
		t.Fatal(err)
	}
	for b := 0; b < B; b++ {
		n := int(lengths[b])
		clip := x[b*T*F : b*T*F+n*F]
		frame := func(i int) []float32 { return clip[i*F : (i+1)*F] }
		var versions [][]float32
		orig := append([]float32(nil), clip...)
		versions = append(versions, orig)
		var rev []float32
		for i := n - 1; i >= 0; i-- {
			rev = append(rev, frame(i)...)
		}
		versions = append(versions, rev)
		if n > 10 {
			h := n / 2
			var up []float32
			for i := 0; i < h; i++ {
				up = append(up, frame(i*(n-1)/(h-1))...)
			}
			mm := 3 * n / 2
			var down []float32
			for i := 0; i < mm; i++ {
				down = append(down, frame(min(i*(n-1)/(mm-1), n-1))...)
			}
			versions = append(versions, up, down)
		}
		want := make([]float64, C)
		for _, v := range versions {
			lg := make([]float32, C)
			if err := m.Forward(v, 1, len(v)/F, nil, PaddingMasked, lg, nil); err != nil {
				t.Fatal(err)
			}
			SoftmaxRows(lg, 1, C)
			for c := range want {
				want[c] += float64(lg[c]) / float64(len(versions))
			}
		}
		for c := 0; c < C; c++ {
			if d := math.Abs(float64(got[b*C+c]) - want[c]); d > 2e-5 {
				t.Errorf("clip %d (n=%d, %d modes) class %d: %v, direct %v", b, n, len(versions), c, got[b*C+c], want[c])
			}
		}
	}
	// frame weights are the original clips' weights.
	wantFW := make([]float32, B*T)
	lg := make([]float32, B*C)
	if err := m.Forward(x, B, T, lengths, PaddingMasked, lg, wantFW); err != nil {
		t.Fatal(err)
	}
	for i := range fw {
		if fw[i] != wantFW[i] {
			t.Fatalf("frame weight %d: %v, want %v", i, fw[i], wantFW[i])
		}
	}
	// The allocating form gives the same numbers.
	if p2, err := PredictTTA(m, x, B, T, lengths, PaddingMasked); err != nil || len(p2) != B*C || p2[5] != got[5] {
		t.Errorf("PredictTTA: %v %v", err, p2)
	}
	// Errors as Forward's.
	if err := m.PredictTTA(x, B, T, lengths, PaddingMasked, got[:5], nil); KindOf(err) != KindShape {
		t.Errorf("short probs: %v", err)
	}
	if err := m.PredictTTA(x, B, T, []int32{1, 2, 0, 3}, PaddingMasked, got, nil); err == nil {
		t.Error("zero length accepted")
	}
}
