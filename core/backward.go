package core

import "math/rand/v2"

// TrainStepOptions configure one training-mode forward and backward pass.
type TrainStepOptions struct {
	Padding Padding
	Dropout bool       // dropout on (training mode); off = exactly the inference computation
	RNG     *rand.Rand // draws the dropout masks; owned by the caller (required when Dropout)
	Loss    LossConfig
}

// LossAndGrad runs the model in training mode on x [B, T, F] with optional lengths [B] and
// labels [B] in [0, C), then the backward pass. It zeroes g first and returns the mean loss.
func (m *Model) LossAndGrad(x []float32, B, T int, lengths []int32, labels []int64, opt TrainStepOptions, g *Grads) (float32, error) {
	return 0, Errf(KindUnsupported, "LossAndGrad: not implemented yet")
}

// LossAndGradFloat64 is the same computation in float64 on a float64 copy of the weights (for
// finite-difference checks and the float64 fixtures); it returns the loss and a gradient slab
// with the layout of Model.Slab().
func (m *Model) LossAndGradFloat64(x []float64, B, T int, lengths []int32, labels []int64, opt TrainStepOptions) (float64, []float64, error) {
	return 0, nil, Errf(KindUnsupported, "LossAndGradFloat64: not implemented yet")
}
