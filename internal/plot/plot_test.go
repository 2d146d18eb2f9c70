package plot

import (
	"bytes"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// writeIfAsked keeps the figure for a look when PLOT_DIR is set.
func writeIfAsked(t *testing.T, name string, b []byte) {
	if d := os.Getenv("PLOT_DIR"); d != "" {
		if err := os.WriteFile(filepath.Join(d, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func decode(t *testing.T, b []byte, minW, minH int) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if r := img.Bounds(); r.Dx() < minW || r.Dy() < minH {
		t.Fatalf("image %v smaller than %dx%d", r, minW, minH)
	}
}

func TestCurvesPNG(t *testing.T) {
	var steps []StepPoint
	var epochs []EpochPoint
	lr := func(k int) float64 { // the cosine schedule's shape
		ti, tc := 20, k
		for tc >= ti {
			tc -= ti
			ti *= 2
		}
		return 1e-6 + (1e-3-1e-6)*(1+math.Cos(math.Pi*float64(tc)/float64(ti)))/2
	}
	for k := 1; k <= 200; k++ {
		steps = append(steps, StepPoint{Step: int64(k), Loss: 1.4*math.Exp(-float64(k)/60) + 0.1*math.Sin(float64(k)), LR: lr(k - 1)})
		if k%10 == 0 {
			epochs = append(epochs, EpochPoint{Epoch: k / 10, Step: int64(k), TrainLoss: 1.4 * math.Exp(-float64(k)/60),
				ValLoss: 1.5 * math.Exp(-float64(k)/70), ValAccuracy: 1 - 0.75*math.Exp(-float64(k)/50),
				ValMacroF1: 1 - 0.8*math.Exp(-float64(k)/50), HasVal: true})
		}
	}
	b, err := PNG(func(w io.Writer) error { return Curves(w, "demo", steps, epochs) })
	if err != nil {
		t.Fatal(err)
	}
	decode(t, b, 800, 900)
	writeIfAsked(t, "curves.png", b)
	// No validation, a NaN loss, no steps: still a figure.
	if _, err := PNG(func(w io.Writer) error {
		return Curves(w, "x", []StepPoint{{1, math.NaN(), 1e-3}}, []EpochPoint{{Epoch: 1, Step: 1, TrainLoss: math.NaN()}})
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := PNG(func(w io.Writer) error { return Curves(w, "x", nil, nil) }); err != nil {
		t.Fatal(err)
	}
}

func TestConfusionPNG(t *testing.T) {
	m := [][]int{{40, 3, 0, 1}, {2, 37, 5, 0}, {0, 4, 44, 0}, {1, 0, 0, 50}}
	b, err := PNG(func(w io.Writer) error {
		return Confusion(w, "confusion (accuracy 0.91)", m, []string{"ABC", "ACB", "BAC", "CBA"})
	})
	if err != nil {
		t.Fatal(err)
	}
	decode(t, b, 400, 400)
	writeIfAsked(t, "confusion.png", b)
	big := make([][]int, 12)
	for i := range big {
		big[i] = make([]int, 12)
		big[i][i] = 10
	}
	if _, err := PNG(func(w io.Writer) error { return Confusion(w, "12", big, nil) }); err != nil {
		t.Fatal(err)
	}
	if _, err := PNG(func(w io.Writer) error { return Confusion(w, "0", nil, nil) }); err == nil {
		t.Fatal("empty matrix accepted")
	}
}
