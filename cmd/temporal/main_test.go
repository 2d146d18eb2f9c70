package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"libtemporal/core"
	"libtemporal/cuda"
	"libtemporal/internal/npy"
)

func testModel(t *testing.T) *core.Model {
	t.Helper()
	cfg := core.Config{FeatureDim: 5, HiddenDim: 4, NumLayers: 1, NumHeads: 2, NumClasses: 3,
		Dropout: 0.4, Bidirectional: true, ClassifierWidths: []int{6},
		ClassNames: []string{"cut", "fade", "none"}}
	m, err := core.NewModelInit(cfg, 3)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func saveModel(t *testing.T, dir string) (string, *core.Model) {
	t.Helper()
	m := testModel(t)
	p := filepath.Join(dir, "m.safetensors")
	if err := m.SaveFile(p); err != nil {
		t.Fatal(err)
	}
	return p, m
}

func writeF32(t *testing.T, path string, data []float32, shape ...int) {
	t.Helper()
	if err := writeNpy(path, data, shape); err != nil {
		t.Fatal(err)
	}
}

func writeInts(t *testing.T, path string, v []int64, descr string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := npy.WriteInts(f, v, descr); err != nil {
		t.Fatal(err)
	}
}

// cli runs the program in-process and returns exit code, stdout and stderr.
func cli(args ...string) (int, string, string) {
	var o, e bytes.Buffer
	code := run(args, &o, &e)
	return code, o.String(), e.String()
}

func TestInfoPrintsConfigParameterCountAndClassNames(t *testing.T) {
	p, m := saveModel(t, t.TempDir())
	code, out, errOut := cli("info", p)
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for _, want := range []string{"feature_dim:       5", "num_heads:         2", "class_names:       cut, fade, none",
		"parameters:        " + itoa(m.Config().NumParams()) + " in " + itoa(int64(len(m.Params()))) + " tensors"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Flags may follow the file; --heads overrides the recorded head count.
	code, out, errOut = cli("info", p, "--json", "--heads", "4")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var info struct {
		Config     core.Config `json:"config"`
		NumParams  int64       `json:"num_params"`
		ClassNames []string    `json:"class_names"`
	}
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if info.Config.NumHeads != 4 || info.NumParams != m.Config().NumParams() || len(info.ClassNames) != 3 {
		t.Fatalf("info %+v", info)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestUserErrorsExitOneWithOneLine(t *testing.T) {
	dir := t.TempDir()
	p, _ := saveModel(t, dir)
	x := filepath.Join(dir, "x.npy")
	writeF32(t, x, make([]float32, 2*3*5), 2, 3, 5)
	wrongF := filepath.Join(dir, "wrongf.npy")
	writeF32(t, wrongF, make([]float32, 2*3*4), 2, 3, 4)
	rank1 := filepath.Join(dir, "rank1.npy")
	writeF32(t, rank1, make([]float32, 5), 5)
	l3 := filepath.Join(dir, "l3.npy")
	writeInts(t, l3, []int64{3, 2, 1}, "<i4")
	l0 := filepath.Join(dir, "l0.npy")
	writeInts(t, l0, []int64{3, 0}, "<i8")
	// A PyTorch-style file (no metadata) of a model with D = 8: the default 12 heads do not fit.
	noHeads := filepath.Join(dir, "noheads.safetensors")
	{
		m := testModel(t)
		var ts []core.Tensor
		for _, p := range m.Params() {
			ts = append(ts, core.F32Tensor(p.Name, p.Data, p.Shape...))
		}
		f, _ := os.Create(noHeads)
		if err := core.WriteSafetensors(f, ts, nil); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	nan := filepath.Join(dir, "nan.npy")
	nanData := make([]float32, 2*3*5)
	nanData[7] = float32(math.NaN())
	writeF32(t, nan, nanData, 2, 3, 5)
	garbage := filepath.Join(dir, "garbage.npy")
	os.WriteFile(garbage, []byte("not numpy"), 0o644)
	out := filepath.Join(dir, "y.npy")
	cases := []struct {
		name    string
		args    []string
		mention string
	}{
		{"no command", nil, "usage"},
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"unknown flag", []string{"predict", "--bogus"}, "flag provided but not defined: -bogus"},
		{"info missing file", []string{"info", filepath.Join(dir, "nope.safetensors")}, "nope.safetensors"},
		{"info directory", []string{"info", dir}, "not a regular file"},
		{"info not a checkpoint", []string{"info", garbage}, "safetensors"},
		{"info two files", []string{"info", p, p}, "exactly one"},
		{"missing --model", []string{"predict", "--input", x, "--output", out}, "--model is required"},
		{"missing model file", []string{"predict", "--model", filepath.Join(dir, "nope.safetensors"), "--input", x, "--output", out}, "nope.safetensors"},
		{"missing input file", []string{"predict", "--model", p, "--input", filepath.Join(dir, "nope.npy"), "--output", out}, "nope.npy"},
		{"input not npy", []string{"predict", "--model", p, "--input", garbage, "--output", out}, "bad magic"},
		{"wrong feature dim", []string{"predict", "--model", p, "--input", wrongF, "--output", out}, "4 features per frame, the model takes 5"},
		{"rank 1 input", []string{"predict", "--model", p, "--input", rank1, "--output", out}, "need [B,T,F] or [T,F]"},
		{"lengths count", []string{"predict", "--model", p, "--input", x, "--lengths", l3, "--output", out}, "need [2]"},
		{"zero length", []string{"predict", "--model", p, "--input", x, "--lengths", l0, "--output", out}, "outside [1, 3]"},
		{"non-finite input", []string{"predict", "--model", p, "--input", nan, "--output", out}, "finite"},
		{"bad padding", []string{"predict", "--model", p, "--input", x, "--padding", "sideways", "--output", out}, "masked or reference"},
		{"stray argument", []string{"predict", "--model", p, "--input", x, "--output", out, "extra"}, `unexpected argument "extra"`},
		{"heads not recorded", []string{"info", noHeads}, "use --heads N"},
		{"bad heads", []string{"predict", "--model", p, "--input", x, "--output", out, "--heads", "3"}, "num_heads 3"},
		{"output in missing dir", []string{"predict", "--model", p, "--input", x, "--output", filepath.Join(dir, "no", "y.npy")}, "y.npy"},
		{"unknown device", []string{"predict", "--model", p, "--input", x, "--output", out, "--device", "gpu"}, `unknown device "gpu"`},
	}
	if n, err := cuda.DeviceCount(); err != nil || n == 0 {
		// Without a usable GPU (as here), asking for one is a user error naming the device.
		cases = append(cases, struct {
			name    string
			args    []string
			mention string
		}{"cuda without a GPU", []string{"predict", "--model", p, "--input", x, "--output", out, "--device", "cuda:0"}, `device "cuda:0"`})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := cli(c.args...)
			if code != 1 {
				t.Fatalf("exit %d, want 1; stderr %q", code, stderr)
			}
			if c.name != "no command" && (strings.Count(stderr, "\n") != 1 || stdout != "") {
				t.Fatalf("want one line on stderr and nothing on stdout, got %q / %q", stderr, stdout)
			}
			if !strings.Contains(stderr, c.mention) {
				t.Fatalf("stderr %q does not mention %q", stderr, c.mention)
			}
		})
	}
	if _, err := os.Stat(out); err == nil {
		t.Fatal("a failed predict wrote its output")
	}
}

func TestHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"info", "--help"}, {"predict", "-h"}} {
		code, out, _ := cli(args...)
		if code != 0 || !strings.Contains(out, "usage: temporal") {
			t.Fatalf("%v: exit %d, output %q", args, code, out)
		}
	}
}

