package core

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"
)

// TrainConfig is a whole training run (DESIGN §3, all configurable).
type TrainConfig struct {
	// Model is the architecture. FeatureDim, NumClasses and ClassNames are taken from the
	// training set when zero or nil.
	Model Config
	Train Dataset
	Val   Dataset // nil: no validation; best.safetensors then follows the last epoch
	// OutDir receives best.safetensors, last-<step>.safetensors + last-<step>.train.safetensors
	// and checkpoint.json (the commit point).
	OutDir    string
	Epochs    int // maximum epochs (150)
	BatchSize int // 48
	Patience  int // early stopping: epochs without strict improvement of val accuracy (25); 0 = off
	Trainer   TrainerOptions
	// ClassWeights: Trainer.Loss.Alpha when set; otherwise α from the training labels, unless
	// NoClassWeights (then uniform sampling and no loss weights).
	NoClassWeights bool
	Augment        AugmentConfig
	// CheckpointEvery commits a mid-epoch checkpoint every so many steps (0: only at the end of
	// every epoch, which always happens).
	CheckpointEvery int
	// Resume continues from OutDir/checkpoint.json when it exists (a fresh run otherwise).
	Resume bool
	// InitSeed seeds the weights (Trainer.Seed when 0).
	InitSeed uint64
}

// DefaultTrainConfig is the reference recipe.
func DefaultTrainConfig() TrainConfig {
	return TrainConfig{Model: DefaultConfig(), Epochs: 150, BatchSize: 48, Patience: 25,
		Trainer: DefaultTrainerOptions(), Augment: DefaultAugment()}
}

// Progress is reported after every step (Phase "step") and every epoch (Phase "epoch").
type Progress struct {
	Phase           string        `json:"phase"`
	Epoch           int           `json:"epoch"` // 1-based
	Epochs          int           `json:"epochs"`
	Step            int64         `json:"step"` // optimizer steps done in the whole run
	StepInEpoch     int           `json:"step_in_epoch"`
	StepsPerEpoch   int           `json:"steps_per_epoch"`
	Loss            float64       `json:"loss"` // batch loss, or the epoch's mean batch loss
	LR              float64       `json:"lr"`   // lr of the step just done (epoch: of the next step)
	ValLoss         float64       `json:"val_loss"`
	ValAccuracy     float64       `json:"val_accuracy"`
	ValMacroF1      float64       `json:"val_macro_f1"`
	BestValAccuracy float64       `json:"best_val_accuracy"`
	BestEpoch       int           `json:"best_epoch"`
	Elapsed         time.Duration `json:"elapsed_ns"`
	ETA             time.Duration `json:"eta_ns"` // if every remaining epoch runs
}

// EpochRecord is one epoch of the training history.
type EpochRecord struct {
	Epoch       int     `json:"epoch"`
	Steps       int64   `json:"steps"`
	TrainLoss   float64 `json:"train_loss"`
	ValLoss     float64 `json:"val_loss"`
	ValAccuracy float64 `json:"val_accuracy"`
	ValMacroF1  float64 `json:"val_macro_f1"`
	LR          float64 `json:"lr"` // lr of the epoch's last step
}

// TrainResult summarises a finished run.
type TrainResult struct {
	Model           *Model // the weights after the last step done
	BestValAccuracy float64
	BestEpoch       int
	Epochs          int // epochs completed
	Steps           int64
	StoppedEarly    bool
	History         []EpochRecord
	BestPath        string
	LastPath        string
}

// trainState is what a checkpoint must hold, beyond the weights, to continue exactly.
type trainState struct {
	Dataset      string // fingerprint of the training set's labels and lengths
	Step         int64
	Epoch        int // epochs completed
	StepInEpoch  int // steps done in the epoch in progress (0: at an epoch boundary)
	EpochLossSum float64
	BestMetric   float64
	BestEpoch    int
	Patience     int // epochs since the last improvement
	History      []EpochRecord
	Done         bool
	Order        []int // the epoch in progress's draw order (StepInEpoch > 0)
}

// checkpointPointer is checkpoint.json.
type checkpointPointer struct {
	FormatVersion int    `json:"format_version"`
	Step          int64  `json:"step"`
	Epoch         int    `json:"epoch"`
	Model         string `json:"model"`
	TrainState    string `json:"train_state"`
	Best          string `json:"best,omitempty"`
	Done          bool   `json:"done"`
}

