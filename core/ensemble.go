package core

import "fmt"

// EnsembleOptions control EnsemblePredict and EvaluateEnsemble.
type EnsembleOptions struct {
	// TTA averages each member's softmax over the test-time augmentations of DESIGN §3 first.
	TTA bool
	// FrameWeights, nil or [B, T], receives the members' mean attention-pooling weights of the
	// original clips (EnsemblePredict only).
	FrameWeights []float32
}

// PredictProbs writes the class probabilities [B, C] of one model into probs: softmax of the
// logits, or with tta the TTA mean of softmax. frameWeights as for Forward.
func (m *Model) PredictProbs(x []float32, B, T int, lengths []int32, pad Padding, tta bool, probs, frameWeights []float32) error {
	if tta {
		return m.PredictTTA(x, B, T, lengths, pad, probs, frameWeights)
	}
	if err := m.Forward(x, B, T, lengths, pad, probs, frameWeights); err != nil {
		return err
	}
	SoftmaxRows(probs, B, m.cfg.NumClasses)
	return nil
}

// checkEnsemble requires at least one model and the same feature_dim and classes in all.
func checkEnsemble(models []*Model) error {
	if len(models) == 0 {
		return Errf(KindInvalidArgument, "ensemble: no model")
	}
	c0 := models[0].cfg
	for i, m := range models[1:] {
		if m.cfg.FeatureDim != c0.FeatureDim || m.cfg.NumClasses != c0.NumClasses {
			return Errf(KindShape, "ensemble: model %d takes feature_dim %d with %d classes, model 0 feature_dim %d with %d",
				i+1, m.cfg.FeatureDim, m.cfg.NumClasses, c0.FeatureDim, c0.NumClasses)
		}
	}
	return nil
}

// EnsemblePredict returns the ensemble's class probabilities [B, C] for x [B, T, F]: the mean
// over models of each model's softmax (DESIGN §3: K models with seeds 42+i, inference averages
// softmax), each computed as PredictProbs does (with TTA when opt.TTA). The mean is accumulated in
// float64 and rounded once.
func EnsemblePredict(models []*Model, x []float32, B, T int, lengths []int32, pad Padding, opt EnsembleOptions) ([]float32, error) {
	if err := checkEnsemble(models); err != nil {
		return nil, err
	}
	C := models[0].cfg.NumClasses
	// Shapes, lengths and buffers are checked before anything is allocated from them.
	if _, err := models[0].checkForward(len(x), B, T, lengths, pad, B*C, opt.FrameWeights); err != nil {
		return nil, err
	}
	acc := make([]float64, B*C)
	probs := make([]float32, B*C)
	var fw []float32
	var fwAcc []float64
	if opt.FrameWeights != nil {
		fw = make([]float32, B*T)
		fwAcc = make([]float64, B*T)
	}
	for _, m := range models {
		if err := m.PredictProbs(x, B, T, lengths, pad, opt.TTA, probs, fw); err != nil {
			return nil, err
		}
		for i, p := range probs {
			acc[i] += float64(p)
		}
		for i, w := range fw {
			fwAcc[i] += float64(w)
		}
	}
	K := float64(len(models))
	for i := range probs {
		probs[i] = float32(acc[i] / K)
	}
	for i := range fwAcc {
		opt.FrameWeights[i] = float32(fwAcc[i] / K)
	}
	return probs, nil
}

// CollapseShare is the rule for a collapsed model: it predicts one class for at least this share
// of the clips while no class makes up that share of the true labels.
const CollapseShare = 0.95

// IsCollapsed applies the CollapseShare rule to one model's metrics.
func IsCollapsed(m Metrics) bool {
	if m.N == 0 {
		return false
	}
	topPred, topTrue := 0, 0
	for c := range m.Confusion {
		col := 0
		for k := range m.Confusion {
			col += m.Confusion[k][c]
		}
		topPred = max(topPred, col)
		topTrue = max(topTrue, m.Support[c])
	}
	n := float64(m.N)
	return float64(topPred)/n >= CollapseShare && float64(topTrue)/n < CollapseShare
}

// EnsembleEval is the result of EvaluateEnsemble.
type EnsembleEval struct {
	Metrics   Metrics   // the ensemble of the members kept
	Pred      []int64   // the ensemble's prediction per clip
	Probs     []float32 // the ensemble's probabilities [N, C]
	Members   []Metrics // each member alone
	Collapsed []bool    // each member by IsCollapsed
	Used      []bool    // the members in the ensemble (all, unless dropCollapsed left some out)
}

// EvaluateEnsemble runs every model over every clip of d once (batches of bs, 64 when ≤ 0),
// scores each member alone and the ensemble (argmax of the mean of the members' probabilities).
// With dropCollapsed, members that IsCollapsed flags are left out of the ensemble; it is an error
// when that leaves none.
func EvaluateEnsemble(models []*Model, d Dataset, pad Padding, bs int, opt EnsembleOptions, dropCollapsed bool) (*EnsembleEval, error) {
	if err := checkEnsemble(models); err != nil {
		return nil, err
	}
	cfg := models[0].cfg
	C := cfg.NumClasses
	if cfg.FeatureDim != d.FeatureDim() {
		return nil, Errf(KindShape, "evaluate: the model takes feature_dim %d, the dataset has %d", cfg.FeatureDim, d.FeatureDim())
	}
	if d.NumClasses() > C {
		return nil, Errf(KindShape, "evaluate: the dataset has %d classes, the model %d", d.NumClasses(), C)
	}
	if bs <= 0 {
		bs = 64
	}
	N := d.Len()
	labels, lengths := d.Labels(), d.Lengths()
	K := len(models)
	member := make([][]float32, K)
	for k := range member {
		member[k] = make([]float32, N*C)
	}
	var x []float32
	idx := make([]int, 0, bs)
	for lo := 0; lo < N; lo += bs {
		hi := min(lo+bs, N)
		B := hi - lo
		T, err := readBatch(d, lengths, lo, hi, &idx, &x)
		if err != nil {
			return nil, err
		}
		for k, m := range models {
			if err := m.PredictProbs(x, B, T, lengths[lo:hi], pad, opt.TTA, member[k][lo*C:hi*C], nil); err != nil {
				return nil, err
			}
		}
	}
	r := &EnsembleEval{Members: make([]Metrics, K), Collapsed: make([]bool, K), Used: make([]bool, K)}
	names := cfg.ClassNames
	if names == nil {
		names = d.ClassNames()
	}
	used := 0
	for k := range models {
		r.Members[k] = ComputeMetrics(labels, Argmax(member[k], N, C), C)
		r.Members[k].ClassNames = names
		r.Collapsed[k] = IsCollapsed(r.Members[k])
		r.Used[k] = !(dropCollapsed && r.Collapsed[k])
		if r.Used[k] {
			used++
		}
	}
	if used == 0 {
		return r, Errf(KindInvalidArgument, "evaluate: every model collapsed to one class (%s of the clips); nothing left to evaluate", fmt.Sprintf("≥ %.0f%%", 100*CollapseShare))
	}
	acc := make([]float64, N*C)
	for k := range models {
		if r.Used[k] {
			for i, p := range member[k] {
				acc[i] += float64(p)
			}
		}
	}
	r.Probs = make([]float32, N*C)
	for i, a := range acc {
		r.Probs[i] = float32(a / float64(used))
	}
	r.Pred = Argmax(r.Probs, N, C)
	r.Metrics = ComputeMetrics(labels, r.Pred, C)
	r.Metrics.ClassNames = names
	return r, nil
}
