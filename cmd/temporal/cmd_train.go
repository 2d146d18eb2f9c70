package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"

	"libtemporal/core"
)

// The training-side subcommands register themselves here, after info and predict.
func init() {
	commands = append(commands,
		command{"train", trainArgs, "train a model (or --seeds K models) on HDF5 datasets with the reference recipe", runTrain},
		command{"eval", evalArgs, "evaluate one model or an ensemble on an HDF5 dataset (accuracy, F1, confusion matrix)", runEval},
		command{"convert", convertArgs, "write .npy features/labels/lengths as an HDF5 dataset in the reference layout", runConvert},
	)
}

const trainArgs = "--train A.h5 --val B.h5 --out DIR [recipe flags] [--resume]"

// intList parses "768,512,256".
func intList(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		v, err := strconv.Atoi(f)
		if err != nil {
			return nil, userErr("%q is not a list of integers", s)
		}
		out = append(out, v)
	}
	return out, nil
}

func runTrain(argv []string, stdout, stderr io.Writer) int {
	fs := newFlags("train", trainArgs)
	d := core.DefaultTrainConfig()
	trainPath := fs.String("train", "", "training set (HDF5, reference layout)")
	valPath := fs.String("val", "", "validation set (HDF5) for early stopping and the best model")
	out := fs.String("out", "", "output directory (best.safetensors, last-<step> pair, checkpoint.json)")
	epochs := fs.Int("epochs", d.Epochs, "maximum epochs")
	batch := fs.Int("batch-size", d.BatchSize, "clips per step")
	lr := fs.Float64("lr", d.Trainer.AdamW.LR, "AdamW learning rate (schedule peak η₀)")
	wd := fs.Float64("weight-decay", d.Trainer.AdamW.WeightDecay, "AdamW weight decay (every parameter)")
	patience := fs.Int("patience", d.Patience, "early stopping: epochs without a strictly better val accuracy (0 = off)")
	seed := fs.Uint64("seed", d.Trainer.Seed, "seed for weights, sampling, augmentation and dropout")
	seeds := fs.Int("seeds", 1, "train K models with seeds seed+i into DIR/seed-<s> (an ensemble)")
	hidden := fs.Int("hidden-dim", d.Model.HiddenDim, "LSTM hidden size H")
	layers := fs.Int("num-layers", d.Model.NumLayers, "LSTM layers")
	heads := fs.Int("num-heads", d.Model.NumHeads, "attention heads (must divide D)")
	dropout := fs.Float64("dropout", d.Model.Dropout, "dropout p")
	uni := fs.Bool("unidirectional", false, "unidirectional LSTM (default bidirectional)")
	widths := fs.String("classifier-widths", "768,512,256", "classifier hidden widths")
	etaMin := fs.Float64("eta-min", d.Trainer.EtaMin, "cosine schedule floor η_min")
	t0 := fs.Int64("t0", d.Trainer.T0, "cosine schedule first period (steps)")
	tMult := fs.Int64("t-mult", d.Trainer.TMult, "cosine schedule period multiplier")
	clip := fs.Float64("clip-norm", d.Trainer.ClipNorm, "gradient norm clipping (0 = off)")
	gamma := fs.Float64("gamma", d.Trainer.Loss.Gamma, "focal loss γ")
	smoothing := fs.Float64("label-smoothing", d.Trainer.Loss.Smoothing, "label smoothing s")
	lossName := fs.String("loss", "focal", "loss: focal or ce")
	noWeights := fs.Bool("no-class-weights", false, "no α class weights (uniform sampling, unweighted loss)")
	noAug := fs.Bool("no-augment", false, "no training augmentation")
	padding := fs.String("padding", "masked", "padding mode for training and validation: masked or reference")
	ckEvery := fs.Int("checkpoint-every", 0, "also commit a checkpoint every N steps (0: every epoch only)")
	resume := fs.Bool("resume", false, "continue from DIR/checkpoint.json when present")
	asJSON := fs.Bool("json", false, "progress and result as JSON lines on stdout")
	quiet := fs.Bool("quiet", false, "no progress output")
	progress := fs.String("progress", "auto", "progress on stderr: auto (a live bar on a terminal, else a line per epoch), bar, lines, json, none")
	noPlot := fs.Bool("no-plot", false, "do not write curves.png")
	pos, code, ok := parse(fs, "train", trainArgs, argv, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) != 0 {
		return fail(stderr, "train", userErr("unexpected argument %q", pos[0]))
	}
	if *trainPath == "" || *out == "" {
		return fail(stderr, "train", userErr("--train and --out are required"))
	}
	if *seeds < 1 || *seeds > 1000 {
		return fail(stderr, "train", userErr("--seeds %d out of range [1, 1000]", *seeds))
	}
	cw, err := intList(*widths)
	if err != nil {
		return fail(stderr, "train", err)
	}
	pad, err := core.ParsePadding(*padding)
	if err != nil {
		return fail(stderr, "train", err)
	}
	cfg := d
	cfg.Model = core.Config{HiddenDim: *hidden, NumLayers: *layers, NumHeads: *heads, Dropout: *dropout,
		Bidirectional: !*uni, ClassifierWidths: cw}
	cfg.Epochs, cfg.BatchSize, cfg.Patience = *epochs, *batch, *patience
	cfg.Trainer.AdamW.LR, cfg.Trainer.AdamW.WeightDecay = *lr, *wd
	cfg.Trainer.EtaMin, cfg.Trainer.T0, cfg.Trainer.TMult, cfg.Trainer.ClipNorm = *etaMin, *t0, *tMult, *clip
	cfg.Trainer.Loss.Gamma, cfg.Trainer.Loss.Smoothing = *gamma, *smoothing
	switch *lossName {
	case "focal":
		cfg.Trainer.Loss.Kind = core.LossFocal
	case "ce", "cross-entropy":
		cfg.Trainer.Loss.Kind = core.LossCrossEntropy
	default:
		return fail(stderr, "train", userErr("--loss %q: want focal or ce", *lossName))
	}
	cfg.Trainer.Padding = pad
	cfg.NoClassWeights = *noWeights
	cfg.Augment.Enabled = !*noAug
	cfg.CheckpointEvery, cfg.Resume = *ckEvery, *resume

	mode, err := parseProgress(*progress, stderr, *asJSON, *quiet)
	if err != nil {
		return fail(stderr, "train", err)
	}
	train, err := core.OpenHDF5Dataset(*trainPath)
	if err != nil {
		return fail(stderr, "train", err)
	}
	defer train.Close()
	cfg.Train = train
	if *valPath != "" {
		val, err := core.OpenHDF5Dataset(*valPath)
		if err != nil {
			return fail(stderr, "train", err)
		}
		defer val.Close()
		cfg.Val = val
	}
	stop, release := interruptFlag()
	defer release()
	var bests []string
	for i := 0; i < *seeds; i++ {
		c := cfg
		c.Trainer.Seed = *seed + uint64(i)
		c.OutDir = *out
		prefix := ""
		if *seeds > 1 {
			c.OutDir = filepath.Join(*out, fmt.Sprintf("seed-%d", c.Trainer.Seed))
			prefix = fmt.Sprintf("[seed %d] ", c.Trainer.Seed)
		}
		rep := newTrainReporter(mode, stdout, stderr, prefix, func(core.Progress) bool { return stop() })
		res, err := core.Train(c, rep.report)
		rep.finish()
		if res != nil && !*noPlot {
			if _, perr := rep.writeCurves(c.OutDir, fmt.Sprintf("%s (seed %d)", filepath.Base(filepath.Clean(*out)), c.Trainer.Seed), res.History); perr != nil {
				// The trained model is what counts; a missing figure is only reported.
				fmt.Fprintf(stderr, "temporal train: warning: curves.png not written: %v\n", perr)
			}
		}
		if err != nil {
			if rep.stopped {
				return fail(stderr, "train", core.Errf(core.KindCancelled, "interrupted at step %d; the last committed checkpoint in %s is kept (continue with --resume)", res.Steps, c.OutDir))
			}
			return fail(stderr, "train", err)
		}
		summary := map[string]any{"out": c.OutDir, "seed": c.Trainer.Seed, "best_val_accuracy": res.BestValAccuracy,
			"best_epoch": res.BestEpoch, "epochs": res.Epochs, "steps": res.Steps, "stopped_early": res.StoppedEarly,
			"best_model": res.BestPath}
		if !*noPlot {
			summary["curves"] = filepath.Join(c.OutDir, "curves.png")
		}
		if *asJSON {
			b, _ := json.Marshal(map[string]any{"result": summary})
			fmt.Fprintln(stdout, string(b))
		} else {
			fmt.Fprintf(stdout, "seed %d: best val accuracy %.4f at epoch %d (%d epochs, %d steps%s); best model %s\n",
				c.Trainer.Seed, res.BestValAccuracy, res.BestEpoch, res.Epochs, res.Steps,
				map[bool]string{true: ", stopped early", false: ""}[res.StoppedEarly], res.BestPath)
		}
		bests = append(bests, res.BestPath)
	}
	if *seeds > 1 && cfg.Val != nil {
		if err := ensembleSummary(bests, cfg.Val, cfg.Trainer.Padding, *asJSON, stdout); err != nil {
			return fail(stderr, "train", err)
		}
	}
	return exitOK
}