// Train runs the reference training loop: per epoch N clips drawn with replacement ∝ α[y],
// batches in draw order, augmentation, Trainer steps, validation, early stopping on strict
// improvement of validation accuracy, best.safetensors on improvement, and a committed
// checkpoint at the end of every epoch (and every CheckpointEvery steps). progress may be nil;
// returning false cancels (KindCancelled; the last committed checkpoint stays). A NaN loss or
// gradient stops with KindNumeric and also keeps the last committed checkpoint.
func Train(cfg TrainConfig, progress func(Progress) bool) (*TrainResult, error) {
	if cfg.Train == nil {
		return nil, Errf(KindInvalidArgument, "train: no training set")
	}
	if cfg.OutDir == "" {
		return nil, Errf(KindInvalidArgument, "train: no output directory")
	}
	if cfg.Epochs < 1 || cfg.BatchSize < 1 || cfg.Patience < 0 || cfg.CheckpointEvery < 0 {
		return nil, Errf(KindInvalidArgument, "train: epochs %d, batch size %d, patience %d, checkpoint_every %d out of range",
			cfg.Epochs, cfg.BatchSize, cfg.Patience, cfg.CheckpointEvery)
	}
	tr := cfg.Train
	N, F, C := tr.Len(), tr.FeatureDim(), tr.NumClasses()
	if N == 0 {
		return nil, Errf(KindInvalidArgument, "train: the training set is empty")
	}
	mc := cfg.Model
	if mc.FeatureDim == 0 {
		mc.FeatureDim = F
	}
	if mc.NumClasses == 0 {
		mc.NumClasses = C
	}
	if mc.ClassNames == nil {
		mc.ClassNames = tr.ClassNames()
	}
	if mc.FeatureDim != F {
		return nil, Errf(KindShape, "train: model feature_dim %d, training set %d", mc.FeatureDim, F)
	}
	if mc.NumClasses != C {
		return nil, Errf(KindShape, "train: model has %d classes, training set %d", mc.NumClasses, C)
	}
	if v := cfg.Val; v != nil {
		if v.Len() == 0 {
			return nil, Errf(KindInvalidArgument, "train: the validation set is empty")
		}
		if v.FeatureDim() != F {
			return nil, Errf(KindShape, "train: validation feature_dim %d, training %d", v.FeatureDim(), F)
		}
		if v.NumClasses() != C {
			return nil, Errf(KindShape, "train: validation set has %d classes, training set %d", v.NumClasses(), C)
		}
	}
	to := cfg.Trainer
	if to.Loss.Alpha == nil && !cfg.NoClassWeights {
		to.Loss.Alpha = ClassWeights(tr.Labels(), C)
	}
	sampleWeights := to.Loss.Alpha
	if sampleWeights == nil {
		sampleWeights = make([]float32, C)
		for i := range sampleWeights {
			sampleWeights[i] = 1
		}
	}
	if err := validateAugment(cfg.Augment); err != nil {
		return nil, err
	}
	fingerprint := datasetFingerprint(tr)
	if err := os.MkdirAll(cfg.OutDir, 0o755); err != nil {
		return nil, Wrap(KindIO, err, "train: output directory")
	}

	// A fresh start or the committed checkpoint.
	var model *Model
	var st trainState
	var t *Trainer
	var err error
	resumed := false
	if cfg.Resume {
		model, t, st, resumed, err = loadCheckpointPair(cfg.OutDir, mc, to)
		if err != nil {
			return nil, err
		}
	}
	if resumed && st.Dataset != fingerprint {
		return nil, Errf(KindInvalidArgument, "resume: the training set differs from the one this checkpoint was trained on (labels or lengths changed); an exact resume needs the same data")
	}
	st.Dataset = fingerprint
	if resumed {
		// Whether the run is finished follows this call's limits: a finished run can be extended
		// with more epochs or patience.
		st.Done = (cfg.Patience > 0 && cfg.Val != nil && st.Patience >= cfg.Patience) || st.Epoch >= cfg.Epochs
	} else {
		seed := cfg.InitSeed
		if seed == 0 {
			seed = to.Seed
		}
		if model, err = NewModelInit(mc, seed); err != nil {
			return nil, err
		}
		if t, err = NewTrainer(model, to); err != nil {
			return nil, err
		}
	}

	sampler := NewWeightedSampler(tr.Labels(), sampleWeights)
	steps := (N + cfg.BatchSize - 1) / cfg.BatchSize
	aug := cfg.Augment
	lengths := tr.Lengths()
	Tmax := tr.MaxFrames()
	raw := make([]float32, cfg.BatchSize*Tmax*F)
	packed := make([]float32, cfg.BatchSize*Tmax*F)
	blen := make([]int32, cfg.BatchSize)
	blab := make([]int64, cfg.BatchSize)
	order := make([]int, N)
	start := time.Now()
	stepsAtStart := st.Step
	bestPath := filepath.Join(cfg.OutDir, "best.safetensors")

	eta := func() time.Duration {
		done := st.Step - stepsAtStart
		if done <= 0 {
			return 0
		}
		left := int64(cfg.Epochs-st.Epoch)*int64(steps) - int64(st.StepInEpoch)
		return time.Duration(float64(time.Since(start)) / float64(done) * float64(left))
	}
	result := func() *TrainResult {
		r := &TrainResult{Model: model, BestValAccuracy: st.BestMetric, BestEpoch: st.BestEpoch,
			Epochs: st.Epoch, Steps: st.Step, History: st.History, BestPath: bestPath,
			StoppedEarly: st.Done && st.Epoch < cfg.Epochs,
			LastPath:     filepath.Join(cfg.OutDir, fmt.Sprintf("last-%d.safetensors", st.Step))}
		return r
	}

	for !st.Done && st.Epoch < cfg.Epochs {
		if st.StepInEpoch == 0 {
			sampler.Draw(t.rng, order)
			st.EpochLossSum = 0
		} else {
			if len(st.Order) != N {
				return nil, Errf(KindFormat, "train: checkpoint's epoch order has %d entries, the training set %d clips", len(st.Order), N)
			}
			copy(order, st.Order)
		}
		batches := Batches(order, cfg.BatchSize)
		for k := st.StepInEpoch; k < len(batches); k++ {
			idx := batches[k]
			B := len(idx)
			T := 1
			for j, i := range idx {
				T = max(T, int(lengths[i]))
				blab[j] = tr.Labels()[i]
			}
			if err := tr.ReadClips(idx, T, raw); err != nil {
				return nil, err
			}
			Tp := 1
			for j, i := range idx {
				blen[j] = int32(aug.AugmentClip(t.rng, raw[j*T*F:(j+1)*T*F], int(lengths[i]), F))
				Tp = max(Tp, int(blen[j]))
			}
			x := raw[:B*T*F]
			if Tp < T { // augmentation shortened every clip: pack to [B, Tp, F]
				for j := 0; j < B; j++ {
					copy(packed[j*Tp*F:(j+1)*Tp*F], raw[j*T*F:j*T*F+Tp*F])
				}
				x = packed[:B*Tp*F]
			}
			lr := t.LR()
			loss, err := t.Step(x, B, Tp, blen[:B], blab[:B])
			if err != nil {
				if KindOf(err) == KindNumeric {
					return nil, Wrap(KindNumeric, err, "train: epoch %d step %d (last good checkpoint kept in %s)", st.Epoch+1, st.Step+1, cfg.OutDir)
				}
				return nil, err
			}
			st.Step++
			st.EpochLossSum += float64(loss)
			st.StepInEpoch = k + 1
			if progress != nil && !progress(Progress{Phase: "step", Epoch: st.Epoch + 1, Epochs: cfg.Epochs, Step: st.Step,
				StepInEpoch: k + 1, StepsPerEpoch: steps, Loss: float64(loss), LR: lr,
				BestValAccuracy: st.BestMetric, BestEpoch: st.BestEpoch, Elapsed: time.Since(start), ETA: eta()}) {
				return result(), Errf(KindCancelled, "train: cancelled at step %d (last committed checkpoint kept)", st.Step)
			}
			if cfg.CheckpointEvery > 0 && st.Step%int64(cfg.CheckpointEvery) == 0 && k+1 < len(batches) {
				st.Order = order
				if err := commitCheckpoint(cfg.OutDir, model, t, &st); err != nil {
					return nil, err
				}
			}
		}
		// End of epoch: validate, early stopping, best, commit.
		rec := EpochRecord{Epoch: st.Epoch + 1, Steps: st.Step, TrainLoss: st.EpochLossSum / float64(len(batches)),
			LR: t.Sched.lastLR()}
		improved := false
		if cfg.Val != nil {
			met, _, err := Evaluate([]*Model{model}, cfg.Val, EvalOptions{Padding: to.Padding, Loss: to.Loss, WantLoss: true})
			if err != nil {
				return nil, err
			}
			rec.ValLoss, rec.ValAccuracy, rec.ValMacroF1 = met.Loss, met.Accuracy, met.MacroF1
			if math.IsNaN(rec.ValLoss) || math.IsInf(rec.ValLoss, 0) {
				rec.ValLoss = -1 // JSON has no NaN; the loss of a diverging model is reported as −1
			}
			if met.Accuracy > st.BestMetric {
				st.BestMetric, st.BestEpoch, st.Patience, improved = met.Accuracy, st.Epoch+1, 0, true
			} else {
				st.Patience++
			}
		} else {
			improved = true
			st.BestEpoch = st.Epoch + 1
		}
		st.History = append(st.History, rec)
		st.Epoch++
		st.StepInEpoch, st.Order, st.EpochLossSum = 0, nil, 0
		if cfg.Patience > 0 && cfg.Val != nil && st.Patience >= cfg.Patience {
			st.Done = true
		}
		if st.Epoch >= cfg.Epochs {
			st.Done = true
		}
		if _, serr := os.Stat(bestPath); improved || errors.Is(serr, os.ErrNotExist) {
			// best starts at 0 with strict improvement (the reference); an all-zero run still
			// leaves a best.safetensors (its first epoch) so there is always a model to use.
			if err := model.SaveFile(bestPath); err != nil {
				return nil, err
			}
		}
		if err := commitCheckpoint(cfg.OutDir, model, t, &st); err != nil {
			return nil, err
		}
		if progress != nil && !progress(Progress{Phase: "epoch", Epoch: st.Epoch, Epochs: cfg.Epochs, Step: st.Step,
			StepInEpoch: steps, StepsPerEpoch: steps, Loss: rec.TrainLoss, LR: t.LR(), ValLoss: rec.ValLoss,
			ValAccuracy: rec.ValAccuracy, ValMacroF1: rec.ValMacroF1, BestValAccuracy: st.BestMetric,
			BestEpoch: st.BestEpoch, Elapsed: time.Since(start), ETA: eta()}) {
			return result(), Errf(KindCancelled, "train: cancelled after epoch %d (checkpoint committed)", st.Epoch)
		}
	}
	return result(), nil
}

