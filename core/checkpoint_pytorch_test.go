package core

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// parityDir holds the PyTorch fixtures written by tests/parity/make_fixtures.py.
var parityDir = filepath.Join("..", "tests", "parity")

// TestPyTorchFixtureWeightsLoad loads every fixtures/*.weights.safetensors, written like
// safetensors.torch.save_file(model.state_dict()) (no metadata, PyTorch's data order), with only
// the head count given (taken from the matching .io.safetensors "config" metadata), and checks
// the inferred config and every tensor bitwise against the generic reader.
func TestPyTorchFixtureWeightsLoad(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(parityDir, "fixtures", "*.weights.safetensors"))
	if len(files) == 0 {
		t.Skip("no PyTorch fixtures in tests/parity/fixtures")
	}
	for _, wpath := range files {
		name := strings.TrimSuffix(filepath.Base(wpath), ".weights.safetensors")
		t.Run(name, func(t *testing.T) {
			io, err := ReadSafetensorsFile(filepath.Join(parityDir, "fixtures", name+".io.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			var want struct {
				FeatureDim       int   `json:"feature_dim"`
				HiddenDim        int   `json:"hidden_dim"`
				NumLayers        int   `json:"num_layers"`
				NumHeads         int   `json:"num_heads"`
				NumClasses       int   `json:"num_classes"`
				Bidirectional    bool  `json:"bidirectional"`
				ClassifierWidths []int `json:"classifier_widths"`
			}
			if err := json.Unmarshal([]byte(io.Metadata["config"]), &want); err != nil {
				t.Fatalf("fixture config %q: %v", io.Metadata["config"], err)
			}
			if _, err := io.F32("features"); err != nil {
				t.Fatal(err)
			}
			if _, ok := io.Tensor("lengths"); ok {
				if _, err := io.I64("lengths"); err != nil {
					if _, err2 := io.I32("lengths"); err2 != nil {
						t.Fatalf("lengths: %v / %v", err, err2)
					}
				}
			}
			m, err := LoadFile(wpath, LoadOptions{NumHeads: want.NumHeads})
			if err != nil {
				t.Fatal(err)
			}
			c := m.Config()
			if c.FeatureDim != want.FeatureDim || c.HiddenDim != want.HiddenDim || c.NumLayers != want.NumLayers ||
				c.NumHeads != want.NumHeads || c.NumClasses != want.NumClasses || c.Bidirectional != want.Bidirectional ||
				!equalShape(c.ClassifierWidths, want.ClassifierWidths) || c.Dropout != DefaultDropout {
				t.Fatalf("inferred %+v, fixture %+v", c, want)
			}
			st, err := ReadSafetensorsFile(wpath)
			if err != nil {
				t.Fatal(err)
			}
			if st.Metadata != nil {
				t.Fatalf("a state_dict file has metadata %v", st.Metadata)
			}
			for _, p := range m.Params() {
				v, err := st.F32(p.Name)
				if err != nil {
					t.Fatal(err)
				}
				for i := range v {
					if math.Float32bits(v[i]) != math.Float32bits(p.Data[i]) {
						t.Fatalf("%s[%d] = %v, file has %v", p.Name, i, p.Data[i], v[i])
					}
				}
			}
		})
	}
}

// loadIntoPyTorch is run by /usr/bin/python3: it builds the reference class from our
// checkpoint's temporal_config, loads our tensors with load_state_dict(strict=True), checks that
// PyTorch's state_dict order is our header's order, and writes its logits for the input x.
const loadIntoPyTorch = `
import json, sys
import numpy as np, torch
sys.path.insert(0, sys.argv[1])
from make_fixtures import SuperEnhancedTemporalModel, safetensors_read
tensors, meta = safetensors_read(sys.argv[2])
cfg = json.loads(meta["temporal_config"])
assert meta["format_version"] == "1", meta
model = SuperEnhancedTemporalModel(cfg["feature_dim"], cfg["hidden_dim"], cfg["num_layers"],
    cfg["num_heads"], cfg["num_classes"], dropout=cfg["dropout"],
    bidirectional=cfg["bidirectional"], classifier_widths=cfg["classifier_widths"])
model.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()}, strict=True)
header = json.loads(open(sys.argv[2], "rb").read()[8:][:int.from_bytes(open(sys.argv[2], "rb").read(8), "little")])
header.pop("__metadata__")
ours = sorted(header, key=lambda k: header[k]["data_offsets"][0])
assert ours == list(model.state_dict().keys()), (ours, list(model.state_dict().keys()))
for k, v in model.state_dict().items():
    assert np.array_equal(v.numpy(), tensors[k]), k
model.eval()
x = torch.from_numpy(np.load(sys.argv[3]))
with torch.no_grad():
    logits, _ = model(x)
np.save(sys.argv[4], logits.numpy())
print("ok")
`

