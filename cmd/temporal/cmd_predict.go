package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"libtemporal/core"
	"libtemporal/cuda"
)

const predictArgs = "--model M.safetensors|DIR [--model ...] --input X.npy [--output Y.npy] [flags]"

type predictFlags struct {
	models                                            multiFlag
	input, data, lengths, padding, fwPath, outputPath string
	device, precision                                 string
	heads, topK                                       int
	probs, tta, explain, asJSON                       bool
}

func runPredict(argv []string, stdout, stderr io.Writer) int {
	fs := newFlags("predict", predictArgs)
	var f predictFlags
	fs.Var(&f.models, "model", "checkpoint or run directory, required; several (repeat or comma-separate, or a train --seeds directory) make an ensemble: mean of softmax")
	fs.StringVar(&f.input, "input", "", "features: float32 .npy [B,T,F], or [T,F] for one clip; required")
	fs.StringVar(&f.data, "data", "", "instead of --input: every clip of an HDF5 dataset (reference layout), with its lengths; lines show the true class")
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
	fs.StringVar(&f.device, "device", "cpu", "cpu, cuda or cuda:N (the N-th visible GPU; one model, no --tta)")
	fs.StringVar(&f.precision, "precision", "float32", "float32 (exact), or bf16: the LSTM's recurrent weights rounded to bfloat16, float32 accumulation (CPU; faster at batch 1, logits within ~2e-3 of their largest magnitude of float32's)")
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
	if (f.input == "") == (f.data == "") {
		return userErr("--input is required (or --data for an HDF5 dataset, not both)")
	}
	if f.data != "" && f.lengths != "" {
		return userErr("--lengths goes with --input; a dataset carries its own")
	}
	if f.topK < 1 {
		return userErr("--top-k must be at least 1, not %d", f.topK)
	}
	pad, err := core.ParsePadding(f.padding)
	if err != nil {
		return userErr("--padding must be masked or reference, not %q", f.padding)
	}
	prec, err := core.ParsePrecision(f.precision)
	if err != nil || f.precision == "" {
		return userErr("--precision must be float32 or bf16, not %q", f.precision)
	}
	if prec != core.PrecisionFloat32 && f.device != "cpu" {
		return userErr("--precision %s is a CPU mode: use it without --device %s", f.precision, f.device)
	}
	paths, err := expandModels(f.models)
	if err != nil {
		return err
	}
	ms, err := loadModels(paths, f.heads)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if err := m.SetPrecision(prec); err != nil {
			return err
		}
	}
	var fwd forwarder = ms[0]
	if ord, err := cuda.ParseDevice(f.device); err != nil {
		return err
	} else if ord >= 0 {
		if len(ms) > 1 || f.tta {
			return userErr("--device %s runs one model without --tta (ensembles and TTA run on the CPU)", f.device)
		}
		g, err := cuda.NewModel(ms[0], ord)
		if err != nil {
			return err
		}
		defer g.Close()
		fwd = g
	}
	cfg := ms[0].Config()
	var x []float32
	var B, T int
	var single bool
	var lengths []int32
	var truth []string // true class names of dataset clips
	if f.data != "" {
		if x, B, T, lengths, truth, err = readDataset(f.data, cfg.FeatureDim); err != nil {
			return err
		}
	} else {
		if x, B, T, single, err = readFeatures(f.input, cfg.FeatureDim); err != nil {
			return err
		}
		if lengths, err = readLengths(f.lengths, B, T); err != nil {
			return err
		}
	}
	C, F := cfg.NumClasses, cfg.FeatureDim
	fw := make([]float32, B*T) // for --explain and --frame-weights
	out := make([]float32, B*C)
	isProbs := f.probs || f.tta || len(ms) > 1
	// An .npy input is one batch (its padding semantics are the caller's); a dataset runs in
	// batches of 64 clips, as eval does.
	chunk := B
	if f.data != "" {
		chunk = 64
	}
	for lo := 0; lo < B; lo += chunk {
		hi := min(lo+chunk, B)
		xb, lb := x[lo*T*F:hi*T*F], []int32(nil)
		if lengths != nil {
			lb = lengths[lo:hi]
		}
		if err := predictBatch(ms, fwd, xb, hi-lo, T, lb, pad, f.tta, f.probs, out[lo*C:hi*C], fw[lo*T:hi*T]); err != nil {
			return err
		}
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
		for i := range clips {
			if !f.explain {
				clips[i].TopFrames = nil
			}
			if truth != nil {
				clips[i].True = truth[i]
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
		label := ""
		if truth != nil {
			label = ", true " + truth[c.Clip]
		}
		fmt.Fprintf(stdout, "clip %d (%d frames%s): %s  p=%.3f  [%s]\n", c.Clip, c.Frames, label, c.Class, c.Probabilities[c.Predicted], c.probsText(classNames(cfg.ClassNames, C)))
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
	True          string        `json:"true_class,omitempty"` // --data: the dataset's label
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

// maxPredictData bounds what predict --data reads into memory (float32 values: 4 GiB).
const maxPredictData = 1 << 30

// readDataset reads every clip of an HDF5 dataset as one zero-padded batch [N, T, F] with its
// lengths and the true class names.
func readDataset(path string, featureDim int) (x []float32, B, T int, lengths []int32, truth []string, err error) {
	d, err := core.OpenHDF5Dataset(path)
	if err != nil {
		return nil, 0, 0, nil, nil, err
	}
	defer d.Close()
	if d.FeatureDim() != featureDim {
		return nil, 0, 0, nil, nil, core.Errf(core.KindShape, "%s has %d features per frame, the model takes %d", path, d.FeatureDim(), featureDim)
	}
	B = d.Len()
	if B == 0 {
		return nil, 0, 0, nil, nil, core.Errf(core.KindShape, "%s holds no clips", path)
	}
	lengths = append([]int32(nil), d.Lengths()...)
	T = 1
	for _, n := range lengths {
		T = max(T, int(n))
	}
	if int64(B)*int64(T)*int64(featureDim) > maxPredictData {
		return nil, 0, 0, nil, nil, core.Errf(core.KindOutOfMemory, "%s: %d clips of up to %d frames are more than predict reads at once; use eval, or split the set", path, B, T)
	}
	idx := make([]int, B)
	for i := range idx {
		idx[i] = i
	}
	x = make([]float32, B*T*featureDim)
	if err := d.ReadClips(idx, T, x); err != nil {
		return nil, 0, 0, nil, nil, err
	}
	names := d.ClassNames()
	for _, y := range d.Labels() {
		truth = append(truth, className(names, int(y)))
	}
	return x, B, T, lengths, truth, nil
}

// forwarder is a model on its device: *core.Model (CPU) or *cuda.Model.
type forwarder interface {
	Forward(x []float32, B, T int, lengths []int32, pad core.Padding, logits, frameWeights []float32) error
}

// predictBatch writes a batch's logits (probabilities with probs) for one model (through fwd, on
// its device), or the ensemble's and/or TTA's probabilities, into out [B, C], and the (mean)
// frame weights into fw.
func predictBatch(ms []*core.Model, fwd forwarder, x []float32, B, T int, lengths []int32, pad core.Padding, tta, probs bool, out, fw []float32) error {
	if len(ms) == 1 && !tta {
		if err := fwd.Forward(x, B, T, lengths, pad, out, fw); err != nil {
			return err
		}
		if probs {
			core.SoftmaxRows(out, B, ms[0].Config().NumClasses)
		}
		return nil
	}
	p, err := core.EnsemblePredict(ms, x, B, T, lengths, pad, core.EnsembleOptions{TTA: tta, FrameWeights: fw})
	if err != nil {
		return err
	}
	copy(out, p)
	return nil
}
