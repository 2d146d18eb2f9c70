package core

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"
	"unsafe"

	"libtemporal/kernels"
)

var precisionTestConfig = Config{FeatureDim: 24, HiddenDim: 40, NumLayers: 2, NumHeads: 4, NumClasses: 3, Dropout: 0.4,
	Bidirectional: true, ClassifierWidths: []int{16, 8}}

func precisionInputs(cfg Config, B, T int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 7))
	x := make([]float32, B*T*cfg.FeatureDim)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

func forwardOut(t testing.TB, m *Model, x []float32, B, T int, lengths []int32) []float32 {
	t.Helper()
	C := m.cfg.NumClasses
	out := make([]float32, B*C+B*T)
	if err := m.Forward(x, B, T, lengths, PaddingMasked, out[:B*C], out[B*C:]); err != nil {
		t.Fatal(err)
	}
	return out
}

func bitwiseEqual(a, b []float32) int {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i
		}
	}
	return -1
}

// roundedWhhCopy is a float32 copy of m whose W_hh hold their bf16-rounded values.
func roundedWhhCopy(t testing.TB, m *Model) *Model {
	t.Helper()
	c, err := NewModel(m.Config())
	if err != nil {
		t.Fatal(err)
	}
	copy(c.slab, m.slab)
	for _, dirs := range c.w32.lstm {
		for _, d := range dirs {
			u := make([]uint16, len(d.whh))
			kernels.ToBF16(u, d.whh)
			kernels.FromBF16(d.whh, u)
		}
	}
	return c
}

func TestPrecisionSetting(t *testing.T) {
	for s, want := range map[string]Precision{"float32": PrecisionFloat32, "fp32": PrecisionFloat32, "": PrecisionFloat32,
		"bf16": PrecisionBF16Recurrent, "bf16-recurrent": PrecisionBF16Recurrent} {
		if p, err := ParsePrecision(s); err != nil || p != want {
			t.Errorf("ParsePrecision(%q) = %v, %v", s, p, err)
		}
	}
	if _, err := ParsePrecision("fp16"); KindOf(err) != KindInvalidArgument {
		t.Errorf("ParsePrecision(fp16): %v", err)
	}
	if PrecisionFloat32.String() != "float32" || PrecisionBF16Recurrent.String() != "bf16" {
		t.Error("String")
	}
	m, err := NewModelInit(precisionTestConfig, 3)
	if err != nil {
		t.Fatal(err)
	}
	if m.Precision() != PrecisionFloat32 {
		t.Fatal("default precision is not float32")
	}
	for _, p := range []Precision{-1, 2, 99} {
		if err := m.SetPrecision(p); KindOf(err) != KindInvalidArgument {
			t.Errorf("SetPrecision(%d): %v", int(p), err)
		}
	}
	slab := append([]float32(nil), m.slab...)
	if err := m.SetPrecision(PrecisionBF16Recurrent); err != nil || m.Precision() != PrecisionBF16Recurrent {
		t.Fatalf("SetPrecision(bf16): %v, now %v", err, m.Precision())
	}
	for _, dirs := range m.inferenceWeights().lstm {
		for _, d := range dirs {
			if len(d.whh16) != 4*40*40 || uintptr(unsafe.Pointer(&d.whh16[0]))%64 != 0 {
				t.Fatalf("packed W_hh: %d bf16 words at %p, want %d on a 64-byte boundary", len(d.whh16), &d.whh16[0], 4*40*40)
			}
		}
	}
	if err := m.SetPrecision(7); err == nil || m.Precision() != PrecisionBF16Recurrent {
		t.Fatal("a rejected setting changed the precision")
	}
	if i := bitwiseEqual(slab, m.slab); i >= 0 {
		t.Fatalf("enabling bf16 changed the float32 parameters (element %d)", i)
	}
	if err := m.SetPrecision(PrecisionFloat32); err != nil || m.Precision() != PrecisionFloat32 {
		t.Fatalf("SetPrecision(float32): %v", err)
	}
}

