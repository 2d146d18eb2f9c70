package main

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"libtemporal/core"
	"libtemporal/internal/npy"
)

// predict --precision: float32 (the default) is the float32 forward bitwise; bf16 is the model's
// bf16 forward bitwise; anything else is a usage error; bf16 with a CUDA device is refused.
func TestPredictPrecision(t *testing.T) {
	dir := t.TempDir()
	p, m := saveModel(t, dir)
	B, T, F, C := 3, 6, 5, 3
	x := make([]float32, B*T*F)
	for i := range x {
		x[i] = float32(math.Sin(float64(i)))
	}
	xp := filepath.Join(dir, "x.npy")
	writeF32(t, xp, x, B, T, F)
	want := map[string][]float32{}
	for _, prec := range []core.Precision{core.PrecisionFloat32, core.PrecisionBF16Recurrent} {
		if err := m.SetPrecision(prec); err != nil {
			t.Fatal(err)
		}
		out := make([]float32, B*C)
		if err := m.Forward(x, B, T, nil, core.PaddingMasked, out, nil); err != nil {
			t.Fatal(err)
		}
		want[prec.String()] = out
	}
	same := true
	for i := range want["bf16"] {
		same = same && want["bf16"][i] == want["float32"][i]
	}
	if same {
		t.Fatal("bf16 and float32 logits are equal: the test model does not exercise the mode")
	}
	for _, c := range []struct {
		args []string
		want string
	}{{nil, "float32"}, {[]string{"--precision", "float32"}, "float32"}, {[]string{"--precision", "bf16"}, "bf16"}} {
		yp := filepath.Join(dir, "y.npy")
		args := append([]string{"predict", "--model", p, "--input", xp, "--output", yp}, c.args...)
		code, _, stderr := cli(args...)
		if code != exitOK {
			t.Fatalf("%v: exit %d: %s", c.args, code, stderr)
		}
		a, err := npy.ReadFile(yp)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := a.Float32()
		for i, v := range want[c.want] {
			if math.Float32bits(got[i]) != math.Float32bits(v) {
				t.Fatalf("%v: logit %d = %v, want the %s forward's %v", c.args, i, got[i], c.want, v)
			}
		}
	}
	for _, c := range [][]string{{"--precision", "fp16"}, {"--precision", ""}, {"--precision", "bf16", "--device", "cuda"}} {
		args := append([]string{"predict", "--model", p, "--input", xp}, c...)
		code, _, stderr := cli(args...)
		if code != exitUser || !strings.Contains(stderr, "precision") {
			t.Errorf("%v: exit %d, stderr %q; want a usage error about --precision", c, code, stderr)
		}
	}
}
