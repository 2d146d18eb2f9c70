package core

import (
	"encoding/hex"
	"math"
	"math/rand/v2"
	"strconv"
)

// TrainerOptions configure a Trainer (one optimizer step per call).
type TrainerOptions struct {
	AdamW    AdamWConfig
	EtaMin   float64 // schedule floor η_min (1e-6)
	T0       int64   // first restart period (20)
	TMult    int64   // period multiplier (2)
	ClipNorm float64 // max gradient norm (1.0); ≤ 0 disables clipping (the non-finite check stays)
	Loss     LossConfig
	Padding  Padding
	Dropout  bool   // training-mode dropout (the reference trains with it on)
	Seed     uint64 // seeds the dropout stream
}

// DefaultTrainerOptions is the reference recipe (DESIGN §3), without class weights.
func DefaultTrainerOptions() TrainerOptions {
	return TrainerOptions{AdamW: DefaultAdamW(), EtaMin: 1e-6, T0: 20, TMult: 2, ClipNorm: 1,
		Loss: DefaultLossConfig(), Padding: PaddingMasked, Dropout: true, Seed: 42}
}

// Trainer does the reference recipe's optimizer steps on a model: LossAndGrad, gradient clipping,
// AdamW with the per-batch cosine schedule. It is the building block of Train and the "step"
// of the C and Python APIs for custom loops. Not safe for concurrent use; the model must not be
// used by others while Step runs.
type Trainer struct {
	Model *Model
	Grads *Grads
	Opt   *AdamW
	Sched *CosineWarmRestarts
	Opts  TrainerOptions

	pcg      *rand.PCG
	rng      *rand.Rand
	segments [][]float32

	// LastGradNorm and LastClipCoef describe the most recent step's clipping.
	LastGradNorm float32
	LastClipCoef float32
}

// NewTrainer prepares training of m.
func NewTrainer(m *Model, o TrainerOptions) (*Trainer, error) {
	if err := validateTrainerOptions(o, m.cfg.NumClasses); err != nil {
		return nil, err
	}
	t := &Trainer{Model: m, Grads: NewGrads(m), Opt: NewAdamW(o.AdamW, len(m.slab)),
		Sched: NewCosineWarmRestarts(o.AdamW.LR, o.EtaMin, o.T0, o.TMult), Opts: o}
	t.pcg = rand.NewPCG(o.Seed, 0x5eed7e3a9c01d2b3)
	t.rng = rand.New(t.pcg)
	off := 0
	for _, p := range m.params {
		t.segments = append(t.segments, t.Grads.Slab[off:off+len(p.Data)])
		off += len(p.Data)
	}
	return t, nil
}

func validateTrainerOptions(o TrainerOptions, C int) error {
	a := o.AdamW
	bad := func(name string, v float64) error {
		return Errf(KindInvalidArgument, "training option %s = %v out of range", name, v)
	}
	switch {
	case !(a.LR > 0) || math.IsInf(a.LR, 0):
		return bad("lr", a.LR)
	case !(a.WeightDecay >= 0) || math.IsInf(a.WeightDecay, 0):
		return bad("weight_decay", a.WeightDecay)
	case !(a.Beta1 >= 0 && a.Beta1 < 1):
		return bad("beta1", a.Beta1)
	case !(a.Beta2 >= 0 && a.Beta2 < 1):
		return bad("beta2", a.Beta2)
	case !(a.Eps > 0):
		return bad("eps", a.Eps)
	case !(o.EtaMin >= 0 && o.EtaMin <= a.LR):
		return bad("eta_min", o.EtaMin)
	case o.T0 < 1:
		return bad("t_0", float64(o.T0))
	case o.TMult < 1:
		return bad("t_mult", float64(o.TMult))
	case math.IsNaN(o.ClipNorm) || math.IsInf(o.ClipNorm, 0):
		return bad("clip_norm", o.ClipNorm)
	case !(o.Loss.Smoothing >= 0 && o.Loss.Smoothing < 1):
		return bad("label_smoothing", o.Loss.Smoothing)
	case !(o.Loss.Gamma >= 0) || math.IsInf(o.Loss.Gamma, 0):
		return bad("gamma", o.Loss.Gamma)
	case o.Loss.Kind != LossFocal && o.Loss.Kind != LossCrossEntropy:
		return bad("loss", float64(o.Loss.Kind))
	case o.Padding != PaddingMasked && o.Padding != PaddingReference:
		return bad("padding", float64(o.Padding))
	}
	if o.Loss.Alpha != nil {
		if len(o.Loss.Alpha) != C {
			return Errf(KindInvalidArgument, "training option alpha has %d class weights for %d classes", len(o.Loss.Alpha), C)
		}
		for c, v := range o.Loss.Alpha {
			if !(v >= 0) || math.IsInf(float64(v), 0) {
				return Errf(KindInvalidArgument, "training option alpha[%d] = %v must be finite and ≥ 0", c, v)
			}
		}
	}
	return nil
}

