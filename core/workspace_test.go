package core

import (
	"math"
	"math/rand/v2"
	"testing"
)

// An inference workspace shares LSTM buffers between layers; a training pass needs them all.
// One workspace alternating predicts and training steps (the trainer's validation between
// epochs does that) must give exactly what fresh workspaces give, and an inference-only
// workspace is smaller.
func TestWorkspaceSharedBetweenPredictAndTraining(t *testing.T) {
	cfg := Config{FeatureDim: 12, HiddenDim: 10, NumLayers: 4, NumHeads: 2, NumClasses: 3, Dropout: 0.4,
		Bidirectional: true, ClassifierWidths: []int{8}}
	const B, T = 3, 7
	rng := rand.New(rand.NewPCG(4, 4))
	x := make([]float32, B*T*cfg.FeatureDim)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	lengths, labels := []int32{7, 2, 5}, []int64{0, 2, 1}
	newModel := func() *Model {
		m, err := NewModelInit(cfg, 3)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	predict := func(m *Model) []float32 {
		lg := make([]float32, B*cfg.NumClasses)
		if err := m.Forward(x, B, T, lengths, PaddingMasked, lg, nil); err != nil {
			t.Fatal(err)
		}
		return lg
	}
	step := func(m *Model) []float32 {
		g := NewGrads(m)
		opt := TrainStepOptions{Dropout: true, RNG: rand.New(rand.NewPCG(1, 2)), Loss: DefaultLossConfig()}
		if _, err := m.LossAndGrad(x, B, T, lengths, labels, opt, g); err != nil {
			t.Fatal(err)
		}
		return g.Slab
	}
	same := func(what string, a, b []float32) {
		t.Helper()
		for i := range a {
			if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
				t.Fatalf("%s: element %d differs: %v vs %v", what, i, a[i], b[i])
			}
		}
	}
	wantLogits, wantGrad := predict(newModel()), step(newModel())

	m := newModel() // one model, one cached workspace: predict, train, predict, train
	same("first predict", predict(m), wantLogits)
	same("training after predict", step(m), wantGrad)
	same("predict after training", predict(m), wantLogits)
	same("training again", step(m), wantGrad)

	var inf, tr workspace[float32]
	inf.ensure(cfg, B, T, false)
	tr.ensure(cfg, B, T, true)
	size := func(ws *workspace[float32]) int {
		seen, n := map[*float32]bool{}, 0
		for _, set := range [][][]float32{ws.layerOut, ws.gates, ws.cells} {
			for _, b := range set {
				if !seen[&b[:1][0]] {
					seen[&b[:1][0]] = true
					n += len(b)
				}
			}
		}
		return n
	}
	if got, full := size(&inf), size(&tr); got*2 > full {
		t.Fatalf("inference LSTM workspace %d floats, training %d: layers are not shared", got, full)
	}
}
