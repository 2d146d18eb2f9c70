package core

// LossKind selects the training loss.
type LossKind int

const (
	// LossFocal is the reference recipe's focal loss with label smoothing and class weights
	// (DESIGN §3).
	LossFocal LossKind = 0
	// LossCrossEntropy is PyTorch's CrossEntropyLoss(weight=α, label_smoothing=s).
	LossCrossEntropy LossKind = 1
)

// LossConfig parameterises the loss. Alpha (length C) are the class weights; nil means all 1.
type LossConfig struct {
	Kind      LossKind
	Gamma     float64 // focal exponent γ (reference: 2)
	Smoothing float64 // label smoothing s in [0, 1) (reference: 0.1)
	Alpha     []float32
}

// DefaultLossConfig is the reference recipe: focal, γ = 2, s = 0.1, no class weights.
func DefaultLossConfig() LossConfig { return LossConfig{Kind: LossFocal, Gamma: 2, Smoothing: 0.1} }
