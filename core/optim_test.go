package core

import (
	"math"
	"path/filepath"
	"strconv"
	"testing"
)

// TestAdamWBitwise: DESIGN §3's float32 sequence, fed the fixture's gradients with the
// schedule's first five learning rates, reproduces torch.optim.AdamW(foreach=False) bit for bit:
// the parameters after every step and both moments after step 5.
func TestAdamWBitwise(t *testing.T) {
	st, err := ReadSafetensorsFile(filepath.Join(fixtureDir, "adamw.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	must := func(name string) []float32 {
		v, err := st.F32(name)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	lr, err := st.F64("lr")
	if err != nil {
		t.Fatal(err)
	}
	p := must("p0")
	opt := NewAdamW(DefaultAdamW(), len(p))
	for k := 1; k <= 5; k++ {
		opt.Update(p, must("g"+strconv.Itoa(k)), lr[k-1])
		diff := countBitDiff(p, must("p"+strconv.Itoa(k)))
		if diff != 0 {
			t.Errorf("step %d: %d of %d parameters differ from PyTorch", k, diff, len(p))
		}
	}
	if d := countBitDiff(opt.ExpAvg, must("m5")); d != 0 {
		t.Errorf("exp_avg after step 5: %d elements differ", d)
	}
	if d := countBitDiff(opt.ExpAvgSq, must("v5")); d != 0 {
		t.Errorf("exp_avg_sq after step 5: %d elements differ", d)
	}
}

func countBitDiff(a, b []float32) int {
	if len(a) != len(b) {
		return max(len(a), len(b))
	}
	n := 0
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			n++
		}
	}
	return n
}

// TestFMA32: the correctly rounded float32 FMA, including a case where naive double rounding
// (float64 FMA, then round to float32) goes wrong.
func TestFMA32(t *testing.T) {
	// a·b + c = 1 + 2^-24 + 2^-60: exactly above a float32 midpoint, but the float64 sum
	// rounds to the midpoint 1 + 2^-24, which ties to even (1) instead of up.
	a := float32(1 + 1.0/(1<<23))            // 1 + 2^-23
	b := float32(1.0 / (1 << 1))             // 0.5
	c := float32(0.5) - float32(1.0/(1<<25)) // 0.5 - 2^-25
	// a·b = 0.5 + 2^-24; + c = 1 + 2^-24 - 2^-25 = 1 + 2^-25: below the midpoint → 1.
	if got := fma32(a, b, c); got != 1 {
		t.Errorf("fma32 = %v, want 1", got)
	}
	for _, tc := range [][3]float32{{1.5, 2, 3}, {-0.1, 0.3, 1e-8}, {1e20, 1e20, 1}, {0, 0, 0}} {
		want := float32(math.FMA(float64(tc[0]), float64(tc[1]), float64(tc[2])))
		if got := fma32(tc[0], tc[1], tc[2]); got != want && !math.IsInf(float64(want), 0) {
			t.Errorf("fma32%v = %v, want %v", tc, got, want)
		}
	}
	// Exhaustive-ish check against big-float-free exact reasoning: random triples where float64
	// FMA has no midpoint issue agree with it.
	x := uint32(12345)
	next := func() float32 {
		x = x*1664525 + 1013904223
		return math.Float32frombits(x&0x3fffffff | 0x3e000000)
	}
	for i := 0; i < 100000; i++ {
		a, b, c := next(), next(), -next()
		got := fma32(a, b, c)
		ref := float32(math.FMA(float64(a), float64(b), float64(c)))
		if got != ref && math.Abs(float64(got-ref)) > math.Abs(float64(ref))*1.2e-7 {
			t.Fatalf("fma32(%v,%v,%v) = %v, float64 route %v", a, b, c, got, ref)
		}
	}
}

