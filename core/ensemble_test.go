package core

import (
	"math"
	"testing"
)

// TestEnsemblePredictIsMeanOfSoftmax checks EnsemblePredict against per-model Forward + softmax.
func TestEnsemblePredictIsMeanOfSoftmax(t *testing.T) {
	models := []*Model{ttaTestModel(t, 1), ttaTestModel(t, 2), ttaTestModel(t, 3)}
	B, T, F, C := 3, 12, 5, 3
	x := randClips(B, T, F, 9)
	lengths := []int32{12, 7, 11}
	fw := make([]float32, B*T)
	for _, tta := range []bool{false, true} {
		got, err := EnsemblePredict(models, x, B, T, lengths, PaddingMasked, EnsembleOptions{TTA: tta, FrameWeights: fw})
		if err != nil {
			t.Fatal(err)
		}
		want := make([]float64, B*C)
		wantFW := make([]float64, B*T)
		for _, m := range models {
			p := make([]float32, B*C)
			w := make([]float32, B*T)
			if tta {
				if err := m.PredictTTA(x, B, T, lengths, PaddingMasked, p, w); err != nil {
					t.Fatal(err)
				}
			} else {
				if err := m.Forward(x, B, T, lengths, PaddingMasked, p, w); err != nil {
					t.Fatal(err)
				}
				for b := 0; b < B; b++ { // softmax written out here, independently of SoftmaxRows
					s := 0.0
					for c := 0; c < C; c++ {
						s += math.Exp(float64(p[b*C+c]))
					}
					for c := 0; c < C; c++ {
						p[b*C+c] = float32(math.Exp(float64(p[b*C+c])) / s)
					}
				}
			}
			for i := range p {
				want[i] += float64(p[i]) / 3
			}
			for i := range w {
				wantFW[i] += float64(w[i]) / 3
			}
		}
		for i := range got {
			if math.Abs(float64(got[i])-want[i]) > 1e-6 {
				t.Errorf("tta=%v: probs[%d] = %v, want %v", tta, i, got[i], want[i])
			}
		}
		for i := range fw {
			if math.Abs(float64(fw[i])-wantFW[i]) > 1e-6 {
				t.Errorf("tta=%v: frame weight %d = %v, want %v", tta, i, fw[i], wantFW[i])
			}
		}
		for b := 0; b < B; b++ {
			s := 0.0
			for c := 0; c < C; c++ {
				s += float64(got[b*C+c])
			}
			if math.Abs(s-1) > 1e-5 {
				t.Errorf("row %d sums to %v", b, s)
			}
		}
	}
	if _, err := EnsemblePredict(models, x, -1, T, lengths, PaddingMasked, EnsembleOptions{}); err == nil {
		t.Error("negative batch accepted")
	}
	if _, err := EnsemblePredict(models, x, B, T, lengths, PaddingMasked, EnsembleOptions{FrameWeights: fw[:5]}); KindOf(err) != KindShape {
		t.Errorf("short frame weights: %v", err)
	}
	if _, err := EnsemblePredict(nil, x, B, T, lengths, PaddingMasked, EnsembleOptions{}); KindOf(err) != KindInvalidArgument {
		t.Errorf("no models: %v", err)
	}
	other, _ := NewModelInit(Config{FeatureDim: 5, HiddenDim: 6, NumLayers: 1, NumHeads: 2, NumClasses: 4,
		Dropout: 0.4, Bidirectional: true, ClassifierWidths: []int{8}}, 1)
	if _, err := EnsemblePredict(append(models, other), x, B, T, lengths, PaddingMasked, EnsembleOptions{}); KindOf(err) != KindShape {
		t.Errorf("mixed classes: %v", err)
	}
}

func TestIsCollapsedAndEvaluateEnsemble(t *testing.T) {
	conf := func(rows ...[]int) Metrics {
		var labels, pred []int64
		for i, r := range rows {
			for j, n := range r {
				for k := 0; k < n; k++ {
					labels, pred = append(labels, int64(i)), append(pred, int64(j))
				}
			}
		}
		return ComputeMetrics(labels, pred, len(rows))
	}
	if !IsCollapsed(conf([]int{0, 50}, []int{0, 50})) {
		t.Error("all predicted as class 1: not flagged")
	}
	if !IsCollapsed(conf([]int{2, 48}, []int{0, 50})) { // 98% predicted as class 1
		t.Error("98% one class: not flagged")
	}
	if IsCollapsed(conf([]int{10, 40}, []int{0, 50})) { // 90%
		t.Error("90% one class flagged")
	}
	if IsCollapsed(conf([]int{0, 0}, []int{0, 100})) { // the labels themselves are one class
		t.Error("a one-class dataset flagged")
	}

	// Untrained models predict one class; two briefly trained ones do not.
	d := SyntheticOrderDataset(40, 6, 10, 16, 5)
	train := SyntheticOrderDataset(256, 6, 10, 16, 6)
	var models []*Model
	for s := uint64(1); s <= 2; s++ {
		cfg := tinyTrainConfig(t.TempDir(), train, nil)
		cfg.Epochs, cfg.Trainer.Seed = 10, s
		res, err := Train(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		models = append(models, res.Model)
	}
	// A collapsed member: the last classifier layer's bias dominates.
	col, _ := NewModelInit(models[0].Config(), 3)
	col.Params()[len(col.Params())-1].Data[2] = 100
	all := append(models, col)
	r, err := EvaluateEnsemble(all, d, PaddingMasked, 16, EnsembleOptions{}, false)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Collapsed[2] || r.Collapsed[0] || r.Collapsed[1] || r.Members[2].PredictedClasses != 1 {
		t.Errorf("collapsed %v, member predicted classes %d", r.Collapsed, r.Members[2].PredictedClasses)
	}
	// The ensemble probabilities are the mean of the members' softmax, clip by clip.
	x := make([]float32, 40*d.T*6)
	idx := make([]int, 40)
	for i := range idx {
		idx[i] = i
	}
	if err := d.ReadClips(idx, d.T, x); err != nil {
		t.Fatal(err)
	}
	want, err := EnsemblePredict(all, x, 40, d.T, d.Lengths(), PaddingMasked, EnsembleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if math.Abs(float64(want[i]-r.Probs[i])) > 1e-5 {
			t.Fatalf("probs[%d] %v vs %v", i, r.Probs[i], want[i])
		}
	}
	r2, err := EvaluateEnsemble(all, d, PaddingMasked, 16, EnsembleOptions{}, true)
	if err != nil || r2.Used[2] || !r2.Used[0] {
		t.Fatalf("drop collapsed: %v %v", err, r2)
	}
	if _, err := EvaluateEnsemble([]*Model{col}, d, PaddingMasked, 16, EnsembleOptions{}, true); KindOf(err) != KindInvalidArgument {
		t.Errorf("all collapsed: %v", err)
	}
}
