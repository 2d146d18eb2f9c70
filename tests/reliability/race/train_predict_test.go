// Package race holds the Go side of the reliability suite (tests/reliability/run.sh runs
// the C and Python side): concurrency tests meant for the race detector.
package race

import (
	"math"
	"sync"
	"testing"

	"libtemporal/core"
)

func smallModel(t *testing.T, seed uint64) *core.Model {
	t.Helper()
	cfg := core.Config{FeatureDim: 6, HiddenDim: 8, NumLayers: 2, NumHeads: 2, NumClasses: 3,
		Dropout: 0.2, Bidirectional: true, ClassifierWidths: []int{8}}
	m, err := core.NewModelInit(cfg, seed)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestTrainWhilePredicting: a full training run (core.Train: sampling, steps, validation,
// committed checkpoints) on one model while 8 goroutines predict on another, and a Trainer
// stepping a third model meanwhile. Under go test -race (scripts/test.sh) any shared state
// between models — the worker pool, workspaces, BLAS setup — shows up as a race; the predicts
// must stay bitwise equal to the serial result.
func TestTrainWhilePredicting(t *testing.T) {
	const B, T, F = 3, 9, 6
	x := make([]float32, B*T*F)
	for i := range x {
		x[i] = float32(math.Sin(float64(i)))
	}
	lengths := []int32{9, 5, 1}
	pred := smallModel(t, 1)
	want := make([]float32, B*3)
	wantFW := make([]float32, B*T)
	if err := pred.Forward(x, B, T, lengths, core.PaddingMasked, want, wantFW); err != nil {
		t.Fatal(err)
	}

	stepped := smallModel(t, 2)
	tr, err := core.NewTrainer(stepped, core.DefaultTrainerOptions())
	if err != nil {
		t.Fatal(err)
	}
	train := core.SyntheticOrderDataset(48, F, 4, 9, 1)
	val := core.SyntheticOrderDataset(16, F, 4, 9, 2)
	cfg := core.DefaultTrainConfig()
	cfg.Model = core.Config{HiddenDim: 8, NumLayers: 1, NumHeads: 2, Dropout: 0.1, Bidirectional: true, ClassifierWidths: []int{8}}
	cfg.Train, cfg.Val, cfg.OutDir = train, val, t.TempDir()
	cfg.Epochs, cfg.BatchSize, cfg.CheckpointEvery = 3, 16, 2

	var wg sync.WaitGroup
	done := make(chan struct{})
	errs := make(chan error, 16)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := make([]float32, B*3)
			fw := make([]float32, B*T)
			for n := 0; ; n++ {
				select {
				case <-done:
					if n > 0 {
						return
					}
				default:
				}
				if err := pred.Forward(x, B, T, lengths, core.PaddingMasked, out, fw); err != nil {
					errs <- err
					return
				}
				for i := range out {
					if math.Float32bits(out[i]) != math.Float32bits(want[i]) {
						t.Errorf("predict during training: logit %d = %v, serial %v", i, out[i], want[i])
						return
					}
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		labels := []int64{0, 1, 2}
		for s := 0; s < 10; s++ {
			if _, err := tr.Step(x, B, T, lengths, labels); err != nil {
				errs <- err
				return
			}
		}
	}()
	res, err := core.Train(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if res.Epochs < 1 {
		t.Fatalf("training ran %d epochs", res.Epochs)
	}
}
