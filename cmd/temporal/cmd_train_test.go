package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"libtemporal/core"
)

// writeSynthetic writes a SyntheticOrderDataset as .npy files and returns their paths.
func writeSynthetic(t *testing.T, dir, name string, n int, seed uint64) (feat, lab, lens string) {
	t.Helper()
	d := core.SyntheticOrderDataset(n, 6, 10, 16, seed)
	feat = filepath.Join(dir, name+"_x.npy")
	lab = filepath.Join(dir, name+"_y.npy")
	lens = filepath.Join(dir, name+"_n.npy")
	writeF32(t, feat, d.Features, n, d.T, d.F)
	writeInts(t, lab, d.Labels(), "<i8")
	l := make([]int64, n)
	for i, v := range d.Lengths() {
		l[i] = int64(v)
	}
	writeInts(t, lens, l, "<i4")
	return
}

func skipWithoutHDF5(t *testing.T) {
	if !core.HDF5Available {
		t.Skip("built with the nohdf5 tag")
	}
}

func TestConvertTrainEval(t *testing.T) {
	skipWithoutHDF5(t)
	dir := t.TempDir()
	names := "ABC,ACB,BAC,CBA"
	for _, s := range []struct {
		name string
		n    int
		seed uint64
	}{{"train", 200, 1}, {"val", 60, 2}} {
		x, y, n := writeSynthetic(t, dir, s.name, s.n, s.seed)
		code, _, stderr := cli("convert", "--features", x, "--labels", y, "--lengths", n,
			"--out", filepath.Join(dir, s.name+".h5"), "--class-names", names)
		if code != 0 {
			t.Fatalf("convert %s: exit %d: %s", s.name, code, stderr)
		}
	}
	out := filepath.Join(dir, "run")
	args := []string{"train", "--train", filepath.Join(dir, "train.h5"), "--val", filepath.Join(dir, "val.h5"),
		"--out", out, "--epochs", "3", "--batch-size", "32", "--hidden-dim", "8", "--num-layers", "1",
		"--num-heads", "2", "--classifier-widths", "8", "--seeds", "2"}
	code, stdout, stderr := cli(append(args, "--json")...)
	if code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 2*3+2+1 {
		t.Errorf("want 3 epoch lines and a result per seed, and the ensemble's, got:\n%s", stdout)
	}
	var ens struct {
		Ensemble struct {
			Models      []string `json:"models"`
			ValAccuracy float64  `json:"val_accuracy"`
		} `json:"ensemble"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &ens); err != nil || len(ens.Ensemble.Models) != 2 {
		t.Errorf("ensemble line %q: %v", lines[len(lines)-1], err)
	}
	var ep core.Progress
	if err := json.Unmarshal([]byte(lines[0]), &ep); err != nil || ep.Phase != "epoch" || ep.Epoch != 1 {
		t.Errorf("first line %q: %v", lines[0], err)
	}
	var models []string
	for _, s := range []string{"seed-42", "seed-43"} {
		for _, f := range []string{"best.safetensors", "checkpoint.json", "last-21.safetensors", "last-21.train.safetensors"} {
			if _, err := os.Stat(filepath.Join(out, s, f)); err != nil {
				t.Errorf("%s/%s: %v", s, f, err)
			}
		}
		models = append(models, filepath.Join(out, s, "best.safetensors"))
	}
	// Resume of a finished run does nothing and succeeds.
	code, _, stderr = cli(append(args, "--resume", "--quiet")...)
	if code != 0 {
		t.Fatalf("resume of a finished run: exit %d: %s", code, stderr)
	}
	code, stdout, stderr = cli("eval", "--model", strings.Join(models, ","), "--data", filepath.Join(dir, "val.h5"), "--json")
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, stderr)
	}
	var met struct {
		core.Metrics
		Models []string `json:"models"`
	}
	if err := json.Unmarshal([]byte(stdout), &met); err != nil {
		t.Fatalf("eval JSON: %v\n%s", err, stdout)
	}
	if met.N != 60 || len(met.Confusion) != 4 || len(met.Models) != 2 || met.ClassNames[3] != "CBA" {
		t.Errorf("eval JSON: %+v", met)
	}
	code, stdout, _ = cli("eval", "--model", models[0], "--data", filepath.Join(dir, "val.h5"))
	if code != 0 || !strings.Contains(stdout, "accuracy") || !strings.Contains(stdout, "confusion matrix") {
		t.Errorf("eval text: exit %d\n%s", code, stdout)
	}
}

func TestTrainEvalConvertErrors(t *testing.T) {
	skipWithoutHDF5(t)
	dir := t.TempDir()
	x, y, n := writeSynthetic(t, dir, "d", 20, 1)
	h5 := filepath.Join(dir, "d.h5")
	if code, _, e := cli("convert", "--features", x, "--labels", y, "--lengths", n, "--out", h5); code != 0 {
		t.Fatal(e)
	}
	bad := filepath.Join(dir, "bad_y.npy")
	writeInts(t, bad, make([]int64, 19), "<i8")
	badLab := filepath.Join(dir, "badlab_y.npy")
	lab := make([]int64, 20)
	lab[3] = 7
	writeInts(t, badLab, lab, "<i8")
	cases := []struct {
		args []string
		msg  string
	}{
		{[]string{"train", "--out", dir}, "--train and --out are required"},
		{[]string{"train", "--train", filepath.Join(dir, "nope.h5"), "--out", dir}, "no such file"},
		{[]string{"train", "--train", x, "--out", dir}, "not an HDF5 file"},
		{[]string{"train", "--train", h5, "--out", dir, "--bogus"}, "flag provided but not defined"},
		{[]string{"train", "--train", h5, "--out", dir, "--num-heads", "5", "--hidden-dim", "4"}, "num_heads"},
		{[]string{"eval", "--model", filepath.Join(dir, "nope.safetensors"), "--data", h5}, "no such file"},
		{[]string{"eval", "--data", h5}, "required"},
		{[]string{"convert", "--features", x, "--labels", bad, "--out", filepath.Join(dir, "o.h5")}, "labels have shape [19]"},
		{[]string{"convert", "--features", x, "--labels", badLab, "--out", filepath.Join(dir, "o.h5"), "--class-names", "a,b,c,d"}, "labels[3] = 7 out of range"},
		{[]string{"convert", "--features", y, "--labels", y, "--out", filepath.Join(dir, "o.h5")}, "want [N, T, F]"},
	}
	for _, c := range cases {
		code, _, stderr := cli(c.args...)
		if code != 1 || !strings.Contains(stderr, c.msg) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q; want 1 and %q on one line", c.args, code, stderr, c.msg)
		}
	}
	// --help exits 0 and lists the recipe flags.
	if code, stdout, _ := cli("train", "--help"); code != 0 || !strings.Contains(stdout, "-weight-decay") {
		t.Errorf("train --help: %d %q", code, stdout)
	}
}
