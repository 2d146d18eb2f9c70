package core

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// fuzzSeeds are valid files the fuzzer mutates: a small checkpoint with metadata, one without
// (PyTorch style), and a mixed-dtype file. More seeds, mostly malformed variants, are in
// testdata/fuzz/.
func fuzzSeeds(t testing.TB) [][]byte {
	cfg := Config{FeatureDim: 3, HiddenDim: 2, NumLayers: 1, NumHeads: 2, NumClasses: 2,
		Dropout: 0.4, Bidirectional: true, ClassifierWidths: []int{2}, ClassNames: []string{"a", "b"}}
	m := newSmallModel(t, cfg)
	withMeta, _ := m.MarshalSafetensors()
	var plain, mixed bytes.Buffer
	WriteSafetensors(&plain, m.tensors(), nil)
	WriteSafetensors(&mixed, []Tensor{
		F32Tensor("x", []float32{1, 2, 3, 4}, 2, 2),
		{Name: "n", DType: "I64", Shape: []int{2}, Data: binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, 5), 7)},
		{Name: "e", DType: "F64", Shape: []int{0, 3}},
	}, map[string]string{"k": "v"})
	return [][]byte{withMeta, plain.Bytes(), mixed.Bytes()}
}

// FuzzLoadBytes: run it as
//
//	go test ./core -run '^$' -fuzz '^FuzzLoadBytes$' -fuzztime 60s -fuzzminimizetime 2s
//
// (the default minimisation budget of 60 s per new input, spent on ~1.5 KB seeds, makes the
// exec counter sit still). No input may panic or allocate beyond the input's own size; whatever loads
// must save and load back to the same bytes.
func FuzzLoadBytes(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := LoadBytes(data, LoadOptions{})
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %v is not a *core.Error", err)
			}
			return
		}
		out, err := m.MarshalSafetensors()
		if err != nil {
			t.Fatal(err)
		}
		m2, err := LoadBytes(out, LoadOptions{})
		if err != nil {
			t.Fatalf("re-load of a saved model: %v", err)
		}
		out2, _ := m2.MarshalSafetensors()
		if !bytes.Equal(out, out2) {
			t.Fatal("save → load → save is not stable")
		}
	})
}

// FuzzReadSafetensors: the generic reader never panics, and what it accepts it writes back
// to a file that reads the same.
func FuzzReadSafetensors(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := ReadSafetensors(data)
		if err != nil {
			return
		}
		var b bytes.Buffer
		if err := WriteSafetensors(&b, st.Tensors, st.Metadata); err != nil {
			t.Fatal(err)
		}
		st2, err := ReadSafetensors(b.Bytes())
		if err != nil {
			t.Fatalf("re-read: %v", err)
		}
		if len(st2.Tensors) != len(st.Tensors) || len(st2.Metadata) != len(st.Metadata) {
			t.Fatal("round trip changed the tensor or metadata count")
		}
		for i, x := range st.Tensors {
			y := st2.Tensors[i]
			if x.Name != y.Name || x.DType != y.DType || !equalShape(x.Shape, y.Shape) || !bytes.Equal(x.Data, y.Data) {
				t.Fatalf("tensor %q changed in the round trip", x.Name)
			}
		}
	})
}
