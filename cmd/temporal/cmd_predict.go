package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"libtemporal/core"
)

const predictArgs = "--model M.safetensors|DIR [--model ...] --input X.npy [--output Y.npy] [flags]"

type predictFlags struct {
	models                                      multiFlag
	input, lengths, padding, fwPath, outputPath string
	heads, topK                                 int
	probs, tta, explain, asJSON                 bool
}

func runPredict(argv []string, stdout, stderr io.Writer) int {
	fs := newFlags("predict", predictArgs)
	var f predictFlags
	fs.Var(&f.models, "model", "checkpoint or run directory, required; several (repeat or comma-separate, or a train --seeds directory) make an ensemble: mean of softmax")
	fs.StringVar(&f.input, "input", "", "features: float32 .npy [B,T,F], or [T,F] for one clip; required")
	fs.StringVar(&f.lengths, "lengths", "", "valid frames per clip: int32 or int64 .npy [B] (default: all T)")
	fs.StringVar(&f.padding, "padding", "masked", "masked (each clip as if alone) or reference (PyTorch's batch behaviour)")
	fs.IntVar(&f.heads, "heads", 0, "attention heads, for a file that does not record them (default: metadata, else 12)")
	fs.BoolVar(&f.probs, "probs", false, "write softmax probabilities instead of logits (always so for an ensemble or --tta)")
	fs.BoolVar(&f.tta, "tta", false, "test-time augmentation: mean of softmax over original, reversed and, for clips of more than 10 frames, speed-up (n/2 frames) and speed-down (1.5n frames)")
	fs.BoolVar(&f.explain, "explain", false, "print each clip's class probabilities and its top frames by attention-pooling weight")
	fs.IntVar(&f.topK, "top-k", 5, "frames listed per clip by --explain")
	fs.StringVar(&f.fwPath, "frame-weights", "", "also write the attention-pooling weights per frame, float32 .npy [B,T] ([T] for one clip; an ensemble's mean)")
	fs.StringVar(&f.outputPath, "output", "", "output float32 .npy [B,C] ([C] for one clip); without it a line per clip is printed")
	fs.BoolVar(&f.asJSON, "json", false, "print the predictions (and with --explain the top frames) as JSON")
	pos, code, ok := parse(fs, "predict", predictArgs, argv, stdout, stderr)
	if !ok {
		return code
	}
	if err := predict(pos, f, stdout); err != nil {
		return fail(stderr, "predict", err)
	}
	return exitOK
}

func predict(pos []string, f predictFlags, stdout io.Writer) error {
	if len(pos) != 0 {
		return userErr("unexpected argument %q", pos[0])
	}
	if len(f.models) == 0 {
		return userErr("--model is required")
	}
	if f.input == "" {
		return userErr("--input is required")
	}
	if f.topK < 1 {
		return userErr("--top-k must be at least 1, not %d", f.topK)
	}
	pad, err := core.ParsePadding(f.padding)
	if err != nil {
		return userErr("--padding must be masked or reference, not %q", f.padding)
	}
	paths, err := expandModels(f.models)
	if err != nil {
		return err
	}
	ms, err := loadModels(paths, f.heads)
	if err != nil {
		return err
	}
	cfg := ms[0].Config()
	x, B, T, single, err := readFeatures(f.input, cfg.FeatureDim)
	if err != nil {
		return err
	}
	lengths, err := readLengths(f.lengths, B, T)
	if err != nil {
		return err
	}
	C := cfg.NumClasses
	fw := make([]float32, B*T) // for --explain and --frame-weights
	var out []float32
	isProbs := f.probs || f.tta || len(ms) > 1
	if len(ms) == 1 && !f.tta {
		out = make([]float32, B*C)
		if err := ms[0].Forward(x, B, T, lengths, pad, out, fw); err != nil {
			return err
		}
		if f.probs {
			core.SoftmaxRows(out, B, C)
		}
	} else if out, err = core.EnsemblePredict(ms, x, B, T, lengths, pad, core.EnsembleOptions{TTA: f.tta, FrameWeights: fw}); err != nil {
		return err
	}
	outShape, fwShape := []int{B, C}, []int{B, T}
	if single {
		outShape, fwShape = []int{C}, []int{T}
	}
	if f.outputPath != "" {
		if err := writeNpy(f.outputPath, out, outShape); err != nil {
			return err
		}
	}
	if f.fwPath != "" {
		if err := writeNpy(f.fwPath, fw, fwShape); err != nil {
			return err
		}
	}
	if f.outputPath != "" && !f.explain && !f.asJSON {
		return nil
	}
	probs := append([]float32(nil), out...)
	if !isProbs {
		core.SoftmaxRows(probs, B, C)
	}
	clips := describeClips(probs, fw, B, T, C, lengths, cfg.ClassNames, f.topK)
	if f.asJSON {
		type doc struct {
			Models     []string    `json:"models"`
			TTA        bool        `json:"tta"`
			Padding    string      `json:"padding"`
			ClassNames []string    `json:"class_names"`
			Clips      []clipGuess `json:"clips"`
		}
		if !f.explain {
			for i := range clips {
				clips[i].TopFrames = nil
			}
		}
		b, err := jsonIndent(doc{paths, f.tta, pad.String(), classNames(cfg.ClassNames, C), clips})
		if err != nil {
			return core.Wrap(core.KindInternal, err, "encoding JSON")
		}
		fmt.Fprintln(stdout, string(b))
		return nil
	}
	for _, c := range clips {
		fmt.Fprintf(stdout, "clip %d (%d frames): %s  p=%.3f  [%s]\n", c.Clip, c.Frames, c.Class, c.Probabilities[c.Predicted], c.probsText(classNames(cfg.ClassNames, C)))
		if f.explain {
			var parts []string
			for _, t := range c.TopFrames {
				parts = append(parts, fmt.Sprintf("#%d %.3f", t.Frame, t.Weight))
			}
			fmt.Fprintf(stdout, "  top frames by attention-pooling weight: %s\n", strings.Join(parts, ", "))
		}
	}
	return nil
}

