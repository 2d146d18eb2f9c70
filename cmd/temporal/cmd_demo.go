package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"libtemporal/core"
	"libtemporal/internal/plot"
)

const demoArgs = "[--out DIR] [--quick] [--time-limit D]"

func init() {
	commands = append(commands, command{"demo", demoArgs, "generate a dataset whose classes need temporal order, train, evaluate, plot and classify clips", runDemo})
}

// demoSizes is what the demo generates and trains.
type demoSizes struct {
	train, val, test, minLen, maxLen, F int
	hidden, epochs, patience            int
	widths                              []int
	limit                               time.Duration
}

func runDemo(argv []string, stdout, stderr io.Writer) int {
	fs := newFlags("demo", demoArgs)
	out := fs.String("out", "temporal-demo", "output directory (data/, model.safetensors, curves.png, confusion.png, clips/)")
	quick := fs.Bool("quick", false, "a few seconds: less data and a smaller model")
	limit := fs.Duration("time-limit", 0, "stop training at the first epoch end after this long (default 100s, --quick 30s); the best model so far is kept")
	seed := fs.Uint64("seed", 42, "seed for the data, weights and training")
	epochs := fs.Int("epochs", 0, "maximum epochs (default 60, --quick 40)")
	progress := fs.String("progress", "auto", "training progress: auto (a live bar on a terminal), bar, lines, none")
	pos, code, ok := parse(fs, "demo", demoArgs, argv, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) != 0 {
		return fail(stderr, "demo", userErr("unexpected argument %q", pos[0]))
	}
	s := demoSizes{train: 1536, val: 384, test: 384, minLen: 12, maxLen: 40, F: 16, hidden: 32, epochs: 60, patience: 12,
		widths: []int{64, 32}, limit: 100 * time.Second}
	if *quick {
		s = demoSizes{train: 512, val: 128, test: 128, minLen: 10, maxLen: 20, F: 8, hidden: 12, epochs: 40, patience: 15,
			widths: []int{16}, limit: 30 * time.Second}
	}
	if *limit > 0 {
		s.limit = *limit
	}
	if *epochs < 0 {
		return fail(stderr, "demo", userErr("--epochs %d must be positive", *epochs))
	}
	if *epochs > 0 {
		s.epochs = *epochs
	}
	mode, err := parseProgress(*progress, stderr, false, false)
	if err != nil {
		return fail(stderr, "demo", err)
	}
	if err := demo(*out, s, *seed, mode, stdout, stderr); err != nil {
		return fail(stderr, "demo", err)
	}
	return exitOK
}

func demo(out string, s demoSizes, seed uint64, mode progressMode, stdout, stderr io.Writer) error {
	if !core.HDF5Available {
		return core.Errf(core.KindUnsupported, "the demo writes HDF5 datasets: this binary was built with the nohdf5 tag")
	}
	dataDir := filepath.Join(out, "data")
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return core.Wrap(core.KindIO, err, "output directory")
	}
	start := time.Now()
	fmt.Fprintf(stdout, "== 1. data: clips whose class is the ORDER of three patterns A, B, C among noise frames\n")
	fmt.Fprintf(stdout, "   (every class has the same frames, so averaging over time cannot tell them apart)\n")
	sets := map[string]*core.MemDataset{}
	for i, sp := range []struct {
		name string
		n    int
	}{{"train", s.train}, {"val", s.val}, {"test", s.test}} {
		d := core.SyntheticOrderDataset(sp.n, s.F, s.minLen, s.maxLen, seed+uint64(i)*1000)
		p := filepath.Join(dataDir, sp.name+".h5")
		if err := core.WriteHDF5Dataset(p, d); err != nil {
			return err
		}
		sets[sp.name] = d
		fmt.Fprintf(stdout, "   %-22s %4d clips, %d-%d frames of %d features, classes %s\n", p, sp.n, s.minLen, s.maxLen, s.F,
			strings.Join(d.ClassNames(), " "))
	}

	fmt.Fprintf(stdout, "== 2. train: BiLSTM(H=%d) + attention, reference recipe (focal loss, AdamW, cosine restarts), up to %d epochs or %s\n",
		s.hidden, s.epochs, s.limit)
	runDir := filepath.Join(out, "run")
	// A fresh run each time; only a directory that holds an earlier run is cleared.
	if _, err := os.Stat(runDir); err == nil {
		if !isFile(filepath.Join(runDir, "checkpoint.json")) {
			return core.Errf(core.KindInvalidArgument, "%s exists and is not a training run: choose another --out", runDir)
		}
		if err := os.RemoveAll(runDir); err != nil {
			return core.Wrap(core.KindIO, err, "clearing the previous demo run")
		}
	}
	train, err := core.OpenHDF5Dataset(filepath.Join(dataDir, "train.h5"))
	if err != nil {
		return err
	}
	defer train.Close()
	val, err := core.OpenHDF5Dataset(filepath.Join(dataDir, "val.h5"))
	if err != nil {
		return err
	}
	defer val.Close()
	cfg := core.DefaultTrainConfig()
	cfg.Model = core.Config{HiddenDim: s.hidden, NumLayers: 1, NumHeads: 4, Dropout: 0.1, Bidirectional: true, ClassifierWidths: s.widths}
	cfg.Train, cfg.Val, cfg.OutDir = train, val, runDir
	cfg.Epochs, cfg.Patience, cfg.BatchSize = s.epochs, s.patience, 32
	cfg.Trainer.AdamW.LR = 3e-3
	cfg.Trainer.Seed = seed
	deadline := start.Add(s.limit)
	stop, release := interruptFlag()
	defer release()
	var timeUp bool
	// The time limit is checked at the end of an epoch, so there is always a best model.
	rep := newTrainReporter(mode, stdout, stderr, "   ", func(p core.Progress) bool {
		if p.Phase == "epoch" && time.Now().After(deadline) {
			timeUp = true
		}
		return timeUp || stop()
	})
	res, err := core.Train(cfg, rep.report)
	rep.finish()
	if err != nil && !(timeUp && core.KindOf(err) == core.KindCancelled) {
		return err
	}
	why := "patience ran out"
	switch {
	case timeUp:
		why = "time limit"
	case !res.StoppedEarly:
		why = "epoch limit"
	}
	fmt.Fprintf(stdout, "   %d epochs, %d steps in %s (%s); best validation accuracy %.4f at epoch %d\n",
		res.Epochs, res.Steps, time.Since(start).Round(100*time.Millisecond), why, res.BestValAccuracy, res.BestEpoch)
	curves, err := rep.writeCurves(out, "demo training", res.History)
	if err != nil {
		return err
	}
	m, err := core.LoadFile(res.BestPath, core.LoadOptions{})
	if err != nil {
		return err
	}
	modelPath := filepath.Join(out, "model.safetensors")
	if err := m.SaveFile(modelPath); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "   model: %s (%d parameters)   curves: %s\n", modelPath, m.Config().NumParams(), curves)

	fmt.Fprintf(stdout, "== 3. evaluate on the held-out test set (%d clips)\n", s.test)
	test, err := core.OpenHDF5Dataset(filepath.Join(dataDir, "test.h5"))
	if err != nil {
		return err
	}
	defer test.Close()
	ms := []*core.Model{m}
	r, err := core.EvaluateEnsemble(ms, test, core.PaddingMasked, 64, core.EnsembleOptions{}, false)
	if err != nil {
		return err
	}
	printMetrics(indent{stdout}, r.Metrics)
	rt, err := core.EvaluateEnsemble(ms, test, core.PaddingMasked, 64, core.EnsembleOptions{TTA: true}, false)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "   with test-time augmentation (original, reversed, speed-up/down): accuracy %.4f\n", rt.Metrics.Accuracy)
	confusion := filepath.Join(out, "confusion.png")
	title := fmt.Sprintf("demo test set: accuracy %.3f, macro F1 %.3f (%d clips)", r.Metrics.Accuracy, r.Metrics.MacroF1, r.Metrics.N)
	if err := writePNG(confusion, func(w io.Writer) error {
		return plot.Confusion(w, title, r.Metrics.Confusion, r.Metrics.ClassNames)
	}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "   confusion matrix plot: %s\n", confusion)

	fmt.Fprintf(stdout, "== 4. classify clips (saved as .npy [frames, features] in %s)\n", filepath.Join(out, "clips"))
	if err := demoClassify(out, m, sets["test"], stdout); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "== done in %s. Next:\n", time.Since(start).Round(100*time.Millisecond))
	fmt.Fprintf(stdout, "   temporal predict --model %s --input %s --explain\n", modelPath, filepath.Join(out, "clips", "clip-0.npy"))
	fmt.Fprintf(stdout, "   temporal eval --model %s --data %s\n", modelPath, filepath.Join(dataDir, "test.h5"))
	return nil
}

