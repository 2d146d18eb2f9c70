package core

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// A trainer's state saved with the model mid-run and loaded into a new trainer on the reloaded
// model continues bitwise as the original would (dropout on, so the random stream is part of
// it, and enough steps to cross a schedule restart).
func TestTrainerSaveLoadStateContinuesBitwise(t *testing.T) {
	cfg := Config{FeatureDim: 6, HiddenDim: 5, NumLayers: 2, NumHeads: 2, NumClasses: 3, Dropout: 0.4,
		Bidirectional: true, ClassifierWidths: []int{4}}
	const B, T = 4, 5
	rng := rand.New(rand.NewPCG(8, 8))
	x := make([]float32, B*T*cfg.FeatureDim)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	lengths, labels := []int32{5, 2, 4, 1}, []int64{2, 0, 1, 1}
	o := DefaultTrainerOptions()
	o.T0, o.Seed = 3, 77
	m, err := NewModelInit(cfg, 4)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer(m, o)
	if err != nil {
		t.Fatal(err)
	}
	steps := func(tr *Trainer, n int) {
		for i := 0; i < n; i++ {
			if _, err := tr.Step(x, B, T, lengths, labels); err != nil {
				t.Fatal(err)
			}
		}
	}
	steps(tr, 4)
	dir := t.TempDir()
	if err := m.SaveFile(filepath.Join(dir, "model.safetensors")); err != nil {
		t.Fatal(err)
	}
	if err := tr.SaveState(filepath.Join(dir, "trainer.safetensors")); err != nil {
		t.Fatal(err)
	}
	steps(tr, 5)

	m2, err := LoadFile(filepath.Join(dir, "model.safetensors"), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tr2, err := NewTrainer(m2, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr2.LoadState(filepath.Join(dir, "trainer.safetensors")); err != nil {
		t.Fatal(err)
	}
	steps(tr2, 5)
	for i := range m.slab {
		if math.Float32bits(m.slab[i]) != math.Float32bits(m2.slab[i]) {
			t.Fatalf("parameter value %d after resuming: %v, uninterrupted %v", i, m2.slab[i], m.slab[i])
		}
	}
	if tr.LR() != tr2.LR() {
		t.Fatalf("lr %v after resuming, uninterrupted %v", tr2.LR(), tr.LR())
	}

	// A fresh trainer (moments zero) would not have matched: the state carries information.
	m3, _ := LoadFile(filepath.Join(dir, "model.safetensors"), LoadOptions{})
	tr3, _ := NewTrainer(m3, o)
	steps(tr3, 5)
	if i := bitwiseEqual(m.slab, m3.slab); i < 0 {
		t.Fatal("a trainer without the saved state gives the same weights: the test cannot tell")
	}
}

// Files that are not this model's trainer state are format errors and change nothing.
func TestTrainerLoadStateRejectsOtherFiles(t *testing.T) {
	cfg := Config{FeatureDim: 6, HiddenDim: 5, NumLayers: 1, NumHeads: 2, NumClasses: 3, Dropout: 0.4,
		Bidirectional: true, ClassifierWidths: []int{4}}
	m, _ := NewModelInit(cfg, 1)
	tr, _ := NewTrainer(m, DefaultTrainerOptions())
	dir := t.TempDir()
	good := filepath.Join(dir, "state.safetensors")
	if err := tr.SaveState(good); err != nil {
		t.Fatal(err)
	}
	other := cfg
	other.HiddenDim = 6
	mo, _ := NewModelInit(other, 1)
	tro, _ := NewTrainer(mo, DefaultTrainerOptions())
	before := append([]float32(nil), tro.Opt.ExpAvg...)
	lrBefore := tro.LR()
	modelFile := filepath.Join(dir, "model.safetensors")
	if err := m.SaveFile(modelFile); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage")
	if err := os.WriteFile(garbage, []byte("not a safetensors file"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, path := range map[string]string{"another model's state": good, "a model file": modelFile,
		"garbage": garbage} {
		if err := tro.LoadState(path); KindOf(err) != KindFormat {
			t.Errorf("%s: %v, want a format error", name, err)
		}
	}
	if err := tro.LoadState(filepath.Join(dir, "missing")); KindOf(err) != KindIO {
		t.Errorf("missing file: %v, want an IO error", err)
	}
	if i := bitwiseEqual(before, tro.Opt.ExpAvg); i >= 0 || tro.LR() != lrBefore || tro.Opt.Step != 0 {
		t.Fatal("a rejected state changed the trainer")
	}
}

// Class weights set on a trainer give the steps of a trainer created with them, bitwise; nil
// goes back to unweighted; invalid vectors are refused and change nothing.
func TestTrainerSetClassWeights(t *testing.T) {
	cfg := Config{FeatureDim: 6, HiddenDim: 5, NumLayers: 1, NumHeads: 2, NumClasses: 3, Dropout: 0.4,
		Bidirectional: true, ClassifierWidths: []int{4}}
	const B, T = 4, 5
	rng := rand.New(rand.NewPCG(2, 9))
	x := make([]float32, B*T*cfg.FeatureDim)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	labels := []int64{0, 1, 2, 1}
	alpha := []float32{0.5, 2, 1.25}
	run := func(set func(*Trainer), o TrainerOptions) []float32 {
		m, _ := NewModelInit(cfg, 6)
		tr, err := NewTrainer(m, o)
		if err != nil {
			t.Fatal(err)
		}
		set(tr)
		var losses []float32
		for i := 0; i < 3; i++ {
			l, err := tr.Step(x, B, T, nil, labels)
			if err != nil {
				t.Fatal(err)
			}
			losses = append(losses, l)
		}
		return losses
	}
	for _, kind := range []LossKind{LossFocal, LossCrossEntropy} {
		o := DefaultTrainerOptions()
		o.Loss.Kind = kind
		ow := o
		ow.Loss.Alpha = alpha
		want := run(func(*Trainer) {}, ow)
		got := run(func(tr *Trainer) {
			if err := tr.SetClassWeights(alpha); err != nil {
				t.Fatal(err)
			}
		}, o)
		plain := run(func(*Trainer) {}, o)
		back := run(func(tr *Trainer) {
			if err := tr.SetClassWeights(alpha); err != nil {
				t.Fatal(err)
			}
			if err := tr.SetClassWeights(nil); err != nil {
				t.Fatal(err)
			}
		}, o)
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) || math.Float32bits(back[i]) != math.Float32bits(plain[i]) {
				t.Fatalf("loss %v: step %d: set %v, created with %v; reset %v, unweighted %v", kind, i, got[i], want[i], back[i], plain[i])
			}
		}
		if got[0] == plain[0] {
			t.Fatalf("loss %v: the weights change nothing: the test cannot tell", kind)
		}
	}
	m, _ := NewModelInit(cfg, 6)
	tr, _ := NewTrainer(m, DefaultTrainerOptions())
	for _, bad := range [][]float32{{1, 1}, {1, 1, 1, 1}, {1, float32(math.NaN()), 1}, {1, -1, 1},
		{1, float32(math.Inf(1)), 1}} {
		if err := tr.SetClassWeights(bad); KindOf(err) != KindInvalidArgument {
			t.Errorf("class weights %v: %v, want an invalid-argument error", bad, err)
		}
	}
	if tr.Opts.Loss.Alpha != nil {
		t.Fatal("a refused weight vector was kept")
	}
}
