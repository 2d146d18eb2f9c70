package main

import (
	"bytes"
	"encoding/json"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"libtemporal/core"
	"libtemporal/internal/npy"
)

// checkPNG decodes path and checks its size.
func checkPNG(t *testing.T, path string, minW, minH int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if r := img.Bounds(); r.Dx() < minW || r.Dy() < minH {
		t.Fatalf("%s: %v, want at least %dx%d", path, r, minW, minH)
	}
}

func readF32(t *testing.T, path string) ([]float32, []int) {
	t.Helper()
	a, err := npy.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := a.Float32()
	if err != nil {
		t.Fatal(err)
	}
	return v, a.Shape
}

func seededModel(t *testing.T, seed uint64) *core.Model {
	t.Helper()
	cfg := testModel(t).Config()
	m, err := core.NewModelInit(cfg, seed)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestPredictEnsembleIsMeanOfSoftmax: two checkpoints, given as files or as a train --seeds
// style directory, give the mean of each model's Forward + softmax.
func TestPredictEnsembleIsMeanOfSoftmax(t *testing.T) {
	dir := t.TempDir()
	var ms []*core.Model
	var files []string
	for _, s := range []uint64{42, 43} {
		m := seededModel(t, s)
		sub := filepath.Join(dir, "run", "seed-"+itoa(int64(s)))
		os.MkdirAll(sub, 0o755)
		p := filepath.Join(sub, "best.safetensors")
		if err := m.SaveFile(p); err != nil {
			t.Fatal(err)
		}
		ms, files = append(ms, m), append(files, p)
	}
	B, T, F, C := 3, 12, 5, 3
	x := make([]float32, B*T*F)
	for i := range x {
		x[i] = float32(math.Sin(float64(i)*0.37)) * 1.5
	}
	lengths := []int32{12, 11, 6}
	xp, lp := filepath.Join(dir, "x.npy"), filepath.Join(dir, "l.npy")
	writeF32(t, xp, x, B, T, F)
	writeInts(t, lp, []int64{12, 11, 6}, "<i4")
	want := make([]float64, B*C)
	for _, m := range ms {
		lg := make([]float32, B*C)
		if err := m.Forward(x, B, T, lengths, core.PaddingMasked, lg, nil); err != nil {
			t.Fatal(err)
		}
		for b := 0; b < B; b++ {
			s := 0.0
			for c := 0; c < C; c++ {
				s += math.Exp(float64(lg[b*C+c]))
			}
			for c := 0; c < C; c++ {
				want[b*C+c] += math.Exp(float64(lg[b*C+c])) / s / 2
			}
		}
	}
	for _, models := range [][]string{
		{"--model", files[0], "--model", files[1]},
		{"--model", files[0] + "," + files[1]},
		{"--model", filepath.Join(dir, "run")},
	} {
		yp := filepath.Join(dir, "y.npy")
		code, _, stderr := cli(append(append([]string{"predict"}, models...), "--input", xp, "--lengths", lp, "--output", yp)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", models, code, stderr)
		}
		got, shape := readF32(t, yp)
		if len(shape) != 2 || shape[0] != B || shape[1] != C {
			t.Fatalf("shape %v", shape)
		}
		for i := range want {
			if math.Abs(float64(got[i])-want[i]) > 1e-6 {
				t.Fatalf("%v: probs[%d] = %v, want mean of softmax %v", models, i, got[i], want[i])
			}
		}
	}
	// TTA on one model = core's PredictTTA (itself checked per mode against Forward in core).
	yp := filepath.Join(dir, "tta.npy")
	if code, _, stderr := cli("predict", "--model", files[0], "--input", xp, "--lengths", lp, "--tta", "--output", yp); code != 0 {
		t.Fatalf("--tta: %s", stderr)
	}
	got, _ := readF32(t, yp)
	wantTTA := make([]float32, B*C)
	if err := ms[0].PredictTTA(x, B, T, lengths, core.PaddingMasked, wantTTA, nil); err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if got[i] != wantTTA[i] {
			t.Fatalf("tta probs[%d] = %v, want %v", i, got[i], wantTTA[i])
		}
	}
}

