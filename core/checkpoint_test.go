package core

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// smallConfig is a tiny model with every structural feature: two bidirectional layers,
// several heads, three classifier blocks, class names.
func smallConfig() Config {
	return Config{FeatureDim: 6, HiddenDim: 4, NumLayers: 2, NumHeads: 2, NumClasses: 3,
		Dropout: 0.25, Bidirectional: true, ClassifierWidths: []int{7, 5, 3},
		ClassNames: []string{"walk", "run", "jump"}}
}

func newSmallModel(t testing.TB, cfg Config) *Model {
	t.Helper()
	m, err := NewModelInit(cfg, 7)
	if err != nil {
		t.Fatal(err)
	}
	// Init leaves biases zero; give every element a distinct value so a misplaced tensor shows.
	for i := range m.Slab() {
		m.Slab()[i] += float32(i%97) * 1e-3
	}
	return m
}

func wantKind(t *testing.T, err error, k Kind, mention string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want a %v error mentioning %q, got nil", k, mention)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %q is not a *core.Error", err)
	}
	if KindOf(err) != k {
		t.Fatalf("error %q has kind %v, want %v", err, KindOf(err), k)
	}
	if !strings.Contains(err.Error(), mention) {
		t.Fatalf("error %q does not mention %q", err, mention)
	}
}

func assertSameModel(t *testing.T, got, want *Model) {
	t.Helper()
	gc, wc := got.Config(), want.Config()
	gj, _ := json.Marshal(gc)
	wj, _ := json.Marshal(wc)
	if !bytes.Equal(gj, wj) {
		t.Fatalf("config\n got %s\nwant %s", gj, wj)
	}
	for i, p := range want.Params() {
		q := got.Params()[i]
		if q.Name != p.Name {
			t.Fatalf("param %d: %s vs %s", i, q.Name, p.Name)
		}
		for j := range p.Data {
			if math.Float32bits(q.Data[j]) != math.Float32bits(p.Data[j]) {
				t.Fatalf("%s[%d] = %v, want %v", p.Name, j, q.Data[j], p.Data[j])
			}
		}
	}
}