// datasetFingerprint is a SHA-256 of the training set's size, labels and lengths: enough to catch
// resuming on other data (features are not hashed: that would read the whole set).
func datasetFingerprint(d Dataset) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d %d %d %d;", d.Len(), d.MaxFrames(), d.FeatureDim(), d.NumClasses())
	h.Write(bytesOf(d.Labels()))
	h.Write(bytesOf(d.Lengths()))
	return hex.EncodeToString(h.Sum(nil))
}

func validateAugment(a AugmentConfig) error {
	p := func(v float64) bool { return v >= 0 && v <= 1 }
	if !a.Enabled {
		return nil
	}
	if !p(a.CropProb) || !p(a.ShiftProb) || !p(a.NoiseProb) || !(a.CropMin > 0 && a.CropMin <= 1) ||
		a.MaxShift < 0 || a.MinFrames < 1 || !(a.NoiseStd >= 0) || math.IsInf(a.NoiseStd, 0) {
		return Errf(KindInvalidArgument, "train: augmentation settings out of range: %+v", a)
	}
	return nil
}

// lastLR is the lr of the step just done (the schedule has already advanced past it).
func (s *CosineWarmRestarts) lastLR() float64 {
	p := *s
	if p.TCur == 0 && p.Ti > p.T0 { // just wrapped: undo the restart
		p.Ti /= p.TMult
		p.TCur = p.Ti - 1
	} else if p.TCur > 0 {
		p.TCur--
	} else {
		return p.BaseLR
	}
	return p.LR()
}

