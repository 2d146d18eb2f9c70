package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"libtemporal/core"
	"libtemporal/internal/plot"
)

const evalArgs = "--model M.safetensors|DIR [--model ...] --data X.h5 [--tta] [--drop-collapsed] [--json]"

func runEval(argv []string, stdout, stderr io.Writer) int {
	fs := newFlags("eval", evalArgs)
	var models multiFlag
	fs.Var(&models, "model", "checkpoint or run directory (repeat or comma-separate for an ensemble: mean of softmax; a train --seeds directory is its members)")
	data := fs.String("data", "", "dataset (HDF5, reference layout)")
	asJSON := fs.Bool("json", false, "print the metrics as JSON")
	padding := fs.String("padding", "masked", "padding mode: masked or reference")
	heads := fs.Int("heads", 0, "attention heads for files that do not record them")
	batch := fs.Int("batch-size", 64, "clips per forward call")
	tta := fs.Bool("tta", false, "test-time augmentation: mean of softmax over original, reversed and (n > 10) speed-up/down clips")
	drop := fs.Bool("drop-collapsed", false, fmt.Sprintf("leave out of the ensemble a model that predicts one class for ≥ %.0f%% of the clips", 100*core.CollapseShare))
	confusion := fs.String("confusion", "", "write the confusion matrix heat map here (default: confusion.png beside the first model)")
	noPlot := fs.Bool("no-plot", false, "do not write confusion.png")
	pos, code, ok := parse(fs, "eval", evalArgs, argv, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) != 0 {
		return fail(stderr, "eval", userErr("unexpected argument %q", pos[0]))
	}
	if len(models) == 0 || *data == "" {
		return fail(stderr, "eval", userErr("--model and --data are required"))
	}
	pad, err := core.ParsePadding(*padding)
	if err != nil {
		return fail(stderr, "eval", err)
	}
	paths, err := expandModels(models)
	if err != nil {
		return fail(stderr, "eval", err)
	}
	ms, err := loadModels(paths, *heads)
	if err != nil {
		return fail(stderr, "eval", err)
	}
	d, err := core.OpenHDF5Dataset(*data)
	if err != nil {
		return fail(stderr, "eval", err)
	}
	defer d.Close()
	r, err := core.EvaluateEnsemble(ms, d, pad, *batch, core.EnsembleOptions{TTA: *tta}, *drop)
	if err != nil {
		return fail(stderr, "eval", err)
	}
	met := r.Metrics
	if met.ClassNames == nil {
		met.ClassNames = d.ClassNames()
	}
	var collapsed []string
	for k, c := range r.Collapsed {
		if c {
			collapsed = append(collapsed, paths[k])
			what := "kept (use --drop-collapsed to leave it out)"
			if !r.Used[k] {
				what = "left out of the ensemble"
			}
			fmt.Fprintf(stderr, "temporal eval: warning: %s collapsed: it predicts one class for ≥ %.0f%% of the clips; %s\n",
				paths[k], 100*core.CollapseShare, what)
		}
	}
	plotPath := ""
	if !*noPlot {
		plotPath = *confusion
		if plotPath == "" {
			plotPath = filepath.Join(plotDir(models[0]), "confusion.png")
		}
		title := fmt.Sprintf("%s: accuracy %.3f, macro F1 %.3f (%d clips)", filepath.Base(*data), met.Accuracy, met.MacroF1, met.N)
		if err := writePNG(plotPath, func(w io.Writer) error { return plot.Confusion(w, title, met.Confusion, met.ClassNames) }); err != nil {
			if *confusion != "" {
				return fail(stderr, "eval", err)
			}
			// The default place (beside the model) may be read-only: the metrics still count.
			fmt.Fprintf(stderr, "temporal eval: warning: confusion.png not written: %v\n", err)
			plotPath = ""
		}
	}
	if *asJSON {
		type member struct {
			Model            string  `json:"model"`
			Accuracy         float64 `json:"accuracy"`
			MacroF1          float64 `json:"macro_f1"`
			PredictedClasses int     `json:"predicted_classes"`
			Collapsed        bool    `json:"collapsed"`
			Used             bool    `json:"used"`
		}
		type out struct {
			core.Metrics
			Models       []string `json:"models"`
			Members      []member `json:"members"`
			Collapsed    []string `json:"collapsed_models"`
			CollapseRule string   `json:"collapse_rule"`
			TTA          bool     `json:"tta"`
			Confusion    string   `json:"confusion_png,omitempty"`
		}
		o := out{Metrics: met, Models: paths, Collapsed: append([]string{}, collapsed...), TTA: *tta, Confusion: plotPath,
			CollapseRule: fmt.Sprintf("one predicted class for >= %.0f%% of the clips (while no true class is that common)", 100*core.CollapseShare)}
		for k, m := range r.Members {
			o.Members = append(o.Members, member{paths[k], m.Accuracy, m.MacroF1, m.PredictedClasses, r.Collapsed[k], r.Used[k]})
		}
		b, err := jsonIndent(o)
		if err != nil {
			return fail(stderr, "eval", err)
		}
		fmt.Fprintln(stdout, string(b))
		return exitOK
	}
	if len(ms) > 1 {
		for k, m := range r.Members {
			note := ""
			if r.Collapsed[k] {
				note = "  COLLAPSED"
			}
			if !r.Used[k] {
				note += " (left out)"
			}
			fmt.Fprintf(stdout, "member %-40s accuracy %.4f  macro F1 %.4f%s\n", paths[k], m.Accuracy, m.MacroF1, note)
		}
		fmt.Fprintf(stdout, "ensemble of %d (mean of softmax%s):\n", countTrue(r.Used), map[bool]string{true: ", TTA", false: ""}[*tta])
	}
	printMetrics(stdout, met)
	if plotPath != "" {
		fmt.Fprintf(stdout, "confusion matrix plot: %s\n", plotPath)
	}
	return exitOK
}