func TestPredictWritesLogitsProbabilitiesAndFrameWeights(t *testing.T) {
	dir := t.TempDir()
	p, m := saveModel(t, dir)
	B, T, F, C := 2, 4, 5, 3
	x := make([]float32, B*T*F)
	for i := range x {
		x[i] = float32(i%7)/3 - 1
	}
	want := make([]float32, B*C)
	wantW := make([]float32, B*T)
	lengths := []int32{4, 2}
	if err := m.Forward(x, B, T, lengths, core.PaddingReference, want, wantW); err != nil {
		if core.KindOf(err) == core.KindInternal {
			t.Skip("core.Model.Forward not available yet:", err)
		}
		t.Fatal(err)
	}
	xp, lp := filepath.Join(dir, "x.npy"), filepath.Join(dir, "l.npy")
	writeF32(t, xp, x, B, T, F)
	writeInts(t, lp, []int64{4, 2}, "<i8")
	yp, wp := filepath.Join(dir, "y.npy"), filepath.Join(dir, "w.npy")
	code, _, stderr := cli("predict", "--model", p, "--input", xp, "--lengths", lp, "--padding", "reference",
		"--frame-weights", wp, "--output", yp)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	check := func(path string, want []float32, shape ...int) []float32 {
		a, err := npy.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := a.Float32()
		if len(a.Shape) != len(shape) {
			t.Fatalf("%s: shape %v, want %v", path, a.Shape, shape)
		}
		for i, d := range shape {
			if a.Shape[i] != d {
				t.Fatalf("%s: shape %v, want %v", path, a.Shape, shape)
			}
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s[%d] = %v, want %v", path, i, got[i], want[i])
			}
		}
		return got
	}
	check(yp, want, B, C)
	check(wp, wantW, B, T)

	// --probs: rows are softmax(logits), summing to 1.
	code, _, stderr = cli("predict", "--model", p, "--input", xp, "--lengths", lp, "--padding", "reference", "--probs", "--output", yp)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	probs := append([]float32(nil), want...)
	softmaxRows(probs, C)
	got := check(yp, probs, B, C)
	for b := 0; b < B; b++ {
		s := 0.0
		for c := 0; c < C; c++ {
			s += float64(got[b*C+c])
		}
		if math.Abs(s-1) > 1e-6 {
			t.Fatalf("row %d sums to %v", b, s)
		}
	}

	// One clip as [T, F] gives [C] and [T].
	one := make([]float32, 0, T*F)
	one = append(one, x[:T*F]...)
	op := filepath.Join(dir, "one.npy")
	writeF32(t, op, one, T, F)
	want1 := make([]float32, C)
	if err := m.Forward(one, 1, T, nil, core.PaddingMasked, want1, nil); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = cli("predict", "--model", p, "--input", op, "--output", yp, "--frame-weights", wp)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	check(yp, want1, C)
	check(wp, nil, T)
}