// TestScheduleMatchesPyTorch: the lr of batches 0..399 equals PyTorch's
// CosineAnnealingWarmRestarts(T_0=20, T_mult=2, eta_min=1e-6) bit for bit (libm's cos).
func TestScheduleMatchesPyTorch(t *testing.T) {
	st, err := ReadSafetensorsFile(filepath.Join(fixtureDir, "schedule.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := st.F64("lr")
	if err != nil {
		t.Fatal(err)
	}
	s := NewCosineWarmRestarts(1e-3, 1e-6, 20, 2)
	worst, bitDiff := 0.0, 0
	for k, w := range want {
		got := s.LR()
		if got != w {
			bitDiff++
			worst = math.Max(worst, math.Abs(got-w))
		}
		s.Step()
		if k == 19 && (s.TCur != 0 || s.Ti != 40) {
			t.Errorf("after batch 19: T_cur=%d T_i=%d, want 0, 40", s.TCur, s.Ti)
		}
	}
	if bitDiff != 0 {
		t.Errorf("schedule: %d of %d lrs differ from PyTorch's, worst %g", bitDiff, len(want), worst)
	}
	for _, k := range []int{0, 20, 60, 140, 300} {
		if want[k] != 1e-3 {
			t.Errorf("lr[%d] = %v, expected a restart at 1e-3", k, want[k])
		}
	}
}

// TestClipMatchesPyTorch: clipping the fixtures' raw masked-mode gradients gives PyTorch's total
// norm, coefficient and clipped gradients bit for bit.
func TestClipMatchesPyTorch(t *testing.T) {
	for _, name := range trainCases {
		t.Run(name, func(t *testing.T) {
			st, err := ReadSafetensorsFile(filepath.Join(fixtureDir, name+".train.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			pc := loadParityCase(t, name)
			var grads []float32
			var segs [][]float32
			var want []float32
			for _, p := range pc.model.Params() {
				g, err := st.F32("grad.masked." + p.Name)
				if err != nil {
					t.Fatal(err)
				}
				c, err := st.F32("clipped." + p.Name)
				if err != nil {
					t.Fatal(err)
				}
				grads = append(grads, g...)
				want = append(want, c...)
			}
			off := 0
			for _, p := range pc.model.Params() {
				segs = append(segs, grads[off:off+len(p.Data)])
				off += len(p.Data)
			}
			total, coef, err := ClipGradNorm(grads, segs, 1.0)
			if err != nil {
				t.Fatal(err)
			}
			wantTotal, _ := strconv.ParseFloat(st.Metadata["grad_total_norm_step1"], 64)
			wantCoef, _ := strconv.ParseFloat(st.Metadata["clip_coef_step1"], 64)
			if total != float32(wantTotal) || coef != float32(wantCoef) {
				t.Errorf("total norm %v coef %v, PyTorch %v and %v", total, coef, float32(wantTotal), float32(wantCoef))
			}
			if d := countBitDiff(grads, want); d != 0 {
				t.Errorf("%d of %d clipped gradients differ from PyTorch's", d, len(grads))
			}
		})
	}
}

// trainCases are the fixtures with a .train.safetensors file.
var trainCases = []string{"tiny_bi_mixed", "h13_short", "uni_1layer_c2", "nolen", "medium"}

// TestClipNonFinite: a NaN or Inf gradient is a KindNumeric error and nothing is scaled.
func TestClipNonFinite(t *testing.T) {
	for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1))} {
		g := []float32{1, 2, bad, 4}
		_, _, err := ClipGradNorm(g, [][]float32{g[:2], g[2:]}, 1)
		if KindOf(err) != KindNumeric {
			t.Errorf("gradient %v: err = %v, want KindNumeric", bad, err)
		}
		if g[0] != 1 || g[1] != 2 {
			t.Errorf("gradients changed on error: %v", g)
		}
	}
	// Finite gradients whose float32 squares overflow: PyTorch's float32 norm is inf too (it would
	// then zero every gradient); we stop, as for any non-finite norm.
	g := []float32{3e19, 4e19}
	if _, _, err := ClipGradNorm(g, [][]float32{g}, 1); KindOf(err) != KindNumeric {
		t.Errorf("overflowing norm: %v", err)
	}
}
