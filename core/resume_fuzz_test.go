package core

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzResume fuzzes resuming a training run from a damaged run directory: checkpoint.json
// replaced by the fuzzer's bytes, or one metadata value of the training state replaced by the
// fuzzer's string, or bytes of the state file flipped — starting from a real run's files, either
// committed mid-epoch or at an epoch's end. Train(Resume) must not panic and must fail with a
// *core.Error (not KindInternal), or resume and finish. Run it as
//
//	go test ./core -run '^$' -fuzz '^FuzzResume$' -fuzztime 300s -fuzzminimizetime 2s -parallel 1
func FuzzResume(f *testing.F) {
	base := f.TempDir()
	runs := [2]string{filepath.Join(base, "mid"), filepath.Join(base, "end")}
	train := SyntheticOrderDataset(12, 3, 3, 6, 1)
	for i, dir := range runs {
		cfg := resumeFuzzConfig(dir, train)
		cfg.Epochs = 1
		_, err := Train(cfg, func(p Progress) bool { return i == 1 || p.Step < 2 })
		if err != nil && KindOf(err) != KindCancelled {
			f.Fatal(err)
		}
	}
	keys := []string{"", "step", "adam_step", "T_cur", "T_i", "epoch", "step_in_epoch", "epoch_loss_sum",
		"best_metric", "best_epoch", "patience_counter", "history", "done", "rng_state", "dataset", "format_version"}
	for i := range runs {
		for _, k := range keys {
			f.Add(uint8(i), []byte(nil), k, "-1", []byte(nil))
		}
		f.Add(uint8(i), []byte(`{"format_version":1,"step":1,"model":"../x","train_state":"y"}`), "", "", []byte(nil))
		f.Add(uint8(i), []byte(nil), "T_i", "0", []byte(nil))
		f.Add(uint8(i), []byte(nil), "epoch", "-9223372036854775808", []byte(nil))
		f.Add(uint8(i), []byte(nil), "", "", []byte{200, 1, 2, 3})
	}
	work := filepath.Join(base, "work")
	f.Fuzz(func(t *testing.T, which uint8, ptr []byte, key, value string, flips []byte) {
		src := runs[int(which)%2]
		os.RemoveAll(work)
		if err := os.MkdirAll(work, 0o755); err != nil {
			t.Fatal(err)
		}
		entries, _ := os.ReadDir(src)
		var stateName string
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(src, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if filepath.Ext(e.Name()) == ".safetensors" && bytes.HasSuffix([]byte(e.Name()), []byte(".train.safetensors")) {
				stateName = e.Name()
				b = mutateState(b, key, value, flips)
			}
			if e.Name() == "checkpoint.json" && len(ptr) > 0 {
				b = ptr
			}
			if err := os.WriteFile(filepath.Join(work, e.Name()), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if stateName == "" {
			t.Fatal("no training state in the seed run")
		}
		cfg := resumeFuzzConfig(work, train)
		cfg.Epochs, cfg.Resume = 2, true
		// 12 clips, batch 4: 3 steps per epoch, so resuming a 2-epoch run does at most 6 steps;
		// more means a corrupt counter made the run longer than asked (possibly endless).
		steps := 0
		_, err := Train(cfg, func(p Progress) bool {
			if p.Phase == "step" {
				steps++
			}
			return steps <= 6
		})
		if steps > 6 {
			t.Fatalf("resume from a damaged run did more than the 2 epochs asked (%d steps)", steps)
		}
		if err == nil {
			return
		}
		var ce *Error
		if !errors.As(err, &ce) || KindOf(err) == KindInternal {
			t.Fatalf("resume from a damaged run: %v (kind %v)", err, KindOf(err))
		}
	})
}

func resumeFuzzConfig(dir string, train Dataset) TrainConfig {
	cfg := DefaultTrainConfig()
	cfg.Model = Config{HiddenDim: 4, NumLayers: 1, NumHeads: 2, Dropout: 0.1, Bidirectional: true, ClassifierWidths: []int{4}}
	cfg.Train, cfg.OutDir = train, dir
	cfg.BatchSize, cfg.CheckpointEvery, cfg.Patience = 4, 1, 0
	return cfg
}

// mutateState sets metadata key to value (key "" leaves the metadata) and XORs the bytes at the
// offsets given by flips (pairs offset, mask) into the state file.
func mutateState(b []byte, key, value string, flips []byte) []byte {
	if key != "" {
		st, err := ReadSafetensors(b)
		if err != nil {
			return b
		}
		md := st.Metadata
		if md == nil {
			md = map[string]string{}
		}
		md[key] = value
		var out bytes.Buffer
		if err := WriteSafetensors(&out, st.Tensors, md); err != nil {
			return b
		}
		b = out.Bytes()
	}
	b = append([]byte(nil), b...)
	for i := 0; i+1 < len(flips); i += 2 {
		off := int(flips[i]) * 131 % len(b)
		b[off] ^= flips[i+1] | 1
	}
	return b
}
