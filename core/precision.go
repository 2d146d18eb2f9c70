package core

import (
	"fmt"
	"unsafe"

	"libtemporal/kernels"
)

// Precision selects the arithmetic of a model's float32 inference forward (issue 5's opt-in
// reduced-precision mode). It is a per-model runtime setting, off by default, and is not
// saved in checkpoints: a file always holds the float32 weights, and a model loaded from one
// is exact until its host opts in (a flag in the file would make a model silently inexact on
// every host that loads it).
type Precision int

const (
	// PrecisionFloat32 (default): every product in float32, PyTorch's arithmetic.
	PrecisionFloat32 Precision = 0
	// PrecisionBF16Recurrent: each LSTM direction's W_hh is rounded once to bfloat16 (round to
	// nearest even) and the recurrent products h·W_hhᵀ read it widened back to float32 in
	// registers, with float32 accumulation; h and every other weight and product stay float32.
	// At B = 1 the recurrence streams W_hh from L3 on every step, and bf16 halves those bytes.
	// Error against float32: kernels/NOTES.md ("bf16 recurrent weights").
	PrecisionBF16Recurrent Precision = 1
)

func (p Precision) String() string {
	switch p {
	case PrecisionFloat32:
		return "float32"
	case PrecisionBF16Recurrent:
		return "bf16"
	}
	return fmt.Sprintf("precision(%d)", int(p))
}

// ParsePrecision accepts "float32" (also "fp32", "") and "bf16" (also "bf16-recurrent").
func ParsePrecision(s string) (Precision, error) {
	switch s {
	case "float32", "fp32", "":
		return PrecisionFloat32, nil
	case "bf16", "bf16-recurrent":
		return PrecisionBF16Recurrent, nil
	}
	return 0, Errf(KindInvalidArgument, "unknown precision %q (want float32 or bf16)", s)
}

// precisionState is one enabled reduced-precision mode: the weights the inference forward
// binds (m.w32's views, each LSTM direction with its bf16 copy of W_hh in whh16). Immutable
// once published, so a forward that loaded it keeps a consistent set whatever happens after.
type precisionState struct {
	p Precision
	w *weights[float32]
}

// bf16Aligned allocates n bf16 words starting on a 64-byte boundary: the AVX-512 kernel reads a
// row's blocks with 64-byte loads, which cost about a third more when they straddle cache lines
// (measured at a = 1).
func bf16Aligned(n int) []uint16 {
	buf := make([]uint16, n+32)
	off := int((64 - uintptr(unsafe.Pointer(unsafe.SliceData(buf)))%64) % 64 / 2)
	return buf[off : off+n : off+n]
}

// SetPrecision selects the precision of later Forward calls (and of everything built on
// Forward: PredictProbs, PredictTTA, EnsemblePredict). Enabling PrecisionBF16Recurrent rounds
// the current W_hh of every LSTM direction to bf16 (the copies take half the float32 W_hh's memory:
// 37.7 MB at the default config); the float32 weights are kept for training and saving, unchanged.
//
// Safe while other goroutines run Forward on the model: the switch is one atomic pointer swap,
// and each forward uses the setting it found when it started. The bf16 copy is a snapshot:
// after changing the parameters (training steps, Init, loading into the slab) call SetPrecision
// again, or later forwards keep using the old W_hh rounded to bf16 (the C API does this after
// each trainer step). The caller must not change parameters while SetPrecision runs.
func (m *Model) SetPrecision(p Precision) error {
	switch p {
	case PrecisionFloat32:
		m.prec.Store(nil)
		return nil
	case PrecisionBF16Recurrent:
	default:
		return Errf(KindInvalidArgument, "unknown precision %d (want %d float32 or %d bf16)",
			int(p), int(PrecisionFloat32), int(PrecisionBF16Recurrent))
	}
	H := m.cfg.HiddenDim
	w := *m.w32
	w.lstm = make([][]lstmWeights[float32], len(m.w32.lstm))
	for k, dirs := range m.w32.lstm {
		w.lstm[k] = append([]lstmWeights[float32](nil), dirs...)
		for d := range w.lstm[k] {
			src := dirs[d].whh
			packed := bf16Aligned(len(src))
			kernels.PackBF16(packed, src, 4*H, H)
			w.lstm[k][d].whh16 = packed
		}
	}
	m.prec.Store(&precisionState{p: p, w: &w})
	return nil
}

// Precision is the model's current inference precision.
func (m *Model) Precision() Precision {
	if s := m.prec.Load(); s != nil {
		return s.p
	}
	return PrecisionFloat32
}

// inferenceWeights are the weights an inference Forward binds: m.w32, or the enabled mode's.
func (m *Model) inferenceWeights() *weights[float32] {
	if s := m.prec.Load(); s != nil {
		return s.w
	}
	return m.w32
}
