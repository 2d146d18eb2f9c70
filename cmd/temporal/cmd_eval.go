package main

import (
	"fmt"
	"io"
	"strings"

	"libtemporal/core"
)

const evalArgs = "--model M.safetensors[,M2...] --data X.h5 [--json] [--padding masked|reference]"

func runEval(argv []string, stdout, stderr io.Writer) int {
	fs := newFlags("eval", evalArgs)
	var models multiFlag
	fs.Var(&models, "model", "checkpoint (repeat or comma-separate for an ensemble: mean of softmax)")
	data := fs.String("data", "", "dataset (HDF5, reference layout)")
	asJSON := fs.Bool("json", false, "print the metrics as JSON")
	padding := fs.String("padding", "masked", "padding mode: masked or reference")
	heads := fs.Int("heads", 0, "attention heads for files that do not record them")
	batch := fs.Int("batch-size", 64, "clips per forward call")
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
	var ms []*core.Model
	for _, p := range models {
		m, err := core.LoadFile(p, core.LoadOptions{NumHeads: *heads})
		if err != nil {
			return fail(stderr, "eval", err)
		}
		ms = append(ms, m)
	}
	d, err := core.OpenHDF5Dataset(*data)
	if err != nil {
		return fail(stderr, "eval", err)
	}
	defer d.Close()
	met, _, err := core.Evaluate(ms, d, core.EvalOptions{Padding: pad, BatchSize: *batch})
	if err != nil {
		return fail(stderr, "eval", err)
	}
	if met.ClassNames == nil {
		met.ClassNames = d.ClassNames()
	}
	// A member that predicts a single class is flagged (a collapsed model).
	var collapsed []string
	if len(ms) > 1 {
		for i, m := range ms {
			mm, _, err := core.Evaluate([]*core.Model{m}, d, core.EvalOptions{Padding: pad, BatchSize: *batch})
			if err != nil {
				return fail(stderr, "eval", err)
			}
			if mm.PredictedClasses <= 1 && d.NumClasses() > 1 {
				collapsed = append(collapsed, models[i])
			}
		}
	} else if met.PredictedClasses <= 1 {
		collapsed = append(collapsed, models[0])
	}
	for _, c := range collapsed {
		fmt.Fprintf(stderr, "temporal eval: warning: %s predicts a single class (collapsed model)\n", c)
	}
	if *asJSON {
		type out struct {
			core.Metrics
			Models    []string `json:"models"`
			Collapsed []string `json:"collapsed_models"`
		}
		b, err := jsonIndent(out{met, models, append([]string{}, collapsed...)})
		if err != nil {
			return fail(stderr, "eval", err)
		}
		fmt.Fprintln(stdout, string(b))
		return exitOK
	}
	fmt.Fprintf(stdout, "clips %d  accuracy %.4f  macro F1 %.4f  weighted F1 %.4f\n", met.N, met.Accuracy, met.MacroF1, met.WeightedF1)
	fmt.Fprintf(stdout, "%-16s %9s %9s %9s %8s\n", "class", "precision", "recall", "f1", "support")
	for c := range met.F1 {
		fmt.Fprintf(stdout, "%-16s %9.4f %9.4f %9.4f %8d\n", className(met.ClassNames, c), met.Precision[c], met.Recall[c], met.F1[c], met.Support[c])
	}
	fmt.Fprintln(stdout, "confusion matrix (rows: true, columns: predicted):")
	for c, row := range met.Confusion {
		cells := make([]string, len(row))
		for j, v := range row {
			cells[j] = fmt.Sprintf("%6d", v)
		}
		fmt.Fprintf(stdout, "%-16s %s\n", className(met.ClassNames, c), strings.Join(cells, ""))
	}
	return exitOK
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
