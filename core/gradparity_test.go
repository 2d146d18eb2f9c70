package core

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"testing"
)

// The training fixtures: PyTorch's focal loss and raw gradients with every dropout off, in both
// padding modes, float32 and float64 (tests/parity/README.md).
var gradCases = []string{"tiny_bi_mixed", "h13_short", "uni_1layer_c2", "nolen", "medium"}

type trainFixture struct {
	*parityCase
	train  *Safetensors
	labels []int64
	loss   LossConfig
}

func loadTrainFixture(t *testing.T, name string) *trainFixture {
	t.Helper()
	pc := loadParityCase(t, name)
	tr, err := ReadSafetensorsFile(filepath.Join(fixtureDir, name+".train.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	f := &trainFixture{parityCase: pc, train: tr}
	if f.labels, err = tr.I64("labels"); err != nil {
		t.Fatal(err)
	}
	alpha, err := tr.F32("alpha")
	if err != nil {
		t.Fatal(err)
	}
	var gamma, smoothing float64
	if err := json.Unmarshal([]byte(tr.Metadata["gamma"]), &gamma); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(tr.Metadata["smoothing"]), &smoothing); err != nil {
		t.Fatal(err)
	}
	f.loss = LossConfig{Kind: LossFocal, Gamma: gamma, Smoothing: smoothing, Alpha: alpha}
	return f
}

func (f *trainFixture) f64(t *testing.T, key string) []float64 {
	t.Helper()
	v, err := f.train.F64(key)
	if err != nil {
		t.Fatalf("%s: %v", f.name, err)
	}
	return v
}

func (f *trainFixture) f32as64(t *testing.T, key string) []float64 {
	t.Helper()
	v, err := f.train.F32(key)
	if err != nil {
		t.Fatalf("%s: %v", f.name, err)
	}
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// zeroGradSlice reports the part of a tensor whose gradient is mathematically zero (DESIGN §8):
// attention_pooling.4.bias, and the key bias attention.in_proj_bias[D:2D].
func zeroGradSlice(name string, D int) (lo, hi int, ok bool) {
	switch name {
	case "attention_pooling.4.bias":
		return 0, 1, true
	case "attention.in_proj_bias":
		return D, 2 * D, true
	}
	return 0, 0, false
}

// TestGradParity: loss and every parameter's gradient equal PyTorch's in both padding modes
// within DESIGN §8 (max|a−b| ≤ 1e-4·max|b| + 1e-6 per tensor), for the float32 path against
// PyTorch's float32 and float64 runs and for the float64 path against PyTorch's float64 run
// (much tighter); mathematically zero slices under an absolute bound; dead-ReLU zeros exact.
func TestGradParity(t *testing.T) {
	type worstOf struct {
		g32, g32vs64, g64, loss32, loss64, zero float64
		g32Where, g64Where                      string
	}
	worstBy := map[Padding]*worstOf{PaddingMasked: {}, PaddingReference: {}}
	for _, name := range gradCases {
		f := loadTrainFixture(t, name)
		m := f.model
		D := m.Config().D()
		x64 := make([]float64, len(f.features))
		for i, v := range f.features {
			x64[i] = float64(v)
		}
		for _, pad := range []Padding{PaddingMasked, PaddingReference} {
			opt := TrainStepOptions{Padding: pad, Loss: f.loss}
			wo := worstBy[pad]
			g := NewGrads(m)
			loss, err := m.LossAndGrad(f.features, f.B, f.T, f.lengths, f.labels, opt, g)
			if err != nil {
				t.Fatalf("%s/%s: %v", name, pad, err)
			}
			loss64, grad64, err := m.LossAndGradFloat64(x64, f.B, f.T, f.lengths, f.labels, opt)
			if err != nil {
				t.Fatal(err)
			}
			wantLoss := f.f64(t, "loss64."+pad.String())[0]
			wantLoss32 := f.f32as64(t, "loss."+pad.String())[0]
			e32, b32 := maxErr([]float32{loss}, []float64{wantLoss32})
			if e32 > b32 {
				t.Errorf("%s/%s loss %v, PyTorch %v", name, pad, loss, wantLoss32)
			}
			wo.loss32 = math.Max(wo.loss32, math.Abs(float64(loss)-wantLoss)/math.Abs(wantLoss))
			wo.loss64 = math.Max(wo.loss64, math.Abs(loss64-wantLoss)/math.Abs(wantLoss))
			if math.Abs(loss64-wantLoss) > 1e-12*math.Abs(wantLoss) {
				t.Errorf("%s/%s float64 loss %v, PyTorch %v", name, pad, loss64, wantLoss)
			}

			// The largest gradient in the model, for the zero-slice bound.
			var gmax float64
			for _, p := range m.Params() {
				for _, v := range f.f64(t, "grad64."+pad.String()+"."+p.Name) {
					gmax = math.Max(gmax, math.Abs(v))
				}
			}
			off := 0
			for _, p := range m.Params() {
				n := len(p.Data)
				got32 := g.Param(p.Name)
				got64 := grad64[off : off+n]
				off += n
				want32 := f.f32as64(t, "grad."+pad.String()+"."+p.Name)
				want64 := f.f64(t, "grad64."+pad.String()+"."+p.Name)
				lo, hi, hasZero := zeroGradSlice(p.Name, D)
				if hasZero {
					for i := lo; i < hi; i++ {
						for _, v := range []float64{float64(got32[i]), got64[i]} {
							wo.zero = math.Max(wo.zero, math.Abs(v)/gmax)
							if math.Abs(v) >= 1e-6*gmax {
								t.Errorf("%s/%s %s[%d] = %.3g, mathematically 0 (bound %.3g)", name, pad, p.Name, i, v, 1e-6*gmax)
							}
						}
					}
				}
				// Compare outside the zero slice; the rest of the tensor keeps its own bound.
				pick := func(s []float64) []float64 {
					if !hasZero {
						return s
					}
					return append(append([]float64(nil), s[:lo]...), s[hi:]...)
				}
				g32 := make([]float64, n)
				for i, v := range got32 {
					g32[i] = float64(v)
				}
				where := fmt.Sprintf("%s/%s %s", name, pad, p.Name)
				for _, ref := range []struct {
					what string
					want []float64
				}{{"float32 vs torch32", want32}, {"float32 vs torch64", want64}} {
					e, bound := maxErr(pick(g32), pick(ref.want))
					if e > bound {
						t.Errorf("%s (%s): max|Δ| = %.3g > %.3g", where, ref.what, e, bound)
					}
					r := e / (bound - 1e-6 + 1e-300) * 1e-4 // error relative to max|ref|
					if ref.what == "float32 vs torch32" && r > wo.g32 {
						wo.g32, wo.g32Where = r, where
					}
					if ref.what == "float32 vs torch64" {
						wo.g32vs64 = math.Max(wo.g32vs64, r)
					}
				}
				e64, bound64 := maxErr(pick(got64), pick(want64))
				r64 := e64 / (bound64 - 1e-6 + 1e-300) * 1e-4
				if r64 > wo.g64 {
					wo.g64, wo.g64Where = r64, where
				}
				if r64 > 1e-9 {
					t.Errorf("%s (float64 vs torch64): max|Δ|/max|ref| = %.3g > 1e-9", where, r64)
				}
				// Dead ReLU rows (and any other exact zero of PyTorch's) are exactly zero here.
				for i, v := range want32 {
					if hasZero && i >= lo && i < hi {
						continue
					}
					if v == 0 && want64[i] == 0 && (got32[i] != 0 || got64[i] != 0) {
						t.Errorf("%s[%d]: PyTorch's gradient is exactly 0, ours %v / %v", where, i, got32[i], got64[i])
						break
					}
				}
			}
		}
	}
	for _, pad := range []Padding{PaddingMasked, PaddingReference} {
		wo := worstBy[pad]
		t.Logf("%s: loss rel err vs torch64: float32 %.3g, float64 %.3g", pad, wo.loss32, wo.loss64)
		t.Logf("%s: gradients max|Δ|/max|ref| per tensor: float32 vs torch32 %.3g (%s), float32 vs torch64 %.3g, float64 vs torch64 %.3g (%s)",
			pad, wo.g32, wo.g32Where, wo.g32vs64, wo.g64, wo.g64Where)
		t.Logf("%s: zero slices: worst |g|/max|g| = %.3g", pad, wo.zero)
	}
}
