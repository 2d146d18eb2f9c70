package core

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDatasetBadInput: in-memory datasets reject what the HDF5 reader rejects.
func TestDatasetBadInput(t *testing.T) {
	x := make([]float32, 3*4*2)
	cases := []struct {
		name    string
		f       func() error
		kind    Kind
		message string
	}{
		{"empty", func() error { _, err := NewMemDataset(nil, nil, nil, 4, 2, nil); return err }, KindInvalidArgument, "empty"},
		{"label out of range", func() error {
			_, err := NewMemDataset(x, []int64{0, 1, 2}, []int32{4, 4, 4}, 4, 2, []string{"a", "b"})
			return err
		}, KindFormat, "labels[2] = 2 out of range"},
		{"features shape", func() error {
			_, err := NewMemDataset(x[:20], []int64{0, 1, 1}, []int32{4, 4, 4}, 4, 2, nil)
			return err
		}, KindShape, "features hold 20 values"},
		{"lengths shape", func() error {
			_, err := NewMemDataset(x, []int64{0, 1, 1}, []int32{4, 4}, 4, 2, nil)
			return err
		}, KindShape, "2 lengths for 3 labels"},
		{"length 0", func() error {
			_, err := NewMemDataset(x, []int64{0, 1, 1}, []int32{4, 0, 4}, 4, 2, nil)
			return err
		}, KindFormat, "num_frames[1] = 0"},
	}
	for _, c := range cases {
		err := c.f()
		if KindOf(err) != c.kind || err == nil || !strings.Contains(err.Error(), c.message) {
			t.Errorf("%s: err = %v (kind %v), want %v with %q", c.name, err, KindOf(err), c.kind, c.message)
		}
	}
}

// TestTrainBadInput: mismatched datasets and NaN features stop Train with clear errors.
func TestTrainBadInput(t *testing.T) {
	train := SyntheticOrderDataset(40, 6, 10, 12, 1)
	cfg := tinyTrainConfig(t.TempDir(), train, SyntheticOrderDataset(10, 7, 10, 12, 2))
	cfg.Epochs = 1
	if _, err := Train(cfg, nil); KindOf(err) != KindShape || !strings.Contains(err.Error(), "feature_dim") {
		t.Errorf("val with another feature_dim: %v", err)
	}
	cfg.Val = nil
	cfg.Model.FeatureDim = 5
	if _, err := Train(cfg, nil); KindOf(err) != KindShape {
		t.Errorf("model feature_dim 5 for data with 6: %v", err)
	}
	cfg.Model.FeatureDim = 0
	bad := *train
	bad.Features = append([]float32(nil), train.Features...)
	bad.Features[7*12*6+3] = float32(math.NaN()) // clip 7, frame 0
	cfg.Train = &bad
	_, err := Train(cfg, nil)
	if KindOf(err) != KindNumeric || !strings.Contains(err.Error(), "clip 7") {
		t.Errorf("NaN feature: err = %v, want KindNumeric naming clip 7", err)
	}
	// Trainer.Step: labels out of range and of the wrong count.
	m, _ := NewModelInit(Config{FeatureDim: 6, HiddenDim: 4, NumLayers: 1, NumHeads: 2, NumClasses: 4,
		Bidirectional: true, ClassifierWidths: []int{8}}, 1)
	tr, err := NewTrainer(m, DefaultTrainerOptions())
	if err != nil {
		t.Fatal(err)
	}
	xb := make([]float32, 2*3*6)
	if _, err := tr.Step(xb, 2, 3, nil, []int64{0, 4}); KindOf(err) != KindInvalidArgument {
		t.Errorf("label 4 of 4 classes: %v", err)
	}
	if _, err := tr.Step(xb, 2, 3, nil, []int64{0}); KindOf(err) != KindShape {
		t.Errorf("1 label for 2 clips: %v", err)
	}
}

