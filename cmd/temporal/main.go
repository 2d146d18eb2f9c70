// Command temporal is the command-line tool over libtemporal's core: inspect checkpoints and
// run predictions on .npy feature files.
//
//	temporal info M.safetensors [--heads N] [--json]
//	temporal predict --model M.safetensors --input X.npy [--lengths L.npy]
//	    [--padding masked|reference] [--heads N] [--probs] [--frame-weights W.npy] --output Y.npy
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
	{"predict", "--model M.safetensors --input X.npy --output Y.npy [flags]", "run the model on float32 features [B,T,F] (or [T,F] for one clip)", runPredict},
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: temporal <command> [arguments]\n\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'temporal <command> --help' for a command's flags.")
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

func runPredict(argv []string, stdout, stderr io.Writer) int {
	const args = "--model M.safetensors --input X.npy --output Y.npy [flags]"
	fs := newFlags("predict", args)
	modelPath := fs.String("model", "", "checkpoint (.safetensors), required")
	inputPath := fs.String("input", "", "features: float32 .npy [B,T,F], or [T,F] for one clip; required")
	lengthsPath := fs.String("lengths", "", "valid frames per clip: int32 or int64 .npy [B] (default: all T)")
	padding := fs.String("padding", "masked", "masked (each clip as if alone) or reference (PyTorch's batch behaviour)")
	heads := fs.Int("heads", 0, "attention heads, for a file that does not record them (default: metadata, else 12)")
	probs := fs.Bool("probs", false, "write softmax probabilities instead of logits")
	fwPath := fs.String("frame-weights", "", "also write the attention-pooling weights per frame, float32 .npy [B,T] ([T] for one clip)")
	outputPath := fs.String("output", "", "output float32 .npy [B,C] ([C] for one clip), required")
	pos, code, ok := parse(fs, "predict", args, argv, stdout, stderr)
	if !ok {
		return code
	}
	err := predict(pos, *modelPath, *inputPath, *lengthsPath, *padding, *heads, *probs, *fwPath, *outputPath)
	if err != nil {
		return fail(stderr, "predict", err)
	}
	return exitOK
}

func predict(pos []string, modelPath, inputPath, lengthsPath, padding string, heads int, probs bool, fwPath, outputPath string) error {
	if len(pos) != 0 {
		return userErr("unexpected argument %q", pos[0])
	}
	for _, f := range []struct{ flag, v string }{{"--model", modelPath}, {"--input", inputPath}, {"--output", outputPath}} {
		if f.v == "" {
			return userErr("%s is required", f.flag)
		}
	}
	var pad core.Padding
	switch padding {
	case "masked":
		pad = core.PaddingMasked
	case "reference":
		pad = core.PaddingReference
	default:
		return userErr("--padding must be masked or reference, not %q", padding)
	}
	m, err := loadModel(modelPath, heads)
	if err != nil {
		return err
	}
	cfg := m.Config()
	xa, err := readNpy(inputPath)
	if err != nil {
		return err
	}
	var B, T, F int
	single := len(xa.Shape) == 2
	switch len(xa.Shape) {
	case 2:
		B, T, F = 1, xa.Shape[0], xa.Shape[1]
	case 3:
		B, T, F = xa.Shape[0], xa.Shape[1], xa.Shape[2]
	default:
		return core.Errf(core.KindShape, "%s has shape %v, need [B,T,F] or [T,F]", inputPath, xa.Shape)
	}
	if F != cfg.FeatureDim {
		return core.Errf(core.KindShape, "%s has %d features per frame, the model takes %d", inputPath, F, cfg.FeatureDim)
	}
	if B < 1 || T < 1 {
		return core.Errf(core.KindShape, "%s has shape %v: no clips or no frames", inputPath, xa.Shape)
	}
	x, err := xa.Float32()
	if err != nil {
		return core.Wrap(core.KindFormat, err, "%s", inputPath)
	}
	var lengths []int32
	if lengthsPath != "" {
		la, err := readNpy(lengthsPath)
		if err != nil {
			return err
		}
		v, err := la.Ints()
		if err != nil {
			return core.Wrap(core.KindFormat, err, "%s", lengthsPath)
		}
		if len(la.Shape) != 1 || len(v) != B {
			return core.Errf(core.KindShape, "%s has shape %v, need [%d] (one length per clip)", lengthsPath, la.Shape, B)
		}
		lengths = make([]int32, B)
		for i, n := range v {
			if n < 1 || n > int64(T) {
				return core.Errf(core.KindInvalidArgument, "%s: length %d of clip %d is outside [1, %d]", lengthsPath, n, i, T)
			}
			lengths[i] = int32(n)
		}
	}
	C := cfg.NumClasses
	logits := make([]float32, B*C)
	var fw []float32
	if fwPath != "" {
		fw = make([]float32, B*T)
	}
	if err := m.Forward(x, B, T, lengths, pad, logits, fw); err != nil {
		return err
	}
	if probs {
		softmaxRows(logits, C)
	}
	outShape, fwShape := []int{B, C}, []int{B, T}
	if single {
		outShape, fwShape = []int{C}, []int{T}
	}
	if err := writeNpy(outputPath, logits, outShape); err != nil {
		return err
	}
	if fwPath != "" {
		return writeNpy(fwPath, fw, fwShape)
	}
	return nil
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
