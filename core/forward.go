package core

// Padding selects how a padded mixed-length batch is treated (DESIGN §2).
type Padding int

const (
	// PaddingMasked (default): each clip's output equals the clip run alone.
	PaddingMasked Padding = 0
	// PaddingReference: PyTorch's unmasked batch behaviour, cut to max(lengths).
	PaddingReference Padding = 1
)

// Forward runs the model in inference mode (dropout off) on x [B, T, F] float32 with optional
// lengths [B] (nil: every clip has T frames). It writes logits [B, C] into logits[:B*C] and, when
// frameWeights is not nil, the attention-pooling weights [B, T] into frameWeights[:B*T] (zero
// where DESIGN §2 says). Safe for concurrent use; allocates nothing in steady state.
func (m *Model) Forward(x []float32, B, T int, lengths []int32, pad Padding, logits, frameWeights []float32) error {
	return Errf(KindInternal, "forward: not implemented yet")
}
type workspace struct{}
