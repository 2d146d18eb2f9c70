//go:build !nohdf5

package core

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The resume test re-runs this test binary as a training process (helper-process pattern).
const resumeHelperEnv = "LIBTEMPORAL_RESUME_HELPER"

func resumeTrainConfig(dataDir, outDir string, resume bool) (TrainConfig, error) {
	tr, err := OpenHDF5Dataset(filepath.Join(dataDir, "train.h5"))
	if err != nil {
		return TrainConfig{}, err
	}
	va, err := OpenHDF5Dataset(filepath.Join(dataDir, "val.h5"))
	if err != nil {
		return TrainConfig{}, err
	}
	cfg := tinyTrainConfig(outDir, tr, va)
	cfg.Epochs = 5
	cfg.Patience = 100
	cfg.CheckpointEvery = 3
	cfg.Resume = resume
	return cfg, nil
}

// TestResumeHelperProcess is the child: it trains, printing "step N" after every step, slowly
// enough for the parent to kill it mid-epoch.
func TestResumeHelperProcess(t *testing.T) {
	spec := os.Getenv(resumeHelperEnv)
	if spec == "" {
		t.Skip("helper process for TestResumeAfterSIGKILL")
	}
	parts := strings.Split(spec, "|") // dataDir|outDir|resume|sleep
	cfg, err := resumeTrainConfig(parts[0], parts[1], parts[2] == "1")
	if err != nil {
		fmt.Println("error", err)
		os.Exit(3)
	}
	sleep, _ := time.ParseDuration(parts[3])
	_, err = Train(cfg, func(p Progress) bool {
		if p.Phase == "step" {
			fmt.Printf("step %d\n", p.Step)
			time.Sleep(sleep)
		}
		return true
	})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(3)
	}
	fmt.Println("done")
	os.Exit(0)
}

// finalModel reads checkpoint.json and returns the committed model file's bytes.
func finalModel(t *testing.T, dir string) ([]byte, checkpointPointer) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "checkpoint.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ptr checkpointPointer
	if err := json.Unmarshal(b, &ptr); err != nil {
		t.Fatal(err)
	}
	m, err := os.ReadFile(filepath.Join(dir, ptr.Model))
	if err != nil {
		t.Fatal(err)
	}
	return m, ptr
}

// TestResumeAfterSIGKILL: a training process killed with SIGKILL mid-epoch (after a mid-epoch
// checkpoint was committed) and resumed ends with byte-identical weights, best model and state to
// an uninterrupted run.
func TestResumeAfterSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess training")
	}
	dataDir := t.TempDir()
	if err := WriteHDF5Dataset(filepath.Join(dataDir, "train.h5"), SyntheticOrderDataset(300, 6, 10, 20, 11)); err != nil {
		t.Fatal(err)
	}
	if err := WriteHDF5Dataset(filepath.Join(dataDir, "val.h5"), SyntheticOrderDataset(100, 6, 10, 20, 12)); err != nil {
		t.Fatal(err)
	}
	// Uninterrupted reference run, in this process.
	refDir := t.TempDir()
	cfg, err := resumeTrainConfig(dataDir, refDir, false)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := Train(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Train.Close()
	cfg.Val.Close()

	// Interrupted run: SIGKILL at step 17 (epoch 2 of 10-step epochs; mid-epoch checkpoints at
	// 12 and 15 are committed by then), then resume to the end.
	outDir := t.TempDir()
	run := func(resume bool, sleep string, killAt int) string {
		cmd := exec.Command(os.Args[0], "-test.run=^TestResumeHelperProcess$", "-test.count=1")
		r := "0"
		if resume {
			r = "1"
		}
		cmd.Env = append(os.Environ(), resumeHelperEnv+"="+strings.Join([]string{dataDir, outDir, r, sleep}, "|"))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		last := ""
		for sc.Scan() {
			last = sc.Text()
			if killAt > 0 && last == fmt.Sprintf("step %d", killAt) {
				cmd.Process.Kill() // SIGKILL
				break
			}
		}
		for sc.Scan() {
		}
		werr := cmd.Wait()
		if killAt == 0 && werr != nil {
			t.Fatalf("resumed run failed: %v (last line %q)\n%s", werr, last, stderr.String())
		}
		return last
	}
	if last := run(false, "30ms", 17); last != "step 17" {
		t.Fatalf("first run ended with %q before the kill point", last)
	}
	_, ptr := finalModel(t, outDir)
	if ptr.Step != 15 || ptr.Done {
		t.Fatalf("after the kill checkpoint.json names step %d (done %v), want the mid-epoch step 15", ptr.Step, ptr.Done)
	}
	if last := run(true, "0s", 0); last != "done" {
		t.Fatalf("resumed run ended with %q", last)
	}
	got, gptr := finalModel(t, outDir)
	want, wptr := finalModel(t, refDir)
	if gptr != wptr {
		t.Errorf("checkpoint.json %+v, uninterrupted %+v", gptr, wptr)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("final weights differ from the uninterrupted run")
	}
	for _, f := range []string{"best.safetensors", wptr.TrainState} {
		a, _ := os.ReadFile(filepath.Join(outDir, f))
		b, _ := os.ReadFile(filepath.Join(refDir, f))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s differs from the uninterrupted run", f)
		}
	}
	// Old pairs are pruned: exactly one last-* pair remains.
	ents, _ := os.ReadDir(outDir)
	n := 0
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "last-") {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d last-* files remain, want one pair", n)
	}
	t.Logf("killed at step 17, resumed from step 15, final step %d: weights identical (best val acc %.3f)", gptr.Step, ref.BestValAccuracy)
}