// TestOurCheckpointLoadsIntoPyTorchStrict is DESIGN §4's promise: a file we write loads into the
// reference PyTorch class with load_state_dict(strict=True), and PyTorch computes from it the
// logits we compute.
func TestOurCheckpointLoadsIntoPyTorchStrict(t *testing.T) {
	script := filepath.Join(parityDir, "make_fixtures.py")
	if _, err := os.Stat(script); err != nil {
		t.Skip("tests/parity/make_fixtures.py (the reference class) not present")
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import torch, numpy").Run(); err != nil {
		t.Skip("/usr/bin/python3 with torch and numpy not available (Debian python3-torch):", err)
	}
	cfg := smallConfig()
	cfg.Dropout = 0.4
	m := newSmallModel(t, cfg)
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	if err := m.SaveFile(path); err != nil {
		t.Fatal(err)
	}
	B, T, F := 2, 5, cfg.FeatureDim
	x := make([]float32, B*T*F)
	for i := range x {
		x[i] = float32(math.Sin(float64(i)))
	}
	xpath, ypath := filepath.Join(dir, "x.npy"), filepath.Join(dir, "y.npy")
	if err := os.WriteFile(xpath, npyF32(x, B, T, F), 0o644); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(parityDir)
	out, err := exec.Command("/usr/bin/python3", "-c", loadIntoPyTorch, abs, path, xpath, ypath).CombinedOutput()
	if err != nil {
		t.Fatalf("PyTorch rejected our checkpoint: %v\n%s", err, out)
	}
	want := make([]float32, B*cfg.NumClasses)
	if err := m.Forward(x, B, T, nil, PaddingMasked, want, nil); err != nil {
		if KindOf(err) == KindInternal {
			t.Skip("strict load passed; Forward not available for the logits check:", err)
		}
		t.Fatal(err)
	}
	raw, err := os.ReadFile(ypath)
	if err != nil {
		t.Fatal(err)
	}
	got := raw[len(raw)-4*len(want):] // float32 data after numpy's header
	maxAbs, maxDiff := 0.0, 0.0
	for i, w := range want {
		g := math.Float32frombits(uint32(got[4*i]) | uint32(got[4*i+1])<<8 | uint32(got[4*i+2])<<16 | uint32(got[4*i+3])<<24)
		maxAbs = math.Max(maxAbs, math.Abs(float64(g)))
		maxDiff = math.Max(maxDiff, math.Abs(float64(g-w)))
	}
	if maxDiff > 1e-4*maxAbs+1e-6 { // DESIGN §8 tolerance
		t.Fatalf("PyTorch logits differ from ours by %g (max |logit| %g)", maxDiff, maxAbs)
	}
}

// npyF32 encodes a C-order float32 .npy file (core cannot import internal/npy's writer without a
// cycle of test helpers; this is the whole format for one dtype).
func npyF32(v []float32, shape ...int) []byte {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = itoa(d)
	}
	h := "{'descr': '<f4', 'fortran_order': False, 'shape': (" + strings.Join(dims, ", ") + ",), }"
	for (10+len(h)+1)%64 != 0 {
		h += " "
	}
	h += "\n"
	out := append([]byte("\x93NUMPY\x01\x00"), byte(len(h)), byte(len(h)>>8))
	out = append(out, h...)
	return append(out, bytesOf(v)...)
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
