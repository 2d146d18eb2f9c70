// Command temporal is the command-line tool over libtemporal's core: train models and
// ensembles with the reference recipe, evaluate them, classify .npy feature files, inspect
// checkpoints, convert .npy data to the HDF5 layout, and run a self-contained demo.
//
//	temporal demo [--out DIR] [--quick]
//	temporal train --train A.h5 --val B.h5 --out DIR [--seeds K] [recipe flags]
//	temporal eval --model DIR|M.safetensors [...] --data C.h5 [--tta] [--drop-collapsed] [--json]
//	temporal predict --model DIR|M.safetensors [...] --input X.npy [--lengths L.npy] [--tta]
//	    [--explain] [--probs] [--output Y.npy] [--json]
//	temporal info M.safetensors [--heads N] [--json]
//	temporal convert --features X.npy --labels y.npy [--lengths n.npy] --out D.h5
//
// Exit status: 0 success, 1 a user error (bad arguments, unreadable or malformed files, wrong
// shapes) with a one-line message on stderr, 2 an internal error.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"libtemporal/core"
	"libtemporal/internal/npy"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const (
	exitOK       = 0
	exitUser     = 1
	exitInternal = 2
)

type command struct {
	name, args, summary string
	run                 func(args []string, stdout, stderr io.Writer) int
}

var commands = []command{
	{"info", "M.safetensors [--heads N] [--json]", "print a checkpoint's configuration, parameter count and class names", runInfo},
	{"predict", predictArgs, "classify float32 features [B,T,F] (or [T,F] for one clip) with a model or an ensemble, optionally with TTA", runPredict},
}

// usageOrder is the order of the commands in the usage text: the workflow's.
var usageOrder = []string{"demo", "train", "eval", "predict", "info", "convert"}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: temporal <command> [arguments]\n\ncommands:")
	listed := map[string]bool{}
	for _, name := range usageOrder {
		for _, c := range commands {
			if c.name == name {
				fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
				listed[name] = true
			}
		}
	}
	for _, c := range commands {
		if !listed[c.name] {
			fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
		}
	}
	fmt.Fprintln(w, "\nRun 'temporal <command> --help' for a command's flags.")
	fmt.Fprintln(w, "Exit status: 0 success, 1 a user error (one line on stderr), 2 an internal error.")
}

// run is the whole program, testable in-process.
func run(args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "temporal: internal error: %v\n", r)
			code = exitInternal
		}
	}()
	if len(args) == 0 {
		usage(stderr)
		return exitUser
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return exitOK
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "temporal: unknown command %q (run 'temporal --help')\n", args[0])
	return exitUser
}

// newFlags makes a flag set whose errors we report on one line ourselves.
func newFlags(name, args string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	_ = args
	return fs
}

// parse parses flags and positional arguments in any order (flag stops at the first
// positional, but 'temporal info m.safetensors --json' is natural). It returns the positionals,
// or an exit code when parsing ended the command (help or a bad flag).
func parse(fs *flag.FlagSet, cmd, args string, argv []string, stdout, stderr io.Writer) ([]string, int, bool) {
	var pos []string
	for {
		if err := fs.Parse(argv); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprintf(stdout, "usage: temporal %s %s\n\nflags:\n", cmd, args)
				fs.SetOutput(stdout)
				fs.PrintDefaults()
				return nil, exitOK, false
			}
			return nil, fail(stderr, cmd, core.Errf(core.KindInvalidArgument, "%v (see 'temporal %s --help')", err, cmd)), false
		}
		argv = fs.Args()
		if len(argv) == 0 {
			return pos, 0, true
		}
		pos = append(pos, argv[0])
		argv = argv[1:]
	}
}

// fail prints err on one line and returns the exit status for its kind.
func fail(stderr io.Writer, cmd string, err error) int {
	msg := strings.ReplaceAll(err.Error(), "\n", "; ")
	if core.KindOf(err) == core.KindInternal {
		fmt.Fprintf(stderr, "temporal %s: internal error: %s\n", cmd, msg)
		return exitInternal
	}
	fmt.Fprintf(stderr, "temporal %s: %s\n", cmd, msg)
	return exitUser
}

