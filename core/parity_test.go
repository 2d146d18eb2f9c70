package core

import (
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

// The PyTorch fixtures of tests/parity (made by make_fixtures.py with Debian's python3-torch).
var parityCases = []string{"tiny_bi_mixed", "h13_short", "uni_1layer_c2", "nolen", "b1",
	"uni_2layer_c7_full", "h1_edge", "medium"}

const fixtureDir = "../tests/parity/fixtures"

type parityCase struct {
	name     string
	model    *Model
	io       *Safetensors
	features []float32
	lengths  []int32
	B, T     int
}

func loadParityCase(t *testing.T, name string) *parityCase {
	t.Helper()
	io, err := ReadSafetensorsFile(filepath.Join(fixtureDir, name+".io.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg Config
	if err := json.Unmarshal([]byte(io.Metadata["config"]), &cfg); err != nil {
		t.Fatal(err)
	}
	m, err := LoadFile(filepath.Join(fixtureDir, name+".weights.safetensors"), LoadOptions{NumHeads: cfg.NumHeads})
	if err != nil {
		t.Fatal(err)
	}
	got := m.Config()
	if got.FeatureDim != cfg.FeatureDim || got.HiddenDim != cfg.HiddenDim || got.NumLayers != cfg.NumLayers ||
		got.Bidirectional != cfg.Bidirectional || got.NumClasses != cfg.NumClasses {
		t.Fatalf("inferred config %+v, fixture says %+v", got, cfg)
	}
	pc := &parityCase{name: name, model: m, io: io}
	ft, _ := io.Tensor("features")
	pc.B, pc.T = ft.Shape[0], ft.Shape[1]
	if pc.features, err = io.F32("features"); err != nil {
		t.Fatal(err)
	}
	if _, ok := io.Tensor("lengths"); ok {
		if pc.lengths, err = io.I32("lengths"); err != nil {
			t.Fatal(err)
		}
	}
	return pc
}

// maxErr is max|a−b| and the bound of DESIGN §8: 1e-4·max|b| + 1e-6.
func maxErr[A, B Float](a []A, b []B) (worst, bound float64) {
	var mb float64
	for i := range b {
		worst = math.Max(worst, math.Abs(float64(a[i])-float64(b[i])))
		mb = math.Max(mb, math.Abs(float64(b[i])))
	}
	return worst, 1e-4*mb + 1e-6
}

// TestParityLogits: float32 logits and frame weights equal PyTorch's (float32 and float64 runs)
// within DESIGN §8's per-tensor tolerance, in both padding modes; the float64 instantiation
// equals PyTorch's float64 run to ~1e-12.
func TestParityLogits(t *testing.T) {
	worst32, worst64 := 0.0, 0.0
	for _, name := range parityCases {
		pc := loadParityCase(t, name)
		C := pc.model.Config().NumClasses
		x64 := make([]float64, len(pc.features))
		for i, v := range pc.features {
			x64[i] = float64(v)
		}
		for _, pad := range []Padding{PaddingMasked, PaddingReference} {
			logits := make([]float32, pc.B*C)
			fw := make([]float32, pc.B*pc.T)
			if err := pc.model.Forward(pc.features, pc.B, pc.T, pc.lengths, pad, logits, fw); err != nil {
				t.Fatalf("%s/%s: %v", name, pad, err)
			}
			l64 := make([]float64, pc.B*C)
			fw64 := make([]float64, pc.B*pc.T)
			if err := pc.model.ForwardFloat64(x64, pc.B, pc.T, pc.lengths, pad, l64, fw64); err != nil {
				t.Fatal(err)
			}
			for _, ref := range []string{"logits", "logits64", "frame_weights", "frame_weights64"} {
				key := ref + "." + pad.String()
				var want []float64
				if strings.HasSuffix(ref, "64") {
					want, _ = pc.io.F64(key)
				} else {
					w32, _ := pc.io.F32(key)
					for _, v := range w32 {
						want = append(want, float64(v))
					}
				}
				if want == nil {
					t.Fatalf("%s: fixture lacks %s", name, key)
				}
				got := logits
				if strings.HasPrefix(ref, "frame") {
					got = fw
				}
				e, bound := maxErr(got, want)
				worst32 = math.Max(worst32, e/((bound-1e-6)*1e4)) // e / max|ref|
				if e > bound {
					t.Errorf("%s %s: max|Δ| = %.3g > %.3g", name, key, e, bound)
				}
				if strings.HasSuffix(ref, "64") {
					got64 := l64
					if strings.HasPrefix(ref, "frame") {
						got64 = fw64
					}
					e64, _ := maxErr(got64, want)
					worst64 = math.Max(worst64, e64)
					if e64 > 1e-10 {
						t.Errorf("%s %s (float64 path): max|Δ| = %.3g > 1e-10", name, key, e64)
					}
				}
			}
		}
	}
	t.Logf("worst float32 error relative to max|ref|: %.3g; worst float64 absolute error: %.3g", worst32, worst64)
}

// TestMaskedEqualsAlone is the normative definition of masked mode: each clip's output inside a
// padded batch equals the clip run alone (to rounding: BLAS shapes differ).
func TestMaskedEqualsAlone(t *testing.T) {
	for _, name := range []string{"tiny_bi_mixed", "h13_short", "medium", "uni_1layer_c2"} {
		pc := loadParityCase(t, name)
		m, C, F := pc.model, pc.model.Config().NumClasses, pc.model.Config().FeatureDim
		logits := make([]float32, pc.B*C)
		fw := make([]float32, pc.B*pc.T)
		if err := m.Forward(pc.features, pc.B, pc.T, pc.lengths, PaddingMasked, logits, fw); err != nil {
			t.Fatal(err)
		}
		for b := 0; b < pc.B; b++ {
			n := int(pc.lengths[b])
			alone := make([]float32, C)
			afw := make([]float32, n)
			if err := m.Forward(pc.features[b*pc.T*F:(b*pc.T+n)*F], 1, n, nil, PaddingMasked, alone, afw); err != nil {
				t.Fatal(err)
			}
			if e, _ := maxErr(logits[b*C:(b+1)*C], alone); e > 1e-5 {
				t.Errorf("%s clip %d: batch vs alone logits differ by %.3g", name, b, e)
			}
			if e, _ := maxErr(fw[b*pc.T:b*pc.T+n], afw); e > 1e-5 {
				t.Errorf("%s clip %d: batch vs alone frame weights differ by %.3g", name, b, e)
			}
			for t2 := n; t2 < pc.T; t2++ {
				if fw[b*pc.T+t2] != 0 {
					t.Errorf("%s clip %d: frame weight at t=%d ≥ n=%d is %v, want 0", name, b, t2, n, fw[b*pc.T+t2])
				}
			}
		}
	}
}