// ensembleSummary scores the ensemble of the seeds' best models on the validation set and names
// any member that collapsed to one class.
func ensembleSummary(paths []string, val core.Dataset, pad core.Padding, asJSON bool, stdout io.Writer) error {
	ms, err := loadModels(paths, 0)
	if err != nil {
		return err
	}
	r, err := core.EvaluateEnsemble(ms, val, pad, 64, core.EnsembleOptions{}, false)
	if err != nil {
		return err
	}
	var collapsed []string
	for k, c := range r.Collapsed {
		if c {
			collapsed = append(collapsed, paths[k])
		}
	}
	if asJSON {
		b, _ := json.Marshal(map[string]any{"ensemble": map[string]any{"models": paths, "val_accuracy": r.Metrics.Accuracy,
			"val_macro_f1": r.Metrics.MacroF1, "collapsed_models": append([]string{}, collapsed...)}})
		fmt.Fprintln(stdout, string(b))
		return nil
	}
	fmt.Fprintf(stdout, "ensemble of %d (mean of softmax): val accuracy %.4f, macro F1 %.4f\n", len(ms), r.Metrics.Accuracy, r.Metrics.MacroF1)
	for _, c := range collapsed {
		fmt.Fprintf(stdout, "warning: %s collapsed (one class for ≥ %.0f%% of the validation clips); eval --drop-collapsed leaves it out\n",
			c, 100*core.CollapseShare)
	}
	return nil
}

// interruptFlag reports, once SIGINT or SIGTERM arrived, that training should stop at the next
// step (the last committed checkpoint stays; --resume continues). release restores the default
// handling, so a second Ctrl-C after it ends the process.
func interruptFlag() (stop func() bool, release func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	var hit atomic.Bool
	done := make(chan struct{})
	go func() {
		select {
		case <-ch:
			hit.Store(true)
			signal.Stop(ch)
		case <-done:
		}
	}()
	return hit.Load, func() { signal.Stop(ch); close(done) }
}