// The default stays exact: a model never switched, and one switched to bf16 and back, give
// bitwise the same outputs; the bf16 mode gives bitwise the float32 forward of the same model
// with W_hh rounded to bf16 (its only error is that rounding) wherever the float32 recurrence
// runs on kernels.RecurrentProduct (a ≤ RecurrentMaxRows), and equal to rounding elsewhere.
func TestPrecisionBF16IsRoundedWhh(t *testing.T) {
	defer kernels.SetLevel(kernels.Detect())
	for l := kernels.Detect(); l >= kernels.Generic; l-- {
		kernels.SetLevel(l)
		for _, shape := range []struct {
			B, T    int
			lengths []int32
		}{{1, 33, nil}, {5, 9, []int32{9, 4, 1, 9, 6}}, {12, 6, nil}} {
			B, T := shape.B, shape.T
			m, err := NewModelInit(precisionTestConfig, 5)
			if err != nil {
				t.Fatal(err)
			}
			x := precisionInputs(m.cfg, B, T, uint64(B))
			ref := forwardOut(t, m, x, B, T, shape.lengths)
			if err := m.SetPrecision(PrecisionBF16Recurrent); err != nil {
				t.Fatal(err)
			}
			got := forwardOut(t, m, x, B, T, shape.lengths)
			want := forwardOut(t, roundedWhhCopy(t, m), x, B, T, shape.lengths)
			name := fmt.Sprintf("%s B=%d", kernels.LevelName(l), B)
			if B <= kernels.RecurrentMaxRows() {
				if i := bitwiseEqual(got, want); i >= 0 {
					t.Fatalf("%s: bf16 output %d = %v, float32 with rounded W_hh %v", name, i, got[i], want[i])
				}
			} else {
				for i := range want {
					if d := math.Abs(float64(got[i] - want[i])); d > 1e-5*(1+math.Abs(float64(want[i]))) {
						t.Fatalf("%s: bf16 output %d = %v, float32 with rounded W_hh %v", name, i, got[i], want[i])
					}
				}
			}
			if bitwiseEqual(got, ref) < 0 {
				t.Fatalf("%s: bf16 output is bitwise the float32 one: the mode did nothing", name)
			}
			if err := m.SetPrecision(PrecisionFloat32); err != nil {
				t.Fatal(err)
			}
			if i := bitwiseEqual(forwardOut(t, m, x, B, T, shape.lengths), ref); i >= 0 {
				t.Fatalf("%s: float32 output %d changed after a bf16 round trip", name, i)
			}
		}
	}
}

// Training binds the float32 weights whatever the inference precision: loss and gradients are
// bitwise the same with the bf16 mode on.
func TestPrecisionTrainingStaysFloat32(t *testing.T) {
	m, err := NewModelInit(precisionTestConfig, 6)
	if err != nil {
		t.Fatal(err)
	}
	B, T := 3, 7
	x := precisionInputs(m.cfg, B, T, 9)
	lengths, labels := []int32{7, 3, 5}, []int64{0, 2, 1}
	step := func() (float32, []float32) {
		g := NewGrads(m)
		opt := TrainStepOptions{Dropout: true, RNG: rand.New(rand.NewPCG(3, 4)), Loss: DefaultLossConfig()}
		loss, err := m.LossAndGrad(x, B, T, lengths, labels, opt, g)
		if err != nil {
			t.Fatal(err)
		}
		return loss, g.Slab
	}
	l0, g0 := step()
	if err := m.SetPrecision(PrecisionBF16Recurrent); err != nil {
		t.Fatal(err)
	}
	l1, g1 := step()
	if math.Float32bits(l0) != math.Float32bits(l1) || bitwiseEqual(g0, g1) >= 0 {
		t.Fatalf("training changed with the bf16 inference mode on: loss %v vs %v", l0, l1)
	}
}