// LR is the learning rate the next step will use.
func (t *Trainer) LR() float64 { return t.Sched.LR() }

// Step does one optimizer step on a batch x [B, T, F] with optional lengths [B] and labels [B]
// and returns the batch loss (before the update). A non-finite loss or gradient norm is a
// KindNumeric error and leaves the weights, moments and schedule untouched.
func (t *Trainer) Step(x []float32, B, T int, lengths []int32, labels []int64) (float32, error) {
	if len(labels) != B {
		return 0, Errf(KindShape, "labels hold %d values for a batch of %d", len(labels), B)
	}
	for i, y := range labels {
		if y < 0 || y >= int64(t.Model.cfg.NumClasses) {
			return 0, Errf(KindInvalidArgument, "labels[%d] = %d out of range [0, %d)", i, y, t.Model.cfg.NumClasses)
		}
	}
	opt := TrainStepOptions{Padding: t.Opts.Padding, Dropout: t.Opts.Dropout, RNG: t.rng, Loss: t.Opts.Loss}
	loss, err := t.Model.LossAndGrad(x, B, T, lengths, labels, opt, t.Grads)
	if err != nil {
		return 0, err
	}
	if math.IsNaN(float64(loss)) || math.IsInf(float64(loss), 0) {
		return loss, Errf(KindNumeric, "training loss is %v: training diverged (no update applied)", loss)
	}
	if t.Opts.ClipNorm > 0 {
		t.LastGradNorm, t.LastClipCoef, err = ClipGradNorm(t.Grads.Slab, t.segments, t.Opts.ClipNorm)
	} else {
		t.LastGradNorm, t.LastClipCoef = GradNorm(t.segments), 1
		if math.IsNaN(float64(t.LastGradNorm)) || math.IsInf(float64(t.LastGradNorm), 0) {
			err = Errf(KindNumeric, "gradient norm is %v: training diverged (no update applied)", t.LastGradNorm)
		}
	}
	if err != nil {
		return loss, err
	}
	t.Opt.Update(t.Model.slab, t.Grads.Slab, t.Sched.LR())
	t.Sched.Step()
	return loss, nil
}

// rngState returns the random stream's state (PCG, 128 bits) as hex.
func (t *Trainer) rngState() string {
	b, _ := t.pcg.MarshalBinary()
	return hex.EncodeToString(b)
}

func (t *Trainer) setRNGState(s string) error {
	b, err := hex.DecodeString(s)
	if err != nil {
		return Wrap(KindFormat, err, "training state: rng")
	}
	var p rand.PCG // decoded aside, so that a bad state leaves the stream as it was
	if err := p.UnmarshalBinary(b); err != nil {
		return Wrap(KindFormat, err, "training state: rng")
	}
	*t.pcg = p
	return nil
}

// SetClassWeights sets the loss's class weights α (len = the model's classes; finite, ≥ 0) for
// later steps, as TrainerOptions.Loss.Alpha does; nil removes them (every class weighs 1). On
// an invalid vector (KindInvalidArgument) nothing changes. The weights are part of the options:
// SaveState does not save them.
func (t *Trainer) SetClassWeights(w []float32) error {
	o := t.Opts
	o.Loss.Alpha = nil
	if w != nil {
		o.Loss.Alpha = append([]float32(nil), w...)
	}
	if err := validateTrainerOptions(o, t.Model.cfg.NumClasses); err != nil {
		return err
	}
	t.Opts = o
	return nil
}

// trainerStateFormat marks a SaveState file (a training run's state file has no such key).
const trainerStateFormat = "libtemporal-trainer-state"