var lastRe = regexp.MustCompile(`^last-([0-9]+)(\.train)?\.safetensors$`)

// staleTempRe matches the temporary files WriteFileAtomic makes for the files of a run
// directory. A process killed during a write leaves one behind (as big as a checkpoint); after a
// commit no writer of this directory is running (one training run per directory), so every
// match is stale and is pruned with the old pairs.
var staleTempRe = regexp.MustCompile(`^\.(last-[0-9]+(\.train)?\.safetensors|best\.safetensors|checkpoint\.json)\.tmp-[0-9]+$`)

// commitCheckpoint writes last-<step>.safetensors and last-<step>.train.safetensors, then
// checkpoint.json naming them (atomically: the commit point), then prunes every other pair.
func commitCheckpoint(dir string, m *Model, t *Trainer, st *trainState) error {
	base := fmt.Sprintf("last-%d", st.Step)
	mp := filepath.Join(dir, base+".safetensors")
	sp := filepath.Join(dir, base+".train.safetensors")
	if err := m.SaveFile(mp); err != nil {
		return err
	}
	if err := WriteFileAtomic(sp, func(w io.Writer) error { return writeTrainState(w, m, t, st) }); err != nil {
		return err
	}
	ptr := checkpointPointer{FormatVersion: 1, Step: st.Step, Epoch: st.Epoch, Model: base + ".safetensors",
		TrainState: base + ".train.safetensors", Best: "best.safetensors", Done: st.Done}
	b, _ := json.MarshalIndent(ptr, "", "  ")
	if err := WriteFileAtomic(filepath.Join(dir, "checkpoint.json"), func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	}); err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil // pruning is best effort; the commit stands
	}
	for _, e := range entries {
		if mm := lastRe.FindStringSubmatch(e.Name()); mm != nil && mm[1] != strconv.FormatInt(st.Step, 10) {
			os.Remove(filepath.Join(dir, e.Name()))
		}
		if staleTempRe.MatchString(e.Name()) {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	return nil
}

// writeTrainState writes the AdamW moments (exp_avg.<param>, exp_avg_sq.<param>) and, when
// mid-epoch, the epoch's draw order; the rest in metadata (all strings, floats round-tripping).
func writeTrainState(w io.Writer, m *Model, t *Trainer, st *trainState) error {
	ts := t.momentTensors()
	if st.StepInEpoch > 0 {
		o := make([]int64, len(st.Order))
		for i, v := range st.Order {
			o[i] = int64(v)
		}
		ts = append(ts, Tensor{Name: "epoch_order", DType: "I64", Shape: []int{len(o)}, Data: bytesOf(o)})
	}
	hist, err := json.Marshal(st.History)
	if err != nil {
		return Wrap(KindInternal, err, "training state: history")
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	md := t.stateMetadata() // adam_step, T_cur, T_i, rng_state
	for k, v := range map[string]string{
		"step":             strconv.FormatInt(st.Step, 10),
		"epoch":            strconv.Itoa(st.Epoch),
		"step_in_epoch":    strconv.Itoa(st.StepInEpoch),
		"epoch_loss_sum":   f(st.EpochLossSum),
		"best_metric":      f(st.BestMetric),
		"best_epoch":       strconv.Itoa(st.BestEpoch),
		"patience_counter": strconv.Itoa(st.Patience),
		"history":          string(hist),
		"done":             strconv.FormatBool(st.Done),
		"format_version":   "1",
		"dataset":          st.Dataset,
	} {
		md[k] = v
	}
	return WriteSafetensors(w, ts, md)
}

// loadCheckpointPair reads checkpoint.json and the pair it names. found is false when dir has no
// checkpoint.json (a fresh start).
func loadCheckpointPair(dir string, mc Config, to TrainerOptions) (m *Model, t *Trainer, st trainState, found bool, err error) {
	b, err := os.ReadFile(filepath.Join(dir, "checkpoint.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, st, false, nil
	}
	if err != nil {
		return nil, nil, st, false, Wrap(KindIO, err, "resume")
	}
	var ptr checkpointPointer
	if err := json.Unmarshal(b, &ptr); err != nil {
		return nil, nil, st, false, Wrap(KindFormat, err, "resume: %s/checkpoint.json", dir)
	}
	if filepath.Base(ptr.Model) != ptr.Model || filepath.Base(ptr.TrainState) != ptr.TrainState {
		return nil, nil, st, false, Errf(KindFormat, "resume: checkpoint.json names files outside %s", dir)
	}
	m, err = LoadFile(filepath.Join(dir, ptr.Model), LoadOptions{NumHeads: mc.NumHeads})
	if err != nil {
		return nil, nil, st, false, Wrap(KindOf(err), err, "resume")
	}
	got := m.Config()
	if got.NumParams() != mc.NumParams() || got.FeatureDim != mc.FeatureDim || got.HiddenDim != mc.HiddenDim ||
		got.NumLayers != mc.NumLayers || got.Bidirectional != mc.Bidirectional || got.NumClasses != mc.NumClasses {
		return nil, nil, st, false, Errf(KindInvalidArgument, "resume: the checkpoint's model (%+v) differs from the requested config", got)
	}
	// The saved config (dropout, class names, widths) is the model's; keep it.
	if t, err = NewTrainer(m, to); err != nil {
		return nil, nil, st, false, err
	}
	s, err := ReadSafetensorsFile(filepath.Join(dir, ptr.TrainState))
	if err != nil {
		return nil, nil, st, false, Wrap(KindOf(err), err, "resume")
	}
	if err := t.restoreState(s, "resume: "+ptr.TrainState); err != nil { // moments, AdamW, schedule, rng
		return nil, nil, st, false, err
	}
	md := s.Metadata
	var perr error
	i64 := func(k string) int64 {
		v, err := strconv.ParseInt(md[k], 10, 64)
		if err != nil && perr == nil {
			perr = Errf(KindFormat, "resume: %s: metadata %s = %q", ptr.TrainState, k, md[k])
		}
		return v
	}
	f64 := func(k string) float64 {
		v, err := strconv.ParseFloat(md[k], 64)
		if err != nil && perr == nil {
			perr = Errf(KindFormat, "resume: %s: metadata %s = %q", ptr.TrainState, k, md[k])
		}
		return v
	}
	st.Step = i64("step")
	st.Epoch = int(i64("epoch"))
	st.StepInEpoch = int(i64("step_in_epoch"))
	st.EpochLossSum = f64("epoch_loss_sum")
	st.BestMetric = f64("best_metric")
	st.BestEpoch = int(i64("best_epoch"))
	st.Patience = int(i64("patience_counter"))
	st.Done = md["done"] == "true"
	st.Dataset = md["dataset"]
	if perr != nil {
		return nil, nil, st, false, perr
	}
	// Counters out of range would resume into a different run: a negative epoch trains more
	// epochs than asked (math.MinInt64: practically forever), T_i < 1 divides by zero in the
	// schedule. A damaged state is a format error, like a damaged file.
	if st.Step < 0 || st.Epoch < 0 || st.StepInEpoch < 0 || st.BestEpoch < 0 ||
		st.BestEpoch > st.Epoch || st.Patience < 0 || math.IsNaN(st.EpochLossSum) || math.IsInf(st.EpochLossSum, 0) ||
		math.IsNaN(st.BestMetric) || st.BestMetric < 0 || st.BestMetric > 1 {
		return nil, nil, st, false, Errf(KindFormat, "resume: %s: training state out of range (step %d, adam_step %d, epoch %d, step_in_epoch %d, T_cur %d, T_i %d, best_epoch %d, best_metric %v, patience_counter %d, epoch_loss_sum %v)",
			ptr.TrainState, st.Step, t.Opt.Step, st.Epoch, st.StepInEpoch, t.Sched.TCur, t.Sched.Ti, st.BestEpoch, st.BestMetric, st.Patience, st.EpochLossSum)
	}
	if err := json.Unmarshal([]byte(md["history"]), &st.History); err != nil {
		return nil, nil, st, false, Wrap(KindFormat, err, "resume: %s: history", ptr.TrainState)
	}
	if st.Step != ptr.Step {
		return nil, nil, st, false, Errf(KindFormat, "resume: %s records step %d, checkpoint.json %d", ptr.TrainState, st.Step, ptr.Step)
	}
	if st.StepInEpoch > 0 {
		o, err := s.I64("epoch_order")
		if err != nil {
			return nil, nil, st, false, Wrap(KindFormat, err, "resume: %s", ptr.TrainState)
		}
		st.Order = make([]int, len(o))
		for i, v := range o {
			if v < 0 || v >= int64(len(o)) {
				return nil, nil, st, false, Errf(KindFormat, "resume: %s: epoch_order[%d] = %d out of range", ptr.TrainState, i, v)
			}
			st.Order[i] = int(v)
		}
	}
	return m, t, st, true, nil
}