// Switching while forwards run: every forward gives bitwise one of the two settings' outputs.
func TestPrecisionSwitchDuringForward(t *testing.T) {
	m, err := NewModelInit(precisionTestConfig, 8)
	if err != nil {
		t.Fatal(err)
	}
	B, T := 2, 12
	x := precisionInputs(m.cfg, B, T, 10)
	ref32 := forwardOut(t, m, x, B, T, nil)
	if err := m.SetPrecision(PrecisionBF16Recurrent); err != nil {
		t.Fatal(err)
	}
	ref16 := forwardOut(t, m, x, B, T, nil)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan string, 8)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				got := forwardOut(t, m, x, B, T, nil)
				if bitwiseEqual(got, ref32) >= 0 && bitwiseEqual(got, ref16) >= 0 {
					errs <- "a forward during a switch matches neither setting"
					return
				}
			}
		}()
	}
	for i := 0; i < 40; i++ {
		p := PrecisionFloat32
		if i%2 == 1 {
			p = PrecisionBF16Recurrent
		}
		if err := m.SetPrecision(p); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	close(stop)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}

// precisionStats compares bf16 logits with float32 logits [n, C].
type precisionStats struct {
	maxDLogit, maxLogit, maxDProb float64
	clips, argmaxSame             int
}

func (s *precisionStats) add(l32, l16 []float32, C int) {
	for b := 0; b < len(l32)/C; b++ {
		a, c := l32[b*C:(b+1)*C], l16[b*C:(b+1)*C]
		p, q := append([]float32(nil), a...), append([]float32(nil), c...)
		SoftmaxRows(p, 1, C)
		SoftmaxRows(q, 1, C)
		i32, i16 := 0, 0
		for j := 0; j < C; j++ {
			s.maxDLogit = math.Max(s.maxDLogit, math.Abs(float64(a[j]-c[j])))
			s.maxLogit = math.Max(s.maxLogit, math.Abs(float64(a[j])))
			s.maxDProb = math.Max(s.maxDProb, math.Abs(float64(p[j]-q[j])))
			if a[j] > a[i32] {
				i32 = j
			}
			if c[j] > c[i16] {
				i16 = j
			}
		}
		s.clips++
		if i32 == i16 {
			s.argmaxSame++
		}
	}
}

func (s *precisionStats) String() string {
	return fmt.Sprintf("max|Δlogit| %.3g = %.3g of max|logit| %.3g; max|Δprob| %.3g; argmax agrees on %d/%d clips",
		s.maxDLogit, s.maxDLogit/s.maxLogit, s.maxLogit, s.maxDProb, s.argmaxSame, s.clips)
}

// The bf16 mode's error against float32 on the PyTorch parity fixtures (both padding modes).
// The bound is loose (bf16 keeps 8 significant bits); the logged numbers are kernels/NOTES.md's.
func TestPrecisionParityFixtures(t *testing.T) {
	for _, name := range parityCases {
		pc := loadParityCase(t, name)
		C := pc.model.Config().NumClasses
		var st precisionStats
		for _, pad := range []Padding{PaddingMasked, PaddingReference} {
			l32, l16 := make([]float32, pc.B*C), make([]float32, pc.B*C)
			if err := pc.model.SetPrecision(PrecisionFloat32); err != nil {
				t.Fatal(err)
			}
			if err := pc.model.Forward(pc.features, pc.B, pc.T, pc.lengths, pad, l32, nil); err != nil {
				t.Fatal(err)
			}
			if err := pc.model.SetPrecision(PrecisionBF16Recurrent); err != nil {
				t.Fatal(err)
			}
			if err := pc.model.Forward(pc.features, pc.B, pc.T, pc.lengths, pad, l16, nil); err != nil {
				t.Fatal(err)
			}
			st.add(l32, l16, C)
		}
		t.Logf("%-20s %v", name, &st)
		if st.maxDLogit > 2e-2*st.maxLogit+1e-4 || st.maxDProb > 1e-2 {
			t.Errorf("%s: bf16 error too large: %v", name, &st)
		}
	}
}