// SaveState writes the trainer's optimizer state to path, atomically, as safetensors: both AdamW
// moments of every parameter (named exp_avg.<param>, exp_avg_sq.<param>), and in metadata
// AdamW's step count, the schedule's position and the dropout stream. Saved together with the
// model (Model.SaveFile) at the same point, a new trainer on the reloaded model that loads this
// state (LoadState) continues bitwise as this one would. The options are not saved: the new
// trainer brings its own.
func (t *Trainer) SaveState(path string) error {
	md := t.stateMetadata()
	md["format"] = trainerStateFormat
	md["format_version"] = "1"
	return WriteSafetensorsFile(path, t.momentTensors(), md)
}

// LoadState restores the state SaveState wrote. The file must hold the moments of exactly this
// model's parameters (names and sizes): otherwise KindFormat, and the trainer is unchanged.
func (t *Trainer) LoadState(path string) error {
	s, err := ReadSafetensorsFile(path)
	if err != nil {
		return Wrap(KindOf(err), err, "trainer state")
	}
	if s.Metadata["format"] != trainerStateFormat {
		return Errf(KindFormat, "trainer state: %s is not a trainer state file (no format %q in its metadata)",
			path, trainerStateFormat)
	}
	return t.restoreState(s, path)
}

// momentTensors are the AdamW moments as named tensors, in parameter order.
func (t *Trainer) momentTensors() []Tensor {
	var ts []Tensor
	off := 0
	for _, p := range t.Model.params {
		n := len(p.Data)
		ts = append(ts, F32Tensor("exp_avg."+p.Name, t.Opt.ExpAvg[off:off+n], p.Shape...),
			F32Tensor("exp_avg_sq."+p.Name, t.Opt.ExpAvgSq[off:off+n], p.Shape...))
		off += n
	}
	return ts
}

// stateMetadata is the optimizer's scalar state: AdamW's step, the schedule's T_cur and T_i,
// the dropout stream.
func (t *Trainer) stateMetadata() map[string]string {
	return map[string]string{
		"adam_step": strconv.FormatInt(t.Opt.Step, 10),
		"T_cur":     strconv.FormatInt(t.Sched.TCur, 10),
		"T_i":       strconv.FormatInt(t.Sched.Ti, 10),
		"rng_state": t.rngState(),
	}
}

// restoreState sets the optimizer state from s (momentTensors and stateMetadata as written),
// after checking all of it: on any error (KindFormat, naming what) nothing has changed.
func (t *Trainer) restoreState(s *Safetensors, what string) error {
	type moment struct {
		src, dst []float32
	}
	var moves []moment
	off := 0
	for _, p := range t.Model.params {
		n := len(p.Data)
		for _, mv := range []struct {
			name string
			dst  []float32
		}{{"exp_avg.", t.Opt.ExpAvg[off : off+n]}, {"exp_avg_sq.", t.Opt.ExpAvgSq[off : off+n]}} {
			v, err := s.F32(mv.name + p.Name)
			if err != nil {
				return Wrap(KindFormat, err, "%s", what)
			}
			if len(v) != n {
				return Errf(KindFormat, "%s: %s%s has %d values, want %d", what, mv.name, p.Name, len(v), n)
			}
			moves = append(moves, moment{v, mv.dst})
		}
		off += n
	}
	md := s.Metadata
	var vals [3]int64
	for i, k := range []string{"adam_step", "T_cur", "T_i"} {
		v, err := strconv.ParseInt(md[k], 10, 64)
		if err != nil {
			return Errf(KindFormat, "%s: metadata %s = %q", what, k, md[k])
		}
		vals[i] = v
	}
	step, tcur, ti := vals[0], vals[1], vals[2]
	// Out of range would resume into a different run: T_i < 1 divides by zero in the schedule.
	if step < 0 || ti < 1 || tcur < 0 || tcur >= ti {
		return Errf(KindFormat, "%s: optimizer state out of range (adam_step %d, T_cur %d, T_i %d)", what, step, tcur, ti)
	}
	if err := t.setRNGState(md["rng_state"]); err != nil { // last check; changes only on success
		return Wrap(KindFormat, err, "%s", what)
	}
	for _, m := range moves {
		copy(m.dst, m.src)
	}
	t.Opt.Step, t.Sched.TCur, t.Sched.Ti = step, tcur, ti
	return nil
}