func TestSaveLoadRoundTripIsBitwiseExact(t *testing.T) {
	for _, cfg := range []Config{smallConfig(), func() Config {
		c := smallConfig()
		c.Bidirectional, c.NumLayers, c.NumHeads, c.ClassNames, c.NumClasses = false, 1, 4, nil, 2
		c.ClassifierWidths = []int{3}
		return c
	}()} {
		m := newSmallModel(t, cfg)
		path := filepath.Join(t.TempDir(), "m.safetensors")
		if err := m.SaveFile(path); err != nil {
			t.Fatal(err)
		}
		got, err := LoadFile(path, LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		assertSameModel(t, got, m)
		data, err := m.MarshalSafetensors()
		if err != nil {
			t.Fatal(err)
		}
		disk, _ := os.ReadFile(path)
		if !bytes.Equal(data, disk) {
			t.Fatal("MarshalSafetensors differs from SaveFile's file")
		}
		got, err = LoadBytes(data, LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		assertSameModel(t, got, m)
	}
}

func TestCheckpointHeaderFollowsStateDictOrderAndMetadataIsStrings(t *testing.T) {
	m := newSmallModel(t, smallConfig())
	data, _ := m.MarshalSafetensors()
	n := binary.LittleEndian.Uint64(data)
	if (8+n)%8 != 0 {
		t.Fatalf("data section starts at %d, not 8-aligned", 8+n)
	}
	st, err := ReadSafetensors(data)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range m.Params() {
		tt := st.Tensors[i]
		if tt.Name != p.Name || tt.DType != "F32" || !equalShape(tt.Shape, p.Shape) {
			t.Fatalf("tensor %d: %s %s %v, want %s F32 %v", i, tt.Name, tt.DType, tt.Shape, p.Name, p.Shape)
		}
	}
	md := st.Metadata
	for k, v := range map[string]string{"feature_dim": "6", "hidden_dim": "4", "num_layers": "2",
		"num_heads": "2", "num_classes": "3", "bidirectional": "true", "dropout": "0.25",
		"class_names": `["walk","run","jump"]`, "format_version": "1"} {
		if md[k] != v {
			t.Errorf("metadata %s = %q, want %q", k, md[k], v)
		}
	}
	if len(md["sha256"]) != 64 {
		t.Errorf("metadata sha256 = %q", md["sha256"])
	}
	var c Config
	if err := json.Unmarshal([]byte(md["temporal_config"]), &c); err != nil || c.HiddenDim != 4 {
		t.Errorf("temporal_config %q: %v", md["temporal_config"], err)
	}
}

// writeLikePyTorch writes the model's tensors with no metadata, as
// safetensors.torch.save_file(model.state_dict()) does.
func writeLikePyTorch(t *testing.T, m *Model, edit func([]Tensor) []Tensor) []byte {
	t.Helper()
	ts := m.tensors()
	if edit != nil {
		ts = edit(ts)
	}
	var b bytes.Buffer
	if err := WriteSafetensors(&b, ts, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestPyTorchStateDictWithoutMetadataLoadsWithInferredSizes(t *testing.T) {
	cfg := smallConfig()
	cfg.NumHeads = 4 // D = 8: 12 does not divide it, so the head count must be given
	m := newSmallModel(t, cfg)
	data := writeLikePyTorch(t, m, func(ts []Tensor) []Tensor {
		// PyTorch's writer orders the data section its own way; reverse ours to show order is free.
		for i, j := 0, len(ts)-1; i < j; i, j = i+1, j-1 {
			ts[i], ts[j] = ts[j], ts[i]
		}
		return ts
	})
	_, err := LoadBytes(data, LoadOptions{})
	wantKind(t, err, KindInvalidArgument, "does not divide D = 8")
	got, err := LoadBytes(data, LoadOptions{NumHeads: 4})
	if err != nil {
		t.Fatal(err)
	}
	want := cfg
	want.Dropout, want.ClassNames = DefaultDropout, nil
	wm, _ := NewModel(want)
	copy(wm.Slab(), m.Slab())
	assertSameModel(t, got, wm)

	// A model whose D is divisible by 12 loads with the default 12 heads.
	cfg = smallConfig()
	cfg.HiddenDim, cfg.NumHeads = 6, 12
	got, err = LoadBytes(writeLikePyTorch(t, newSmallModel(t, cfg), nil), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c := got.Config(); c.NumHeads != 12 || c.HiddenDim != 6 || c.NumLayers != 2 || !c.Bidirectional ||
		c.FeatureDim != 6 || c.NumClasses != 3 || len(c.ClassifierWidths) != 3 {
		t.Fatalf("inferred %+v", c)
	}
}

func TestFlatMetadataKeysAreAFallback(t *testing.T) {
	m := newSmallModel(t, smallConfig())
	var b bytes.Buffer
	md := map[string]string{"input_dim": "6", "hidden_dim": "4", "num_layers": "2", "num_heads": "2",
		"num_classes": "3", "bidirectional": "True", "dropout": "0.25", "class_names": `["walk","run","jump"]`}
	if err := WriteSafetensors(&b, m.tensors(), md); err != nil {
		t.Fatal(err)
	}
	got, err := LoadBytes(b.Bytes(), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	assertSameModel(t, got, m)
}

func TestHeadCountOptionAndMetadata(t *testing.T) {
	m := newSmallModel(t, smallConfig()) // D = 8, 2 heads
	data, _ := m.MarshalSafetensors()
	got, err := LoadBytes(data, LoadOptions{NumHeads: 8})
	if err != nil || got.Config().NumHeads != 8 {
		t.Fatalf("NumHeads option: %v", err)
	}
	_, err = LoadBytes(data, LoadOptions{NumHeads: 3})
	wantKind(t, err, KindInvalidArgument, "num_heads 3")
	_, err = LoadBytes(data, LoadOptions{NumHeads: -1})
	wantKind(t, err, KindInvalidArgument, "NumHeads")

	var b bytes.Buffer
	WriteSafetensors(&b, m.tensors(), map[string]string{"num_heads": "3"})
	_, err = LoadBytes(b.Bytes(), LoadOptions{})
	wantKind(t, err, KindFormat, "num_heads 3")
}

func TestWrongTensorSetIsRejectedNamingTheTensor(t *testing.T) {
	m := newSmallModel(t, smallConfig())
	drop := func(name string) func([]Tensor) []Tensor {
		return func(ts []Tensor) []Tensor {
			var out []Tensor
			for _, x := range ts {
				if x.Name != name {
					out = append(out, x)
				}
			}
			return out
		}
	}
	cases := []struct {
		name    string
		edit    func([]Tensor) []Tensor
		mention string
	}{
		{"missing", drop("attention.out_proj.bias"), "attention.out_proj.bias is missing"},
		{"missing reverse", drop("lstm.bias_hh_l1_reverse"), "lstm.bias_hh_l1_reverse is missing"},
		{"extra", func(ts []Tensor) []Tensor {
			return append(ts, F32Tensor("attention.extra", []float32{1}, 1))
		}, "unexpected tensor attention.extra"},
		{"wrong shape", func(ts []Tensor) []Tensor {
			for i := range ts {
				if ts[i].Name == "attention_norm.weight" {
					ts[i].Shape = []int{2, 4}
				}
			}
			return ts
		}, "attention_norm.weight has shape [2 4], expected [8]"},
		{"F64", func(ts []Tensor) []Tensor {
			for i := range ts {
				if ts[i].Name == "attention_pooling.4.bias" {
					ts[i] = Tensor{Name: ts[i].Name, DType: "F64", Shape: []int{1}, Data: make([]byte, 8)}
				}
			}
			return ts
		}, "attention_pooling.4.bias is F64, expected F32"},
		{"no input projection", drop("input_projection.0.weight"), "input_projection.0.weight is missing"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := LoadBytes(writeLikePyTorch(t, m, c.edit), LoadOptions{NumHeads: 2})
			wantKind(t, err, KindFormat, c.mention)
		})
	}
}

// mutate returns a copy of a valid checkpoint with its header replaced.
func withHeader(data []byte, hdr string) []byte {
	n := binary.LittleEndian.Uint64(data)
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(hdr)))
	out = append(out, hdr...)
	return append(out, data[8+n:]...)
}

func TestMalformedFilesAreFormatErrors(t *testing.T) {
	m := newSmallModel(t, smallConfig())
	good, _ := m.MarshalSafetensors()
	n := binary.LittleEndian.Uint64(good)
	hdr := string(good[8 : 8+n])

	flipped := bytes.Clone(good)
	flipped[len(flipped)-3] ^= 0x10
	huge := bytes.Clone(good)
	binary.LittleEndian.PutUint64(huge, 1<<62)
	first := `"input_projection.0.weight":{"dtype":"F32","shape":[4,6],"data_offsets":[0,96]}`
	if !strings.Contains(hdr, first) {
		t.Fatalf("header layout changed: %s", hdr[:200])
	}
	cases := []struct {
		name    string
		data    []byte
		mention string
	}{
		{"empty", nil, "too short"},
		{"truncated", good[:len(good)-5], "data section"},
		{"truncated header", good[:8+n/2], "runs past the end"},
		{"header length beyond file", huge, "runs past the end"},
		{"corrupted header", withHeader(good, strings.Replace(hdr, `"dtype"`, `"dtype`, 1)), "header"},
		{"not an object", withHeader(good, "[1,2]"), "not a JSON object"},
		{"overlapping offsets", withHeader(good, strings.Replace(hdr, `"data_offsets":[96,112]`,
			`"data_offsets":[92,108]`, 1)), "input_projection.0.bias\" overlaps"},
		{"gap", withHeader(good, strings.Replace(hdr, first,
			`"input_projection.0.weight":{"dtype":"F32","shape":[4,6],"data_offsets":[4,100]}`, 1)), "gap"},
		{"size not dtype times shape", withHeader(good, strings.Replace(hdr, first,
			`"input_projection.0.weight":{"dtype":"F32","shape":[4,5],"data_offsets":[0,96]}`, 1)), "needs 80"},
		{"duplicate key", withHeader(good, strings.Replace(hdr, first, first+","+first, 1)), "duplicate key"},
		{"unknown dtype", withHeader(good, strings.Replace(hdr, `"F32"`, `"F31"`, 1)), "unknown dtype"},
		{"negative dim", withHeader(good, strings.Replace(hdr, "[4,6]", "[-4,-6]", 1)), "out of range"},
		{"unknown field", withHeader(good, strings.Replace(hdr, `"dtype"`, `"foo":1,"dtype"`, 1)), "unknown field"},
		{"flipped data bit", flipped, "SHA-256"},
		{"bad temporal_config", withHeader(good, strings.Replace(hdr, `"temporal_config":"{`, `"temporal_config":"{{`, 1)), "temporal_config"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := LoadBytes(c.data, LoadOptions{})
			wantKind(t, err, KindFormat, c.mention)
			path := filepath.Join(t.TempDir(), "bad.safetensors")
			os.WriteFile(path, c.data, 0o644)
			_, err = LoadFile(path, LoadOptions{})
			wantKind(t, err, KindFormat, c.mention)
		})
	}
}

func TestNonFiniteWeightsAreNumericErrors(t *testing.T) {
	m := newSmallModel(t, smallConfig())
	m.Param("classifier.4.weight")[3] = float32(math.NaN())
	data, _ := m.MarshalSafetensors()
	_, err := LoadBytes(data, LoadOptions{})
	wantKind(t, err, KindNumeric, "classifier.4.weight")
}

func TestUnknownFormatVersionIsUnsupported(t *testing.T) {
	m := newSmallModel(t, smallConfig())
	good, _ := m.MarshalSafetensors()
	n := binary.LittleEndian.Uint64(good)
	hdr := strings.Replace(string(good[8:8+n]), `"format_version":"1"`, `"format_version":"2"`, 1)
	_, err := LoadBytes(withHeader(good, hdr), LoadOptions{})
	wantKind(t, err, KindUnsupported, "format_version")
}

func TestIOErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := LoadFile(dir, LoadOptions{})
	wantKind(t, err, KindIO, dir)
	_, err = LoadFile(filepath.Join(dir, "nope.safetensors"), LoadOptions{})
	wantKind(t, err, KindIO, "nope.safetensors")
	m := newSmallModel(t, smallConfig())
	wantKind(t, m.SaveFile(dir), KindIO, "directory")
	wantKind(t, m.SaveFile(filepath.Join(dir, "no", "such", "m.safetensors")), KindIO, "m.safetensors")
}

func TestSaveFileReplacesAtomicallyAndLeavesNoTempFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	os.WriteFile(path, []byte("old"), 0o644)
	m := newSmallModel(t, smallConfig())
	if err := m.SaveFile(path); err != nil {
		t.Fatal(err)
	}
	// A failing writer leaves the old file and no temp file.
	err := WriteFileAtomic(path, func(w io.Writer) error {
		w.Write([]byte("partial"))
		return errors.New("disk on fire")
	})
	wantKind(t, err, KindIO, "disk on fire")
	if _, err := LoadFile(path, LoadOptions{}); err != nil {
		t.Fatalf("old file damaged: %v", err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("directory holds %d entries, want 1", len(ents))
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o644 {
		t.Fatalf("mode %v", fi.Mode())
	}
}

func TestSizesOverLimitsAreOutOfMemory(t *testing.T) {
	// A header longer than MaxSafetensorsHeader that the file does hold (sparse, so cheap).
	path := filepath.Join(t.TempDir(), "big.safetensors")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(binary.LittleEndian.AppendUint64(nil, MaxSafetensorsHeader+1))
	if err := f.Truncate(MaxSafetensorsHeader + 1024); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, err = LoadFile(path, LoadOptions{})
	wantKind(t, err, KindOutOfMemory, "exceeds the limit")

	// A config whose parameter count exceeds MaxParamCount is refused before any allocation.
	m := newSmallModel(t, smallConfig())
	var b bytes.Buffer
	WriteSafetensors(&b, m.tensors(), map[string]string{"temporal_config": `{"feature_dim":1048576,"hidden_dim":1048576,` +
		`"num_layers":2,"num_heads":2,"num_classes":3,"dropout":0.4,"bidirectional":true,"classifier_widths":[7,5,3]}`})
	_, err = LoadBytes(b.Bytes(), LoadOptions{})
	wantKind(t, err, KindOutOfMemory, "exceed the limit")
}

// TestLoadFileReadsStraightIntoTheSlab: loading a file allocates the parameter slab once and
// little else; the file's bytes are never held in memory a second time.
func TestLoadFileReadsStraightIntoTheSlab(t *testing.T) {
	cfg := smallConfig()
	cfg.FeatureDim, cfg.HiddenDim, cfg.NumHeads = 512, 256, 8 // ≈ 2.8 M parameters, 11 MB
	m := newSmallModel(t, cfg)
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := m.SaveFile(path); err != nil {
		t.Fatal(err)
	}
	slabBytes := uint64(4 * len(m.Slab()))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	got, err := LoadFile(path, LoadOptions{})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("LoadFile allocated %d bytes for a %d-byte slab", alloc, slabBytes)
	if alloc > slabBytes+slabBytes/10 {
		t.Fatalf("LoadFile allocated %d bytes for a %d-byte slab", alloc, slabBytes)
	}
	assertSameModel(t, got, m)
}

// BenchmarkSaveLoadReference saves and loads the reference-size model (65,277,701 parameters,
// 261 MB): run with -bench SaveLoad -benchtime 3x.
func BenchmarkSaveLoadReference(b *testing.B) {
	m, err := NewModelInit(DefaultConfig(), 1)
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "ref.safetensors")
	b.SetBytes(int64(4 * len(m.Slab())))
	for i := 0; i < b.N; i++ {
		if err := m.SaveFile(path); err != nil {
			b.Fatal(err)
		}
		if _, err := LoadFile(path, LoadOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
