package core

import (
	"math"
	"math/rand/v2"
	"testing"
)

// forceBatchRows makes every forward take the batched products (batchRows), in blocks of 8 rows
// so that small test models still split into several parts.
func forceBatchRows(t *testing.T) {
	oldMin, oldBlock := batchMinRows, batchRowBlock
	batchMinRows, batchRowBlock = 1, 8
	t.Cleanup(func() { batchMinRows, batchRowBlock = oldMin, oldBlock })
}

// The specifications of the forward, the gradients and the training step hold unchanged when the
// products run over the whole batch's rows.
func TestBatchRowsKeepsSpecifications(t *testing.T) {
	forceBatchRows(t)
	defer func() { rowsRoute = 0 }()
	for route, name := range []string{"auto", "openblas", "gemm"} {
		rowsRoute = route
		t.Run(name, testBatchRowsSpecs)
	}
}

func testBatchRowsSpecs(t *testing.T) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T)
	}{
		{"ParityLogits", TestParityLogits},
		{"MaskedEqualsAlone", TestMaskedEqualsAlone},
		{"ForwardThreadSettings", TestForwardThreadSettings},
		{"ForwardConcurrentDeterministic", TestForwardConcurrentDeterministic},
		{"ForwardZeroAllocs", TestForwardZeroAllocs},
		{"GradParity", TestGradParity},
		{"ModelGradFD", TestModelGradFD},
		{"TrainStepsMatchPyTorch", TestTrainStepsMatchPyTorch},
	} {
		t.Run(tc.name, tc.fn)
	}
}

// The batched route and the clip-by-clip route compute the same function: same logits and
// frame weights within float32 rounding, in both padding modes, with and without lengths, and
// padding frames of any (finite) value change nothing.
func TestBatchRowsMatchesClipByClip(t *testing.T) {
	cfg := Config{FeatureDim: 20, HiddenDim: 24, NumLayers: 2, NumHeads: 4, NumClasses: 3, Dropout: 0.4,
		Bidirectional: true, ClassifierWidths: []int{16}}
	m, err := NewModelInit(cfg, 5)
	if err != nil {
		t.Fatal(err)
	}
	const B, T = 6, 11
	rng := rand.New(rand.NewPCG(9, 9))
	x := make([]float32, B*T*cfg.FeatureDim)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	lengths := []int32{11, 3, 7, 1, 11, 9}
	xJunk := append([]float32(nil), x...) // padding frames hold other finite values
	for b, n := range lengths {
		for i := int(n) * cfg.FeatureDim; i < T*cfg.FeatureDim; i++ {
			xJunk[b*T*cfg.FeatureDim+i] = 1e3 * float32(rng.NormFloat64())
		}
	}
	run := func(x []float32, lengths []int32, pad Padding) []float32 {
		lg, fw := make([]float32, B*cfg.NumClasses), make([]float32, B*T)
		if err := m.Forward(x, B, T, lengths, pad, lg, fw); err != nil {
			t.Fatal(err)
		}
		return append(lg, fw...)
	}
	oldMin, oldBlock := batchMinRows, batchRowBlock
	defer func() { batchMinRows, batchRowBlock, rowsRoute = oldMin, oldBlock, 0 }()
	for _, pad := range []Padding{PaddingMasked, PaddingReference} {
		for _, lens := range [][]int32{nil, lengths, {5, 3, 7, 1, 2, 6}} { // T′ = T and T′ < T
			batchMinRows = math.MaxInt // clip by clip
			want := run(x, lens, pad)
			batchMinRows, batchRowBlock = 1, 8
			for route := 1; route <= 2; route++ { // OpenBLAS, then gemm's own route
				rowsRoute = route
				got := run(x, lens, pad)
				if lens != nil && pad == PaddingMasked {
					junk := run(xJunk, lens, pad)
					for i := range got {
						if math.Float32bits(junk[i]) != math.Float32bits(got[i]) {
							t.Fatalf("route %d: padding frames changed output %d: %v vs %v", route, i, junk[i], got[i])
						}
					}
				}
				for i := range want {
					if d := math.Abs(float64(got[i] - want[i])); d > 1e-5*(1+math.Abs(float64(want[i]))) {
						t.Fatalf("%v lengths=%v route %d: output %d = %v batched, %v clip by clip",
							pad, lens != nil, route, i, got[i], want[i])
					}
				}
			}
		}
	}
}