func TestPredictExplainAndJSON(t *testing.T) {
	dir := t.TempDir()
	p, m := saveModel(t, dir)
	B, T, F, C := 2, 8, 5, 3
	x := make([]float32, B*T*F)
	for i := range x {
		x[i] = float32(math.Cos(float64(i)*0.71)) * 2
	}
	xp, lp := filepath.Join(dir, "x.npy"), filepath.Join(dir, "l.npy")
	writeF32(t, xp, x, B, T, F)
	writeInts(t, lp, []int64{8, 5}, "<i8")
	lg := make([]float32, B*C)
	fw := make([]float32, B*T)
	if err := m.Forward(x, B, T, []int32{8, 5}, core.PaddingMasked, lg, fw); err != nil {
		t.Fatal(err)
	}
	core.SoftmaxRows(lg, B, C)
	code, stdout, stderr := cli("predict", "--model", p, "--input", xp, "--lengths", lp, "--explain", "--top-k", "3")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 4 {
		t.Fatalf("want 2 lines per clip:\n%s", stdout)
	}
	for b := 0; b < B; b++ {
		best, top := 0, 0
		for c := range C {
			if lg[b*C+c] > lg[b*C+best] {
				best = c
			}
		}
		n := []int{8, 5}[b]
		for t2 := 0; t2 < n; t2++ {
			if fw[b*T+t2] > fw[b*T+top] {
				top = t2
			}
		}
		name := []string{"cut", "fade", "none"}[best]
		if !strings.Contains(lines[2*b], ": "+name+"  p=") || !strings.Contains(lines[2*b], "cut ") || !strings.Contains(lines[2*b], "none ") {
			t.Errorf("clip %d line %q: want predicted %s and every class", b, lines[2*b], name)
		}
		if !strings.Contains(lines[2*b+1], "top frames") || !strings.Contains(lines[2*b+1], ": #"+itoa(int64(top))+" ") ||
			strings.Count(lines[2*b+1], "#") != 3 {
			t.Errorf("clip %d explain %q: want 3 frames starting with #%d", b, lines[2*b+1], top)
		}
	}
	code, stdout, stderr = cli("predict", "--model", p, "--input", xp, "--lengths", lp, "--explain", "--json", "--top-k", "10")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var doc struct {
		ClassNames []string    `json:"class_names"`
		Clips      []clipGuess `json:"clips"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if len(doc.Clips) != 2 || doc.ClassNames[2] != "none" || len(doc.Clips[1].TopFrames) != 5 || doc.Clips[1].Frames != 5 {
		t.Fatalf("JSON %+v", doc)
	}
	for b, c := range doc.Clips {
		for k := range C {
			if math.Abs(c.Probabilities[k]-float64(lg[b*C+k])) > 1e-6 {
				t.Errorf("clip %d prob %d: %v vs %v", b, k, c.Probabilities[k], lg[b*C+k])
			}
		}
		sum := 0.0
		for _, f := range c.TopFrames {
			sum += f.Weight
			if f.Frame >= c.Frames {
				t.Errorf("clip %d lists padding frame %d", b, f.Frame)
			}
		}
		if b == 1 && math.Abs(sum-1) > 1e-5 { // all 5 frames listed: the weights sum to 1
			t.Errorf("clip 1 frame weights sum to %v", sum)
		}
	}
}

func TestMoreUserErrors(t *testing.T) {
	dir := t.TempDir()
	p, _ := saveModel(t, dir)
	x := filepath.Join(dir, "x.npy")
	writeF32(t, x, make([]float32, 2*3*5), 2, 3, 5)
	other, _ := core.NewModelInit(core.Config{FeatureDim: 4, HiddenDim: 4, NumLayers: 1, NumHeads: 2, NumClasses: 3,
		Dropout: 0.1, Bidirectional: true, ClassifierWidths: []int{6}}, 1)
	op := filepath.Join(dir, "other.safetensors")
	other.SaveFile(op)
	empty := filepath.Join(dir, "empty")
	os.MkdirAll(empty, 0o755)
	cases := []struct {
		args    []string
		mention string
	}{
		{[]string{"predict", "--model", p}, "--input is required"},
		{[]string{"predict", "--model", p, "--input", x, "--top-k", "0"}, "--top-k"},
		{[]string{"predict", "--model", p, "--model", op, "--input", x}, "not one ensemble"},
		{[]string{"predict", "--model", empty, "--input", x}, "holds no best.safetensors"},
		{[]string{"predict", "--model", p, "--input", x, "--tta=maybe"}, "invalid boolean"},
		{[]string{"eval", "--model", empty, "--data", x}, "holds no best.safetensors"},
		{[]string{"eval", "--model", p, "--data", x, "--bogus"}, "flag provided but not defined"},
		{[]string{"demo", "--bogus"}, "flag provided but not defined"},
		{[]string{"demo", "extra"}, `unexpected argument "extra"`},
		{[]string{"demo", "--progress", "sideways"}, "--progress must be"},
		{[]string{"train", "--train", x, "--out", dir, "--progress", "sideways"}, "--progress must be"},
		{[]string{"convert", "--features", x}, "required"},
		{[]string{"info"}, "exactly one"},
	}
	for _, c := range cases {
		code, stdout, stderr := cli(c.args...)
		if code != 1 || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, c.mention) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 1 and one line mentioning %q", c.args, code, stdout, stderr, c.mention)
		}
	}
	for _, c := range commands {
		code, out, _ := cli(c.name, "--help")
		if code != 0 || !strings.Contains(out, "usage: temporal "+c.name) {
			t.Errorf("%s --help: exit %d %q", c.name, code, out)
		}
	}
	if code, out, _ := cli("--help"); code != 0 || !strings.Contains(out, "demo") || !strings.Contains(out, "convert") {
		t.Errorf("--help: %d %q", code, out)
	}
}

// TestTrainPlotsEvalEnsembleCollapse trains a 2-seed ensemble with the progress bar, checks
// curves.png, evaluates the run directory (confusion.png, members), and flags and drops a
// collapsed model.
func TestTrainPlotsEvalEnsembleCollapse(t *testing.T) {
	skipWithoutHDF5(t)
	dir := t.TempDir()
	h5 := map[string]string{}
	for _, s := range []struct {
		name string
		n    int
		seed uint64
	}{{"train", 96, 1}, {"val", 40, 2}} {
		x, y, n := writeSynthetic(t, dir, s.name, s.n, s.seed)
		h5[s.name] = filepath.Join(dir, s.name+".h5")
		if code, _, e := cli("convert", "--features", x, "--labels", y, "--lengths", n, "--out", h5[s.name], "--class-names", "ABC,ACB,BAC,CBA"); code != 0 {
			t.Fatal(e)
		}
	}
	run := filepath.Join(dir, "run")
	code, stdout, stderr := cli("train", "--train", h5["train"], "--val", h5["val"], "--out", run, "--epochs", "2",
		"--batch-size", "32", "--hidden-dim", "6", "--num-layers", "1", "--num-heads", "2", "--classifier-widths", "8",
		"--seeds", "2", "--progress", "bar")
	if code != 0 {
		t.Fatalf("train: %d %s", code, stderr)
	}
	if !strings.Contains(stderr, "[seed 43] epoch 2/2") || !strings.Contains(stderr, "lr ") || !strings.Contains(stderr, "\r") {
		t.Errorf("progress bar output:\n%q", stderr)
	}
	if !strings.Contains(stdout, "seed 42: best val accuracy") || !strings.Contains(stdout, "ensemble of 2 (mean of softmax): val accuracy") {
		t.Errorf("train stdout %q", stdout)
	}
	for _, s := range []string{"seed-42", "seed-43"} {
		checkPNG(t, filepath.Join(run, s, "curves.png"), 800, 900)
	}
	// A third, collapsed member: one class's bias dominates.
	m, err := core.LoadFile(filepath.Join(run, "seed-42", "best.safetensors"), core.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ps := m.Params()
	ps[len(ps)-1].Data[1] = 1000
	col := filepath.Join(dir, "collapsed.safetensors")
	if err := m.SaveFile(col); err != nil {
		t.Fatal(err)
	}
	type evalOut struct {
		core.Metrics
		Models  []string `json:"models"`
		Members []struct {
			Model     string `json:"model"`
			Collapsed bool   `json:"collapsed"`
			Used      bool   `json:"used"`
		} `json:"members"`
		Collapsed []string `json:"collapsed_models"`
		Confusion string   `json:"confusion_png"`
	}
	var e1, e2 evalOut
	code, stdout, stderr = cli("eval", "--model", run, "--model", col, "--data", h5["val"], "--json")
	if code != 0 || json.Unmarshal([]byte(stdout), &e1) != nil {
		t.Fatalf("eval: %d %s %s", code, stdout, stderr)
	}
	if len(e1.Models) != 3 || !e1.Members[2].Collapsed || !e1.Members[2].Used || !strings.Contains(stderr, "collapsed.safetensors collapsed") {
		t.Errorf("eval: %+v\nstderr %s", e1, stderr)
	}
	if e1.Confusion != filepath.Join(run, "confusion.png") {
		t.Errorf("confusion plot at %q", e1.Confusion)
	}
	checkPNG(t, e1.Confusion, 400, 400)
	code, stdout, stderr = cli("eval", "--model", run, "--model", col, "--data", h5["val"], "--json", "--drop-collapsed", "--tta", "--no-plot")
	if code != 0 || json.Unmarshal([]byte(stdout), &e2) != nil {
		t.Fatalf("eval --drop-collapsed: %d %s %s", code, stdout, stderr)
	}
	if e2.Members[2].Used || !strings.Contains(stderr, "left out") || e2.Confusion != "" {
		t.Errorf("eval --drop-collapsed: %+v", e2)
	}
	// Only the collapsed model and --drop-collapsed: nothing left, exit 1.
	code, _, stderr = cli("eval", "--model", col, "--data", h5["val"], "--drop-collapsed", "--no-plot")
	if code != 1 || !strings.Contains(stderr, "every model collapsed") {
		t.Errorf("all collapsed: %d %s", code, stderr)
	}
	code, stdout, _ = cli("eval", "--model", run, "--data", h5["val"], "--confusion", filepath.Join(dir, "c.png"))
	if code != 0 || !strings.Contains(stdout, "ensemble of 2") || !strings.Contains(stdout, "member ") {
		t.Errorf("eval text: %d\n%s", code, stdout)
	}
	checkPNG(t, filepath.Join(dir, "c.png"), 400, 400)

	// predict --data classifies every clip of a dataset, in batches, with the true classes: its
	// accuracy is eval's.
	code, stdout, stderr = cli("predict", "--model", run, "--data", h5["val"], "--json")
	var pd struct {
		Clips []clipGuess `json:"clips"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &pd) != nil || len(pd.Clips) != 40 {
		t.Fatalf("predict --data: %d %s %.300s", code, stderr, stdout)
	}
	right := 0
	for _, c := range pd.Clips {
		if c.True == "" {
			t.Fatalf("clip %d without its true class", c.Clip)
		}
		if c.True == c.Class {
			right++
		}
	}
	var e3 evalOut
	code, stdout, _ = cli("eval", "--model", run, "--data", h5["val"], "--json", "--no-plot")
	if code != 0 || json.Unmarshal([]byte(stdout), &e3) != nil || math.Abs(float64(right)/40-e3.Accuracy) > 1e-12 {
		t.Errorf("predict --data: %d/40 right, eval accuracy %v", right, e3.Accuracy)
	}
	for _, args := range [][]string{
		{"predict", "--model", run, "--data", h5["val"], "--input", h5["val"]},
		{"predict", "--model", run, "--data", h5["val"], "--lengths", h5["val"]},
	} {
		if code, _, stderr := cli(args...); code != 1 || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: %d %q", args, code, stderr)
		}
	}
}