func printMetrics(w io.Writer, met core.Metrics) {
	fmt.Fprintf(w, "clips %d  accuracy %.4f  macro F1 %.4f  weighted F1 %.4f\n", met.N, met.Accuracy, met.MacroF1, met.WeightedF1)
	fmt.Fprintf(w, "%-16s %9s %9s %9s %8s\n", "class", "precision", "recall", "f1", "support")
	for c := range met.F1 {
		fmt.Fprintf(w, "%-16s %9.4f %9.4f %9.4f %8d\n", className(met.ClassNames, c), met.Precision[c], met.Recall[c], met.F1[c], met.Support[c])
	}
	fmt.Fprintln(w, "confusion matrix (rows: true, columns: predicted):")
	for c, row := range met.Confusion {
		cells := make([]string, len(row))
		for j, v := range row {
			cells[j] = fmt.Sprintf("%6d", v)
		}
		fmt.Fprintf(w, "%-16s %s\n", className(met.ClassNames, c), strings.Join(cells, ""))
	}
}

func countTrue(v []bool) int {
	n := 0
	for _, b := range v {
		if b {
			n++
		}
	}
	return n
}

// plotDir is where eval puts confusion.png by default: the --model directory itself, else the
// directory of the checkpoint file.
func plotDir(model string) string {
	if fi, err := os.Stat(model); err == nil && fi.IsDir() {
		return model
	}
	return filepath.Dir(model)
}

func className(names []string, c int) string {
	if c < len(names) {
		return names[c]
	}
	return fmt.Sprint(c)
}

// multiFlag collects repeated or comma-separated values.
type multiFlag []string

func (m *multiFlag) String() string { return strings.Join(*m, ",") }
func (m *multiFlag) Set(s string) error {
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*m = append(*m, p)
		}
	}
	return nil
}
