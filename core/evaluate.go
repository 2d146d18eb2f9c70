package core

import "math"

// EvalOptions control Evaluate.
type EvalOptions struct {
	Padding   Padding
	BatchSize int        // clips per forward call (64 when 0)
	Loss      LossConfig // for the reported loss (single model only)
	WantLoss  bool
}

// Evaluate runs models over every clip of d in order and scores the predictions. With several
// models (an ensemble) the prediction is the argmax of the mean of their softmax (DESIGN §3);
// the loss is reported only for a single model. It returns the metrics and the predictions.
func Evaluate(models []*Model, d Dataset, opt EvalOptions) (Metrics, []int64, error) {
	if len(models) == 0 {
		return Metrics{}, nil, Errf(KindInvalidArgument, "evaluate: no model")
	}
	cfg := models[0].cfg
	C := cfg.NumClasses
	for i, m := range models {
		if m.cfg.FeatureDim != d.FeatureDim() {
			return Metrics{}, nil, Errf(KindShape, "evaluate: model %d takes feature_dim %d, the dataset has %d", i, m.cfg.FeatureDim, d.FeatureDim())
		}
		if m.cfg.NumClasses != C {
			return Metrics{}, nil, Errf(KindShape, "evaluate: model %d has %d classes, model 0 has %d", i, m.cfg.NumClasses, C)
		}
	}
	if d.NumClasses() > C {
		return Metrics{}, nil, Errf(KindShape, "evaluate: the dataset has %d classes, the model %d", d.NumClasses(), C)
	}
	bs := opt.BatchSize
	if bs <= 0 {
		bs = 64
	}
	N := d.Len()
	labels, lengths := d.Labels(), d.Lengths()
	pred := make([]int64, N)
	x := make([]float32, 0)
	logits := make([]float32, bs*C)
	probs := make([]float64, bs*C)
	idx := make([]int, 0, bs)
	lossSum := 0.0
	for lo := 0; lo < N; lo += bs {
		hi := min(lo+bs, N)
		B := hi - lo
		T, err := readBatch(d, lengths, lo, hi, &idx, &x)
		if err != nil {
			return Metrics{}, nil, err
		}
		clear(probs)
		for _, m := range models {
			if err := m.Forward(x, B, T, lengths[lo:hi], opt.Padding, logits, nil); err != nil {
				return Metrics{}, nil, err
			}
			if len(models) == 1 {
				copy(pred[lo:hi], Argmax(logits, B, C))
				if opt.WantLoss {
					l, err := ComputeLoss(opt.Loss, logits[:B*C], labels[lo:hi], C)
					if err != nil {
						return Metrics{}, nil, err
					}
					lossSum += l * float64(B)
				}
				continue
			}
			for b := 0; b < B; b++ {
				row := logits[b*C : (b+1)*C]
				mx := math.Inf(-1)
				for _, v := range row {
					mx = math.Max(mx, float64(v))
				}
				s := 0.0
				for _, v := range row {
					s += math.Exp(float64(v) - mx)
				}
				for c, v := range row {
					probs[b*C+c] += math.Exp(float64(v)-mx) / s / float64(len(models))
				}
			}
		}
		if len(models) > 1 {
			for b := 0; b < B; b++ {
				best := 0
				for c := 1; c < C; c++ {
					if probs[b*C+c] > probs[b*C+best] {
						best = c
					}
				}
				pred[lo+b] = int64(best)
			}
		}
	}
	met := ComputeMetrics(labels, pred, C)
	if len(models) == 1 && opt.WantLoss {
		met.Loss = lossSum / float64(N)
	}
	met.ClassNames = cfg.ClassNames
	return met, pred, nil
}

// readBatch reads clips lo..hi−1 of d, zero-padded to the longest of them, into *x and returns
// that length: the batches of the evaluation loops. idx is scratch.
func readBatch(d Dataset, lengths []int32, lo, hi int, idx *[]int, x *[]float32) (int, error) {
	*idx = (*idx)[:0]
	T := 1
	for i := lo; i < hi; i++ {
		*idx = append(*idx, i)
		T = max(T, int(lengths[i]))
	}
	grow(x, (hi-lo)*T*d.FeatureDim())
	return T, d.ReadClips(*idx, T, *x)
}