// TestStepNaNLeavesStateAlone: a NaN loss is KindNumeric and changes no weight, moment or lr.
func TestStepNaNLeavesStateAlone(t *testing.T) {
	m, _ := NewModelInit(Config{FeatureDim: 6, HiddenDim: 4, NumLayers: 1, NumHeads: 2, NumClasses: 4,
		Bidirectional: true, ClassifierWidths: []int{8}}, 1)
	tr, _ := NewTrainer(m, DefaultTrainerOptions())
	xb := make([]float32, 2*3*6)
	for i := range xb {
		xb[i] = float32(i%5) * 0.1
	}
	if _, err := tr.Step(xb, 2, 3, nil, []int64{0, 1}); err != nil {
		t.Fatal(err)
	}
	m.Param("classifier.4.bias")[0] = float32(math.Inf(1)) // a diverged weight: loss becomes non-finite
	before := append([]float32(nil), m.Slab()...)
	mom := append([]float32(nil), tr.Opt.ExpAvg...)
	lr := tr.LR()
	_, err := tr.Step(xb, 2, 3, nil, []int64{0, 1})
	if KindOf(err) != KindNumeric {
		t.Fatalf("err = %v, want KindNumeric", err)
	}
	for i := range before {
		if math.Float32bits(before[i]) != math.Float32bits(m.Slab()[i]) {
			t.Fatalf("weight %d changed on a failed step", i)
		}
	}
	if countBitDiff(mom, tr.Opt.ExpAvg) != 0 || tr.LR() != lr || tr.Opt.Step != 1 {
		t.Errorf("optimizer state changed on a failed step")
	}
}

// explodingDataset returns huge (finite) features after a number of reads, so the loss becomes
// non-finite mid-training.
type explodingDataset struct {
	*MemDataset
	reads, after int
}

func (d *explodingDataset) ReadClips(idx []int, T int, dst []float32) error {
	if err := d.MemDataset.ReadClips(idx, T, dst); err != nil {
		return err
	}
	d.reads++
	if d.reads > d.after {
		for i := range dst[:len(idx)*T*d.F] {
			if dst[i] != 0 {
				dst[i] = 3e38
			}
		}
	}
	return nil
}

// TestTrainStopsOnNaNKeepsCheckpoint: when the loss turns non-finite in epoch 2, Train stops with
// KindNumeric and checkpoint.json still names epoch 1's pair, which loads and is finite.
func TestTrainStopsOnNaNKeepsCheckpoint(t *testing.T) {
	dir := t.TempDir()
	train := SyntheticOrderDataset(64, 6, 10, 12, 1)
	cfg := tinyTrainConfig(dir, &explodingDataset{MemDataset: train, after: 3}, nil) // 2 steps per epoch
	cfg.Epochs = 5
	_, err := Train(cfg, nil)
	if KindOf(err) != KindNumeric {
		t.Fatalf("err = %v, want KindNumeric", err)
	}
	t.Logf("stopped with: %v", err)
	model, ptr := finalModelPtr(t, dir)
	if ptr.Step != 2 || ptr.Epoch != 1 {
		t.Errorf("checkpoint.json names step %d epoch %d, want the end of epoch 1 (step 2)", ptr.Step, ptr.Epoch)
	}
	m, err := LoadFile(filepath.Join(dir, model), LoadOptions{})
	if err != nil {
		t.Fatalf("last good checkpoint: %v", err)
	}
	if err := m.CheckFinite(); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "best.safetensors")); err != nil {
		t.Error(err)
	}
}

func finalModelPtr(t *testing.T, dir string) (string, checkpointPointer) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "checkpoint.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ptr checkpointPointer
	if err := json.Unmarshal(b, &ptr); err != nil {
		t.Fatal(err)
	}
	return ptr.Model, ptr
}

// TestResumeOtherDataRefused: resuming on a different training set is refused (an exact resume
// needs the same data), and resuming a finished run with more epochs continues it.
func TestResumeOtherDataRefused(t *testing.T) {
	dir := t.TempDir()
	cfg := tinyTrainConfig(dir, SyntheticOrderDataset(40, 6, 10, 12, 1), nil)
	cfg.Epochs = 1
	if _, err := Train(cfg, nil); err != nil {
		t.Fatal(err)
	}
	cfg.Resume = true
	cfg.Epochs = 2
	res, err := Train(cfg, nil)
	if err != nil || res.Epochs != 2 {
		t.Fatalf("extending a finished run: epochs %v, err %v", res, err)
	}
	cfg.Train = SyntheticOrderDataset(40, 6, 10, 12, 2)
	cfg.Epochs = 3
	if _, err := Train(cfg, nil); KindOf(err) != KindInvalidArgument || !strings.Contains(err.Error(), "training set differs") {
		t.Errorf("resume on other data: %v", err)
	}
}
