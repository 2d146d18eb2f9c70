package core

import (
	"testing"
	"time"
)

// tinyTrainConfig is a small model and recipe for the learning and resume tests.
func tinyTrainConfig(dir string, train, val Dataset) TrainConfig {
	cfg := DefaultTrainConfig()
	cfg.Model = Config{HiddenDim: 12, NumLayers: 1, NumHeads: 2, Dropout: 0.1, Bidirectional: true,
		ClassifierWidths: []int{16}}
	cfg.Train, cfg.Val, cfg.OutDir = train, val, dir
	cfg.BatchSize = 32
	cfg.Trainer.AdamW.LR = 3e-3
	return cfg
}

// TestLearnsTemporalOrder: on clips whose classes differ only in the order of three patterns
// (mean pooling cannot separate them), variable lengths, a tiny config reaches ≥ 95% validation
// accuracy.
func TestLearnsTemporalOrder(t *testing.T) {
	train := SyntheticOrderDataset(512, 6, 10, 20, 1)
	val := SyntheticOrderDataset(200, 6, 10, 20, 2)
	cfg := tinyTrainConfig(t.TempDir(), train, val)
	cfg.Epochs = 60
	cfg.Patience = 60
	start := time.Now()
	var hit bool
	res, err := Train(cfg, func(p Progress) bool {
		if p.Phase == "epoch" {
			t.Logf("epoch %d: loss %.4f val acc %.3f (%.1fs)", p.Epoch, p.Loss, p.ValAccuracy, time.Since(start).Seconds())
			if p.ValAccuracy >= 0.95 {
				hit = true
				return false // reached: stop early to keep the test short
			}
		}
		return true
	})
	if !hit {
		t.Fatalf("best validation accuracy %.3f < 0.95 (err %v)", res.BestValAccuracy, err)
	}
	if KindOf(err) != KindCancelled {
		t.Errorf("err = %v, want the cancellation", err)
	}
	t.Logf("reached %.3f validation accuracy at epoch %d in %.1fs", res.BestValAccuracy, res.BestEpoch, time.Since(start).Seconds())
}
