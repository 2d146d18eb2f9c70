package tensors

import (
	"errors"
	"testing"

	"libtemporal/core"

	"gorgonia.org/tensor"
)

func smallModel(t *testing.T) *core.Model {
	cfg := core.Config{FeatureDim: 5, HiddenDim: 4, NumLayers: 1, NumHeads: 2, NumClasses: 3,
		Dropout: 0.4, Bidirectional: true, ClassifierWidths: []int{6}}
	m, err := core.NewModelInit(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func wantKind(t *testing.T, err error, k core.Kind) {
	t.Helper()
	var e *core.Error
	if !errors.As(err, &e) || e.Kind != k {
		t.Fatalf("error %v, want kind %v", err, k)
	}
}

func TestForwardMatchesModelForwardWithoutCopyingInput(t *testing.T) {
	m := smallModel(t)
	B, T, F := 2, 7, 5
	x := make([]float32, B*T*F)
	for i := range x {
		x[i] = float32(i%11)/5 - 1
	}
	xt := tensor.New(tensor.WithShape(B, T, F), tensor.WithBacking(x))
	if d, _ := float32Data(xt); &d[0] != &x[0] {
		t.Fatal("a contiguous float32 input was copied")
	}
	lengths := []int32{7, 4}
	want := make([]float32, B*3)
	wantW := make([]float32, B*T)
	if err := m.Forward(x, B, T, lengths, core.PaddingMasked, want, wantW); err != nil {
		if core.KindOf(err) == core.KindInternal {
			t.Skip("core.Model.Forward not available yet:", err)
		}
		t.Fatal(err)
	}
	lo, fw, err := Forward(m, xt, lengths, core.PaddingMasked)
	if err != nil {
		t.Fatal(err)
	}
	if s := lo.Shape(); s[0] != B || s[1] != 3 {
		t.Fatalf("logits shape %v", s)
	}
	if s := fw.Shape(); s[0] != B || s[1] != T {
		t.Fatalf("frame weights shape %v", s)
	}
	for i, v := range lo.Data().([]float32) {
		if v != want[i] {
			t.Fatalf("logits[%d] = %v, want %v", i, v, want[i])
		}
	}
	for i, v := range fw.Data().([]float32) {
		if v != wantW[i] {
			t.Fatalf("frame weights[%d] = %v, want %v", i, v, wantW[i])
		}
	}
	// One clip as [T, F] is a batch of one: the first clip's logits (it has all T frames).
	one := tensor.New(tensor.WithShape(T, F), tensor.WithBacking(x[:T*F]))
	lo1, _, err := Forward(m, one, nil, core.PaddingMasked)
	if err != nil {
		t.Fatal(err)
	}
	if s := lo1.Shape(); s[0] != 1 || s[1] != 3 {
		t.Fatalf("single-clip logits shape %v", s)
	}
	for i, v := range lo1.Data().([]float32) {
		if d := v - want[i]; d > 1e-5 || d < -1e-5 {
			t.Fatalf("single clip logits[%d] = %v, want %v", i, v, want[i])
		}
	}
}

func TestForwardRejectsBadInputs(t *testing.T) {
	m := smallModel(t)
	_, _, err := Forward(m, tensor.New(tensor.WithShape(2, 3, 4), tensor.Of(tensor.Float32)), nil, core.PaddingMasked)
	wantKind(t, err, core.KindShape) // 4 features, the model takes 5
	_, _, err = Forward(m, tensor.New(tensor.WithShape(5), tensor.Of(tensor.Float32)), nil, core.PaddingMasked)
	wantKind(t, err, core.KindShape)
	_, _, err = Forward(m, tensor.New(tensor.WithShape(2, 5), tensor.Of(tensor.Int)), nil, core.PaddingMasked)
	wantKind(t, err, core.KindInvalidArgument)
	_, _, err = Forward(nil, tensor.New(tensor.WithShape(2, 5), tensor.Of(tensor.Float32)), nil, core.PaddingMasked)
	wantKind(t, err, core.KindInvalidArgument)
}

func TestFloat64AndViewsAreConverted(t *testing.T) {
	x := tensor.New(tensor.WithShape(3, 2), tensor.WithBacking([]float64{1, 2, 3, 4, 5, 6}))
	d, err := float32Data(x)
	if err != nil || len(d) != 6 || d[5] != 6 {
		t.Fatalf("%v %v", d, err)
	}
	y := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float32{1, 2, 3, 4, 5, 6}))
	if err := y.T(); err != nil { // a transposed view: strides, not row-major data
		t.Fatal(err)
	}
	d, err = float32Data(y)
	if err != nil || len(d) != 6 || d[1] != 4 {
		t.Fatalf("transposed view read as %v (%v), want [1 4 2 5 3 6]", d, err)
	}
}
