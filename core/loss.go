package core

import "math"

// LossKind selects the training loss.
type LossKind int

const (
	// LossFocal is the reference recipe's focal loss with label smoothing and class weights
	// (DESIGN §3): q = 1−s on the true class and s/(C−1) elsewhere, ce = −Σ q·log_softmax(z),
	// pt = exp(−ce) (not detached), loss = mean_b α[y_b]·(1−pt)^γ·ce — a plain mean, not
	// divided by Σα.
	LossFocal LossKind = 0
	// LossCrossEntropy is exactly PyTorch's nn.CrossEntropyLoss(weight=α, label_smoothing=s),
	// what a PyTorch user means by weighted cross-entropy: its smoothing puts s/C on every class
	// (the true one included, so 1−s+s/C there), each class's term is weighted by its own α_c,
	// and the batch mean is weighted, divided by Σ_b α[y_b]:
	//   loss = Σ_b [(1−s)·α[y_b]·(−log p_{b,y_b}) + (s/C)·Σ_c α_c·(−log p_{b,c})] / Σ_b α[y_b].
	// With s = 0 and α = 1 it is the plain mean cross-entropy. Gamma is ignored.
	LossCrossEntropy LossKind = 1
)

// LossConfig parameterises the loss. Alpha (length C) are the class weights; nil means all 1.
type LossConfig struct {
	Kind      LossKind
	Gamma     float64 // focal exponent γ ≥ 0 (reference: 2)
	Smoothing float64 // label smoothing s in [0, 1) (reference: 0.1)
	Alpha     []float32
}

// DefaultLossConfig is the reference recipe: focal, γ = 2, s = 0.1, no class weights.
func DefaultLossConfig() LossConfig { return LossConfig{Kind: LossFocal, Gamma: 2, Smoothing: 0.1} }

// validate checks the loss configuration and the labels [B] against C classes.
func (lc LossConfig) validate(labels []int64, B, C int) error {
	if lc.Kind != LossFocal && lc.Kind != LossCrossEntropy {
		return Errf(KindInvalidArgument, "unknown loss kind %d", int(lc.Kind))
	}
	if lc.Kind == LossFocal && (math.IsNaN(lc.Gamma) || lc.Gamma < 0 || math.IsInf(lc.Gamma, 0)) {
		return Errf(KindInvalidArgument, "focal gamma = %v must be finite and ≥ 0", lc.Gamma)
	}
	if math.IsNaN(lc.Smoothing) || lc.Smoothing < 0 || lc.Smoothing >= 1 {
		return Errf(KindInvalidArgument, "label smoothing = %v must be in [0, 1)", lc.Smoothing)
	}
	if lc.Alpha != nil {
		if len(lc.Alpha) != C {
			return Errf(KindShape, "alpha holds %d class weights for %d classes", len(lc.Alpha), C)
		}
		for c, a := range lc.Alpha {
			if f := float64(a); math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
				return Errf(KindInvalidArgument, "alpha[%d] = %v must be finite and ≥ 0", c, a)
			}
		}
	}
	if len(labels) != B {
		return Errf(KindShape, "labels hold %d values for a batch of %d", len(labels), B)
	}
	for b, y := range labels {
		if y < 0 || y >= int64(C) {
			return Errf(KindInvalidArgument, "labels[%d] = %d out of range [0, %d)", b, y, C)
		}
	}
	if lc.Kind == LossCrossEntropy {
		var wsum float64
		for _, y := range labels {
			wsum += lc.alpha(int(y))
		}
		if wsum == 0 {
			return Errf(KindInvalidArgument, "cross-entropy: the batch's class weights sum to 0")
		}
	}
	return nil
}

func (lc LossConfig) alpha(c int) float64 {
	if lc.Alpha == nil {
		return 1
	}
	return float64(lc.Alpha[c])
}

// ComputeLoss is the loss LossAndGrad reports, from logits [B, C] (B = len(labels)) without a
// gradient: for validation and test losses, so that they use the same definition.
func ComputeLoss(lc LossConfig, logits []float32, labels []int64, C int) (float64, error) {
	B := len(labels)
	if C < 2 || len(logits) != B*C {
		return 0, Errf(KindShape, "logits hold %d values for %d labels of %d classes", len(logits), B, C)
	}
	if B == 0 {
		return 0, Errf(KindInvalidArgument, "no labels")
	}
	if err := lc.validate(labels, B, C); err != nil {
		return 0, err
	}
	if err := checkFinite(logits, "logits"); err != nil {
		return 0, err
	}
	return lossForward(lc, logits, labels, B, C, nil), nil
}

// lossForward returns the loss of logits [B, C] against labels [B] and writes its gradient
// dL/dlogits into dlogits [B, C] (nil: loss only). Everything runs in float64 whatever T is.
// The configuration must have been validated.
func lossForward[T Float](lc LossConfig, logits []T, labels []int64, B, C int, dlogits []T) float64 {
	s := lc.Smoothing
	var total float64
	var wsum, alphaSum float64
	if lc.Kind == LossCrossEntropy {
		for _, y := range labels {
			wsum += lc.alpha(int(y))
		}
		for c := 0; c < C; c++ {
			alphaSum += lc.alpha(c)
		}
	}
	for b := 0; b < B; b++ {
		z := logits[b*C : b*C+C]
		var dz []T
		if dlogits != nil {
			dz = dlogits[b*C : b*C+C]
		}
		y := int(labels[b])
		mx := math.Inf(-1)
		for _, v := range z {
			mx = math.Max(mx, float64(v))
		}
		var se float64
		for _, v := range z {
			se += math.Exp(float64(v) - mx)
		}
		lse := mx + math.Log(se)
		logp := func(c int) float64 { return float64(z[c]) - lse }
		switch lc.Kind {
		case LossFocal:
			qOff, qOn := s/float64(C-1), 1-s
			q := func(c int) float64 {
				if c == y {
					return qOn
				}
				return qOff
			}
			var ce float64
			for c := range z {
				ce -= q(c) * logp(c)
			}
			pt := math.Exp(-ce)
			a, g, omp := lc.alpha(y), lc.Gamma, 1-pt
			total += a * math.Pow(omp, g) * ce
			// d/dce of (1−pt)^γ·ce with dpt/dce = −pt.
			dce := math.Pow(omp, g)
			if g != 0 && omp > 0 {
				dce += g * math.Pow(omp, g-1) * pt * ce
			}
			dce *= a / float64(B)
			for c := range dz {
				dz[c] = T(dce * (math.Exp(logp(c)) - q(c)))
			}
		case LossCrossEntropy:
			ay := lc.alpha(y)
			var smooth float64
			for c := range z {
				smooth -= lc.alpha(c) * logp(c)
			}
			total += (1-s)*ay*(-logp(y)) + s/float64(C)*smooth
			for c := range dz {
				p := math.Exp(logp(c))
				g := s / float64(C) * (alphaSum*p - lc.alpha(c))
				g += (1 - s) * ay * p
				if c == y {
					g -= (1 - s) * ay
				}
				dz[c] = T(g / wsum)
			}
		}
	}
	if lc.Kind == LossCrossEntropy {
		return total / wsum
	}
	return total / float64(B)
}