func userErr(format string, a ...any) error {
	return core.Errf(core.KindInvalidArgument, format, a...)
}

func runInfo(argv []string, stdout, stderr io.Writer) int {
	const args = "M.safetensors [--heads N] [--json]"
	fs := newFlags("info", args)
	heads := fs.Int("heads", 0, "attention heads, for a file that does not record them (default: metadata, else 12)")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, code, ok := parse(fs, "info", args, argv, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		return fail(stderr, "info", userErr("need exactly one checkpoint file, got %d arguments", len(pos)))
	}
	m, err := loadModel(pos[0], *heads)
	if err != nil {
		return fail(stderr, "info", err)
	}
	cfg := m.Config()
	if *asJSON {
		if cfg.ClassNames == nil {
			cfg.ClassNames = []string{}
		}
		out, err := json.MarshalIndent(struct {
			Path       string      `json:"path"`
			Config     core.Config `json:"config"`
			NumParams  int64       `json:"num_params"`
			NumTensors int         `json:"num_tensors"`
			ClassNames []string    `json:"class_names"`
		}{pos[0], cfg, cfg.NumParams(), len(m.Params()), cfg.ClassNames}, "", "  ")
		if err != nil {
			return fail(stderr, "info", core.Wrap(core.KindInternal, err, "encoding JSON"))
		}
		fmt.Fprintln(stdout, string(out))
		return exitOK
	}
	names := "(none)"
	if len(cfg.ClassNames) > 0 {
		names = strings.Join(cfg.ClassNames, ", ")
	}
	fmt.Fprintf(stdout, "file:              %s\n", pos[0])
	fmt.Fprintf(stdout, "feature_dim:       %d\n", cfg.FeatureDim)
	fmt.Fprintf(stdout, "hidden_dim:        %d\n", cfg.HiddenDim)
	fmt.Fprintf(stdout, "num_layers:        %d\n", cfg.NumLayers)
	fmt.Fprintf(stdout, "bidirectional:     %v\n", cfg.Bidirectional)
	fmt.Fprintf(stdout, "num_heads:         %d\n", cfg.NumHeads)
	fmt.Fprintf(stdout, "classifier_widths: %v\n", cfg.ClassifierWidths)
	fmt.Fprintf(stdout, "num_classes:       %d\n", cfg.NumClasses)
	fmt.Fprintf(stdout, "dropout:           %v\n", cfg.Dropout)
	fmt.Fprintf(stdout, "class_names:       %s\n", names)
	fmt.Fprintf(stdout, "parameters:        %d in %d tensors\n", cfg.NumParams(), len(m.Params()))
	return exitOK
}

// loadModel loads a checkpoint; a file without a head count whose D the default 12 does not
// divide gets a hint naming the flag.
func loadModel(path string, heads int) (*core.Model, error) {
	m, err := core.LoadFile(path, core.LoadOptions{NumHeads: heads})
	if err != nil && heads == 0 && strings.Contains(err.Error(), "give the head count explicitly") {
		return nil, core.Errf(core.KindOf(err), "%v (use --heads N)", err)
	}
	return m, err
}

func readNpy(path string) (*npy.Array, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, core.Wrap(core.KindIO, err, "reading input")
	}
	if fi.IsDir() {
		return nil, core.Errf(core.KindIO, "%s is a directory", path)
	}
	a, err := npy.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return nil, core.Wrap(core.KindIO, err, "reading input")
		}
		return nil, core.Wrap(core.KindFormat, err, "reading input")
	}
	return a, nil
}

func writeNpy(path string, data []float32, shape []int) error {
	return core.WriteFileAtomic(path, func(w io.Writer) error { return npy.WriteFloat32(w, data, shape) })
}

// softmaxRows turns each row of C logits into probabilities, accumulating in float64.
func softmaxRows(v []float32, C int) {
	for r := 0; r+C <= len(v); r += C {
		row := v[r : r+C]
		mx := math.Inf(-1)
		for _, x := range row {
			mx = math.Max(mx, float64(x))
		}
		var sum float64
		for _, x := range row {
			sum += math.Exp(float64(x) - mx)
		}
		for i, x := range row {
			row[i] = float32(math.Exp(float64(x)-mx) / sum)
		}
	}
}
