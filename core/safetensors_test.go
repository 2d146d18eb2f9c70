package core

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// TestMixedDtypeFileRoundTrip: the generic reader and writer carry any dtype, in the order
// given, with typed accessors that check the dtype.
func TestMixedDtypeFileRoundTrip(t *testing.T) {
	f64 := []float64{1.5, -2, math.Pi}
	i32 := []int32{-7, 0, 1 << 30}
	i64 := []int64{1 << 40, -1}
	ts := []Tensor{
		F32Tensor("w", []float32{1, 2, 3, 4, 5, 6}, 2, 3),
		{Name: "d", DType: "F64", Shape: []int{3}, Data: bytesOf(f64)},
		{Name: "n", DType: "I32", Shape: []int{3, 1}, Data: bytesOf(i32)},
		{Name: "l", DType: "I64", Shape: []int{2}, Data: bytesOf(i64)},
		{Name: "empty", DType: "F32", Shape: []int{0, 4}},
		{Name: "s", DType: "F32", Shape: []int{}, Data: bytesOf([]float32{9})},
	}
	path := filepath.Join(t.TempDir(), "mixed.safetensors")
	if err := WriteSafetensorsFile(path, ts, map[string]string{"step": "12"}); err != nil {
		t.Fatal(err)
	}
	st, err := ReadSafetensorsFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Metadata["step"] != "12" || st.Metadata["sha256"] != DataSHA256(ts) {
		t.Fatalf("metadata %v", st.Metadata)
	}
	for i, x := range ts {
		y := st.Tensors[i]
		if y.Name != x.Name || y.DType != x.DType || !equalShape(y.Shape, x.Shape) || !bytes.Equal(y.Data, x.Data) {
			t.Fatalf("tensor %d: %+v, want %+v", i, y, x)
		}
	}
	if v, err := st.F64("d"); err != nil || v[2] != math.Pi {
		t.Fatalf("F64: %v %v", v, err)
	}
	if v, err := st.I32("n"); err != nil || v[2] != 1<<30 {
		t.Fatalf("I32: %v %v", v, err)
	}
	if v, err := st.I64("l"); err != nil || v[0] != 1<<40 {
		t.Fatalf("I64: %v %v", v, err)
	}
	if v, err := st.F32("s"); err != nil || len(v) != 1 || v[0] != 9 {
		t.Fatalf("scalar: %v %v", v, err)
	}
	_, err = st.F32("d")
	wantKind(t, err, KindFormat, `"d" is F64, not F32`)
	_, err = st.I64("nope")
	wantKind(t, err, KindFormat, `no tensor "nope"`)

	// A flipped data bit is caught by the recorded sha256.
	data, _ := os.ReadFile(path)
	data[len(data)-1] ^= 1
	_, err = ReadSafetensors(data)
	wantKind(t, err, KindFormat, "SHA-256")
}

func TestWriterRejectsInconsistentTensors(t *testing.T) {
	var b bytes.Buffer
	for name, ts := range map[string][]Tensor{
		"size":      {{Name: "a", DType: "F32", Shape: []int{3}, Data: make([]byte, 8)}},
		"dtype":     {{Name: "a", DType: "F128", Shape: []int{1}, Data: make([]byte, 16)}},
		"duplicate": {F32Tensor("a", []float32{1}, 1), F32Tensor("a", []float32{1}, 1)},
		"reserved":  {F32Tensor("__metadata__", []float32{1}, 1)},
	} {
		wantKind(t, WriteSafetensors(&b, ts, nil), KindInvalidArgument, "tensor")
		_ = name
	}
}

func TestHeaderLimitsAndEmptyFile(t *testing.T) {
	// An empty header object with an empty data section is a valid, empty file.
	empty := append(binary.LittleEndian.AppendUint64(nil, 2), "{}"...)
	st, err := ReadSafetensors(empty)
	if err != nil || len(st.Tensors) != 0 || st.Metadata != nil {
		t.Fatalf("%v %v", st, err)
	}
	// Trailing bytes after the last tensor are a gap at the end.
	_, err = ReadSafetensors(append(empty, 0))
	wantKind(t, err, KindFormat, "tensors cover 0")
	// Deeply nested JSON is refused, not recursed into without bound.
	deep := bytes.Repeat([]byte(`{"a":`), 100000)
	_, err = ReadSafetensors(append(binary.LittleEndian.AppendUint64(nil, uint64(len(deep))), deep...))
	wantKind(t, err, KindFormat, "header")
}