type frameWeight struct {
	Frame  int     `json:"frame"`
	Weight float64 `json:"weight"`
}

type clipGuess struct {
	Clip          int           `json:"clip"`
	Frames        int           `json:"frames"`
	Predicted     int           `json:"predicted"`
	Class         string        `json:"class"`
	Probabilities []float64     `json:"probabilities"`
	TopFrames     []frameWeight `json:"top_frames,omitempty"`
}

func (c clipGuess) probsText(names []string) string {
	parts := make([]string, len(c.Probabilities))
	for i, p := range c.Probabilities {
		parts[i] = fmt.Sprintf("%s %.3f", names[i], p)
	}
	return strings.Join(parts, "  ")
}

// describeClips picks each clip's class and its top-k frames by attention-pooling weight.
func describeClips(probs, fw []float32, B, T, C int, lengths []int32, names []string, k int) []clipGuess {
	names = classNames(names, C)
	out := make([]clipGuess, B)
	for b := 0; b < B; b++ {
		n := T
		if lengths != nil {
			n = int(lengths[b])
		}
		g := clipGuess{Clip: b, Frames: n, Probabilities: make([]float64, C)}
		for c := 0; c < C; c++ {
			g.Probabilities[c] = float64(probs[b*C+c])
			if probs[b*C+c] > probs[b*C+g.Predicted] {
				g.Predicted = c
			}
		}
		g.Class = names[g.Predicted]
		for t := 0; t < n; t++ {
			g.TopFrames = append(g.TopFrames, frameWeight{t, float64(fw[b*T+t])})
		}
		sort.SliceStable(g.TopFrames, func(i, j int) bool { return g.TopFrames[i].Weight > g.TopFrames[j].Weight })
		g.TopFrames = g.TopFrames[:min(k, len(g.TopFrames))]
		out[b] = g
	}
	return out
}

// classNames returns the model's class names, or "0".."C-1".
func classNames(names []string, C int) []string {
	if len(names) == C {
		return names
	}
	out := make([]string, C)
	for i := range out {
		out[i] = fmt.Sprint(i)
	}
	return out
}

// readFeatures reads [B,T,F] (or [T,F], single) float32 features for a model taking F.
func readFeatures(path string, featureDim int) (x []float32, B, T int, single bool, err error) {
	xa, err := readNpy(path)
	if err != nil {
		return nil, 0, 0, false, err
	}
	var F int
	single = len(xa.Shape) == 2
	switch len(xa.Shape) {
	case 2:
		B, T, F = 1, xa.Shape[0], xa.Shape[1]
	case 3:
		B, T, F = xa.Shape[0], xa.Shape[1], xa.Shape[2]
	default:
		return nil, 0, 0, false, core.Errf(core.KindShape, "%s has shape %v, need [B,T,F] or [T,F]", path, xa.Shape)
	}
	if F != featureDim {
		return nil, 0, 0, false, core.Errf(core.KindShape, "%s has %d features per frame, the model takes %d", path, F, featureDim)
	}
	if B < 1 || T < 1 {
		return nil, 0, 0, false, core.Errf(core.KindShape, "%s has shape %v: no clips or no frames", path, xa.Shape)
	}
	x, err = xa.Float32()
	if err != nil {
		return nil, 0, 0, false, core.Wrap(core.KindFormat, err, "%s", path)
	}
	return x, B, T, single, nil
}

// readLengths reads [B] integer lengths in [1, T] (nil without a path).
func readLengths(path string, B, T int) ([]int32, error) {
	if path == "" {
		return nil, nil
	}
	la, err := readNpy(path)
	if err != nil {
		return nil, err
	}
	v, err := la.Ints()
	if err != nil {
		return nil, core.Wrap(core.KindFormat, err, "%s", path)
	}
	if len(la.Shape) != 1 || len(v) != B {
		return nil, core.Errf(core.KindShape, "%s has shape %v, need [%d] (one length per clip)", path, la.Shape, B)
	}
	lengths := make([]int32, B)
	for i, n := range v {
		if n < 1 || n > int64(T) {
			return nil, core.Errf(core.KindInvalidArgument, "%s: length %d of clip %d is outside [1, %d]", path, n, i, T)
		}
		lengths[i] = int32(n)
	}
	return lengths, nil
}
