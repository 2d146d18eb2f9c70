// Command golden writes the cross-language test case that the C, C++ and Python tests compare
// against: a small model (fixed config and seed) saved as tests/data/small.safetensors, and
// tests/data/small.case.bin holding a deterministic input and the Go core's outputs for it.
//
//	go run ./tests/golden -out tests/data
//
// small.case.bin, all little-endian:
//
//	char     magic[4] = "TGLD"; uint32 version = 1
//	int32    B, T, F, C
//	int32    lengths[B]
//	float32  features[B*T*F]
//	float32  logits_masked[B*C], frame_weights_masked[B*T]
//	float32  logits_reference[B*C], frame_weights_reference[B*T]
//	float32  probabilities_masked[B*C]
//	float32  logits_full[B*C]      (lengths = NULL, masked mode)
package main

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"libtemporal/core"
)

// Config and seed of the fixture; the C and C++ tests rebuild the model with
// temporal_model_create from the same values and expect the same weights.
var (
	fixtureConfig = core.Config{
		FeatureDim: 16, HiddenDim: 8, NumLayers: 2, NumHeads: 2, NumClasses: 3,
		Dropout: 0.4, Bidirectional: true, ClassifierWidths: []int{12, 8},
	}
	fixtureSeed    = uint64(1234)
	fixtureClasses = []string{"walk", "run", "jump"}
	B, T           = 3, 7
	lengths        = []int32{7, 4, 1}
)

// features is x[i] = sin(0.37·i + 0.1)·1.5 rounded to float32: every language computes it the
// same way, but the tests read it from the file anyway.
func features() []float32 {
	x := make([]float32, B*T*fixtureConfig.FeatureDim)
	for i := range x {
		x[i] = float32(math.Sin(0.37*float64(i)+0.1) * 1.5)
	}
	return x
}

func main() {
	out := flag.String("out", "tests/data", "output directory")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "golden:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	m, err := core.NewModelInit(fixtureConfig, fixtureSeed)
	if err != nil {
		return err
	}
	if err := m.SetClassNames(fixtureClasses); err != nil {
		return err
	}
	path := filepath.Join(dir, "small.safetensors")
	if err := m.SaveFile(path); err != nil {
		return err
	}
	// The expected outputs come from the model as loaded back, exactly what the other
	// languages load.
	m, err = core.LoadFile(path, core.LoadOptions{})
	if err != nil {
		return err
	}
	data, err := caseBytes(m)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "small.case.bin"), data, 0o644)
}

func caseBytes(m *core.Model) ([]byte, error) {
	F, C := fixtureConfig.FeatureDim, fixtureConfig.NumClasses
	x := features()
	var buf bytes.Buffer
	w := func(v any) { _ = binary.Write(&buf, binary.LittleEndian, v) }
	buf.WriteString("TGLD")
	w(uint32(1))
	w([]int32{int32(B), int32(T), int32(F), int32(C)})
	w(lengths)
	w(x)
	for _, pad := range []core.Padding{core.PaddingMasked, core.PaddingReference} {
		logits, fw := make([]float32, B*C), make([]float32, B*T)
		if err := m.Forward(x, B, T, lengths, pad, logits, fw); err != nil {
			return nil, err
		}
		w(logits)
		w(fw)
	}
	probs := make([]float32, B*C)
	if err := m.Forward(x, B, T, lengths, core.PaddingMasked, probs, nil); err != nil {
		return nil, err
	}
	core.SoftmaxRows(probs, B, C)
	w(probs)
	full := make([]float32, B*C)
	if err := m.Forward(x, B, T, nil, core.PaddingMasked, full, nil); err != nil {
		return nil, err
	}
	w(full)
	return buf.Bytes(), nil
}