// TestPrecisionErrorDefaultConfig measures the bf16 mode against float32 at the default config
// (H = 768, 4 layers, bidirectional), T = 64, on TEMPORAL_PRECISION_CLIPS random clips per case
// (skipped when unset: a default-config forward is slow under -race). Weights: the default init,
// seeds 1 and 2; features N(0, 1) (their scale does not matter: input_projection's LayerNorm
// removes it); clips of all 64 frames, and clips of random lengths in [8, 64] (masked).
func TestPrecisionErrorDefaultConfig(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("TEMPORAL_PRECISION_CLIPS"))
	if n <= 0 {
		t.Skip("set TEMPORAL_PRECISION_CLIPS to the number of clips to measure")
	}
	const T, B = 64, 8
	for seed := uint64(1); seed <= 2; seed++ {
		m, err := NewModelInit(DefaultConfig(), seed)
		if err != nil {
			t.Fatal(err)
		}
		C := m.cfg.NumClasses
		for _, withLengths := range []bool{false, true} {
			var st precisionStats
			rng := rand.New(rand.NewPCG(seed, 99))
			for done := 0; done < n; done += B {
				x := precisionInputs(m.cfg, B, T, uint64(done)+1000*seed)
				var lengths []int32
				if withLengths {
					lengths = make([]int32, B)
					for i := range lengths {
						lengths[i] = int32(8 + rng.IntN(T-7))
					}
				}
				l32, l16 := make([]float32, B*C), make([]float32, B*C)
				_ = m.SetPrecision(PrecisionFloat32)
				if err := m.Forward(x, B, T, lengths, PaddingMasked, l32, nil); err != nil {
					t.Fatal(err)
				}
				_ = m.SetPrecision(PrecisionBF16Recurrent)
				if err := m.Forward(x, B, T, lengths, PaddingMasked, l16, nil); err != nil {
					t.Fatal(err)
				}
				st.add(l32, l16, C)
			}
			t.Logf("default config, seed %d, lengths %v: %v", seed, withLengths, &st)
		}
	}
}

// BenchmarkPrecisionAB: default-config clips of T = 64 (B = 1, and B = 8 with lengths in
// [32, 64]), float32 and bf16 forwards alternated in one process, order swapped every iteration;
// reports both times per forward and their ratio.
func BenchmarkPrecisionAB(b *testing.B) {
	for _, B := range []int{1, 8} {
		b.Run(fmt.Sprintf("B=%d", B), func(b *testing.B) {
			m, x, lengths := benchSetup(b, B, 64, B > 1)
			logits := make([]float32, B*m.cfg.NumClasses)
			run := func(p Precision) time.Duration {
				if err := m.SetPrecision(p); err != nil {
					b.Fatal(err)
				}
				t0 := time.Now()
				if err := m.Forward(x, B, 64, lengths, PaddingMasked, logits, nil); err != nil {
					b.Fatal(err)
				}
				return time.Since(t0)
			}
			run(PrecisionFloat32)
			run(PrecisionBF16Recurrent)
			b.ResetTimer()
			var t32, t16 time.Duration
			for i := 0; i < b.N; i++ {
				if i%2 == 0 {
					t32 += run(PrecisionFloat32)
					t16 += run(PrecisionBF16Recurrent)
				} else {
					t16 += run(PrecisionBF16Recurrent)
					t32 += run(PrecisionFloat32)
				}
			}
			n := float64(b.N)
			b.ReportMetric(t32.Seconds()/n*1e3, "f32-ms")
			b.ReportMetric(t16.Seconds()/n*1e3, "bf16-ms")
			b.ReportMetric(t16.Seconds()/t32.Seconds(), "bf16/f32")
		})
	}
}