func TestDemoQuick(t *testing.T) {
	skipWithoutHDF5(t)
	out := filepath.Join(t.TempDir(), "demo")
	code, stdout, stderr := cli("demo", "--quick", "--epochs", "6", "--out", out, "--progress", "lines")
	if code != 0 {
		t.Fatalf("demo: %d\n%s\n%s", code, stdout, stderr)
	}
	for _, s := range []string{"== 1. data", "== 2. train", "== 3. evaluate", "accuracy", "== 4. classify", "clip-0.npy", "predicted"} {
		if !strings.Contains(stdout, s) {
			t.Errorf("demo output lacks %q:\n%s", s, stdout)
		}
	}
	if !strings.Contains(stderr, "epoch 1/") {
		t.Errorf("no progress lines: %q", stderr)
	}
	checkPNG(t, filepath.Join(out, "curves.png"), 800, 900)
	checkPNG(t, filepath.Join(out, "confusion.png"), 400, 400)
	for _, f := range []string{"model.safetensors", "data/train.h5", "data/test.h5", "clips/clip-0.npy", "clips/labels.txt"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	// A time limit stops at the first epoch end, keeping that epoch's model.
	code, stdout, stderr = cli("demo", "--quick", "--out", out, "--progress", "none", "--time-limit", "1ns")
	if code != 0 || !strings.Contains(stdout, "1 epochs") || !strings.Contains(stdout, "(time limit)") {
		t.Errorf("demo --time-limit: %d\n%s\n%s", code, stdout, stderr)
	}
	// A run/ that is not a training run is never deleted.
	other := filepath.Join(t.TempDir(), "o")
	os.MkdirAll(filepath.Join(other, "run"), 0o755)
	os.WriteFile(filepath.Join(other, "run", "keep.txt"), []byte("x"), 0o644)
	if code, _, stderr := cli("demo", "--quick", "--out", other, "--progress", "none"); code != 1 || !strings.Contains(stderr, "not a training run") {
		t.Errorf("demo over a foreign run/: %d %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(other, "run", "keep.txt")); err != nil {
		t.Error(err)
	}
	// The demo's model directory and clip work with predict.
	code, stdout, stderr = cli("predict", "--model", out, "--input", filepath.Join(out, "clips", "clip-0.npy"), "--explain", "--tta")
	if code != 0 || !strings.Contains(stdout, "top frames") {
		t.Errorf("predict on the demo: %d %s %s", code, stdout, stderr)
	}
}
