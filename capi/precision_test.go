package main

import (
	"math"
	"strings"
	"testing"
	"unsafe"

	"libtemporal/core"
)

func getPrecision(t *testing.T, h uint64) int32 {
	t.Helper()
	p := int32(-1)
	if st, msg := ccall(tgo_model_get_precision, h, unsafe.Pointer(&p)); st != stOK {
		t.Fatalf("get_precision: %d %s", st, msg)
	}
	return p
}

// temporal_model_set_precision / get_precision: the default, both values, bad arguments, the
// default output bitwise unchanged by a bf16 round trip, and the bf16 copy following trainer steps.
func TestSetPrecision(t *testing.T) {
	x, lengths, labels, B, T := trainBatch()
	h := newHandle(smallModel(t), "cpu", nil)
	defer freeHandle(h)
	if p := getPrecision(t, h); p != 0 {
		t.Fatalf("default precision %d, want TEMPORAL_PRECISION_FLOAT32", p)
	}
	ref := predictLogits(t, h, x, lengths, B, T)

	for _, bad := range []int{-1, 2, 1 << 20} {
		st, msg := ccall(tgo_model_set_precision, h, bad)
		if st != stInvalidArgument || !strings.Contains(msg, "temporal_precision") {
			t.Errorf("set_precision(%d) = %d %q, want INVALID_ARGUMENT", bad, st, msg)
		}
	}
	for _, bad := range []uint64{0, 1, h ^ 1} {
		if st, _ := ccall(tgo_model_set_precision, bad, 1); st != stBadHandle {
			t.Errorf("set_precision on handle %#x = %d, want BAD_HANDLE", bad, st)
		}
		var p int32
		if st, _ := ccall(tgo_model_get_precision, bad, unsafe.Pointer(&p)); st != stBadHandle {
			t.Errorf("get_precision on handle %#x = %d, want BAD_HANDLE", bad, st)
		}
	}
	if st, _ := ccall(tgo_model_get_precision, h, unsafe.Pointer(nil)); st != stInvalidArgument {
		t.Errorf("get_precision(out NULL) = %d, want INVALID_ARGUMENT", st)
	}
	if p := getPrecision(t, h); p != 0 {
		t.Fatal("a rejected call changed the precision")
	}

	if st, msg := ccall(tgo_model_set_precision, h, 1); st != stOK {
		t.Fatalf("set_precision(bf16): %d %s", st, msg)
	}
	if p := getPrecision(t, h); p != 1 {
		t.Fatalf("precision %d after setting bf16", p)
	}
	got := predictLogits(t, h, x, lengths, B, T)
	same := true
	for i := range ref {
		if math.Float32bits(got[i]) != math.Float32bits(ref[i]) {
			same = false
		}
		if d := math.Abs(float64(got[i] - ref[i])); d > 0.05*(1+math.Abs(float64(ref[i]))) {
			t.Fatalf("bf16 logit %d = %v, float32 %v", i, got[i], ref[i])
		}
	}
	if same {
		t.Fatal("bf16 logits bitwise equal to float32: the setting did nothing")
	}
	if st, msg := ccall(tgo_model_set_precision, h, 0); st != stOK {
		t.Fatalf("set_precision(float32): %d %s", st, msg)
	}
	for i, v := range predictLogits(t, h, x, lengths, B, T) {
		if math.Float32bits(v) != math.Float32bits(ref[i]) {
			t.Fatalf("float32 logit %d = %v after a bf16 round trip, was %v", i, v, ref[i])
		}
	}

	// A trainer step rebuilds the bf16 copy: bf16 predicts after the step equal those of a model
	// switched to bf16 only after the same step.
	a, b := newHandle(smallModel(t), "cpu", nil), newHandle(smallModel(t), "cpu", nil)
	defer freeHandle(a)
	defer freeHandle(b)
	if st, msg := ccall(tgo_model_set_precision, a, 1); st != stOK {
		t.Fatal(st, msg)
	}
	ta, tb := newTrainer(t, a), newTrainer(t, b)
	defer ccall(tgo_trainer_free, ta)
	defer ccall(tgo_trainer_free, tb)
	step(t, ta, x, lengths, labels, B, T)
	step(t, tb, x, lengths, labels, B, T)
	if st, msg := ccall(tgo_model_set_precision, b, 1); st != stOK {
		t.Fatal(st, msg)
	}
	pa, pb := predictLogits(t, a, x, lengths, B, T), predictLogits(t, b, x, lengths, B, T)
	for i := range pa {
		if math.Float32bits(pa[i]) != math.Float32bits(pb[i]) {
			t.Fatalf("after a trainer step, bf16 logit %d = %v, want %v (stale bf16 copy?)", i, pa[i], pb[i])
		}
	}
	e, err := acquire(a)
	if err != nil {
		t.Fatal(err)
	}
	defer e.release()
	if e.model.Precision() != core.PrecisionBF16Recurrent {
		t.Fatal("a trainer step changed the precision")
	}
}
