package core

import (
	"os"
	"path/filepath"
	"testing"
)

// TestCommitPrunesStaleTempFiles: temporary files left by a process killed during a checkpoint
// write are removed at the next commit (tests/reliability/crash train saw them pile up, one
// checkpoint-sized file per kill); unrelated files stay.
func TestCommitPrunesStaleTempFiles(t *testing.T) {
	dir := t.TempDir()
	stale := []string{".last-12.safetensors.tmp-123", ".last-12.train.safetensors.tmp-9",
		".checkpoint.json.tmp-4242", ".best.safetensors.tmp-1"}
	keep := []string{"notes.txt", ".other.tmp-1", ".last-12.safetensors.tmp-x"}
	for _, n := range append(append([]string{}, stale...), keep...) {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	train := SyntheticOrderDataset(16, 3, 4, 6, 1)
	cfg := tinyTrainConfig(dir, train, nil)
	cfg.Epochs, cfg.BatchSize = 1, 8
	if _, err := Train(cfg, nil); err != nil {
		t.Fatal(err)
	}
	for _, n := range stale {
		if _, err := os.Stat(filepath.Join(dir, n)); !os.IsNotExist(err) {
			t.Errorf("stale %s not pruned (%v)", n, err)
		}
	}
	for _, n := range keep {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Errorf("%s removed: %v", n, err)
		}
	}
}