// demoClassify writes the first test clips as .npy files and classifies them, showing where the
// patterns really are next to the frames the attention pooling weighs most.
func demoClassify(out string, m *core.Model, test *core.MemDataset, stdout io.Writer) error {
	dir := filepath.Join(out, "clips")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return core.Wrap(core.KindIO, err, "clips")
	}
	cfg := m.Config()
	F, T, C := cfg.FeatureDim, test.T, cfg.NumClasses
	var labels []string
	for i := 0; i < min(4, test.Len()); i++ {
		n := int(test.Lengths()[i])
		clip := test.Features[i*T*F : i*T*F+n*F]
		p := filepath.Join(dir, fmt.Sprintf("clip-%d.npy", i))
		if err := writeNpy(p, clip, []int{n, F}); err != nil {
			return err
		}
		probs := make([]float32, C)
		fw := make([]float32, n)
		if err := m.Forward(clip, 1, n, nil, core.PaddingMasked, probs, fw); err != nil {
			return err
		}
		core.SoftmaxRows(probs, 1, C)
		g := describeClips(probs, fw, 1, n, C, nil, cfg.ClassNames, 3)[0]
		truth := test.ClassNames()[test.Labels()[i]]
		labels = append(labels, truth)
		var pattern []string
		for t := 0; t < n; t++ {
			for k := 0; k < 3; k++ {
				if clip[t*F+k] > 1.2 { // the generator adds 2 to feature k at pattern k's frame
					pattern = append(pattern, fmt.Sprintf("%c@%d", 'A'+k, t))
				}
			}
		}
		var top []string
		for _, t := range g.TopFrames {
			top = append(top, fmt.Sprintf("#%d %.2f", t.Frame, t.Weight))
		}
		mark := "right"
		if g.Class != truth {
			mark = "WRONG"
		}
		fmt.Fprintf(stdout, "   %s (%d frames, true %s): predicted %s p=%.3f (%s); patterns at %s; top frames %s\n",
			p, n, truth, g.Class, g.Probabilities[g.Predicted], mark, strings.Join(pattern, " "), strings.Join(top, ", "))
	}
	return os.WriteFile(filepath.Join(dir, "labels.txt"), []byte(strings.Join(labels, "\n")+"\n"), 0o644)
}

// indent prefixes every line written through it with three spaces.
type indent struct{ w io.Writer }

func (i indent) Write(b []byte) (int, error) {
	s := strings.TrimSuffix(string(b), "\n")
	_, err := io.WriteString(i.w, "   "+strings.ReplaceAll(s, "\n", "\n   ")+"\n")
	if err != nil {
		return 0, err
	}
	return len(b), nil
}
