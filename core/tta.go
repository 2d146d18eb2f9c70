package core

// TTAMode is one test-time augmentation of DESIGN §3.
type TTAMode int

const (
	TTAOriginal  TTAMode = iota // x[:n]
	TTAReversed                 // x[:n] flipped in time
	TTASpeedUp                  // ⌊n/2⌋ frames spread over the clip, when n > 10
	TTASpeedDown                // ⌊1.5n⌋ frames, repeating some, when n > 10
)

// TTAModes lists every mode in the order their softmax is summed.
var TTAModes = []TTAMode{TTAOriginal, TTAReversed, TTASpeedUp, TTASpeedDown}

func (m TTAMode) String() string {
	switch m {
	case TTAOriginal:
		return "original"
	case TTAReversed:
		return "reversed"
	case TTASpeedUp:
		return "speed_up"
	case TTASpeedDown:
		return "speed_down"
	}
	return "unknown"
}

// TTAIndices returns the frames of a clip of n valid frames that mode keeps, in order, or nil
// when the mode does not apply to n. The reference computes the speed indices with float32
// torch.linspace, which picks other frames at a few positions for some n (n = 73); DESIGN §3
// defines them with exact integer arithmetic, as here:
//
//	speed-up:   idx_i = ⌊i(n−1)/(h−1)⌋,            i < h = ⌊n/2⌋
//	speed-down: idx_i = min(⌊i(n−1)/(m−1)⌋, n−1),  i < m = ⌊1.5n⌋
func TTAIndices(mode TTAMode, n int) []int {
	if n < 1 {
		return nil
	}
	switch mode {
	case TTAOriginal, TTAReversed:
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
			if mode == TTAReversed {
				idx[i] = n - 1 - i
			}
		}
		return idx
	case TTASpeedUp:
		if n <= 10 {
			return nil
		}
		h := n / 2 // ≥ 5
		idx := make([]int, h)
		for i := range idx {
			idx[i] = i * (n - 1) / (h - 1)
		}
		return idx
	case TTASpeedDown:
		if n <= 10 {
			return nil
		}
		m := n + n/2 // ⌊1.5n⌋
		idx := make([]int, m)
		for i := range idx {
			idx[i] = min(i*(n-1)/(m-1), n-1)
		}
		return idx
	}
	return nil
}

// PredictTTA writes into probs [B, C] the mean, over the TTA modes that apply to each clip, of
// the softmax of the model's logits for that mode's version of the clip (DESIGN §3). A clip's n
// is lengths[b] (T when lengths is nil). Each mode runs as one batch of the clips it applies to,
// built with its own frame count (speed-down makes clips longer than T); the original mode is
// exactly Forward(x, B, T, lengths, pad), and frameWeights (nil, or [B, T]) receives its
// attention-pooling weights. In reference padding a mode's batch holds only the clips
// it applies to, so for mixed-length batches the result depends on the batch, as Forward's does.
func (m *Model) PredictTTA(x []float32, B, T int, lengths []int32, pad Padding, probs, frameWeights []float32) error {
	if _, err := m.checkForward(len(x), B, T, lengths, pad, len(probs), frameWeights); err != nil {
		return err
	}
	C, F := m.cfg.NumClasses, m.cfg.FeatureDim
	acc := make([]float64, B*C)
	count := make([]int, B)
	logits := make([]float32, B*C)
	n := func(b int) int {
		if lengths == nil {
			return T
		}
		return int(lengths[b])
	}
	add := func(clips []int, logits []float32) {
		SoftmaxRows(logits, len(clips), C)
		for j, b := range clips {
			for c := 0; c < C; c++ {
				acc[b*C+c] += float64(logits[j*C+c])
			}
			count[b]++
		}
	}
	all := make([]int, B)
	for b := range all {
		all[b] = b
	}
	if err := m.Forward(x, B, T, lengths, pad, logits, frameWeights); err != nil {
		return err
	}
	add(all, logits)
	var xm []float32
	for _, mode := range TTAModes[1:] {
		var clips []int
		var idx [][]int
		Tm := 0
		for b := 0; b < B; b++ {
			if ix := TTAIndices(mode, n(b)); ix != nil {
				clips = append(clips, b)
				idx = append(idx, ix)
				Tm = max(Tm, len(ix))
			}
		}
		if len(clips) == 0 {
			continue
		}
		Bm := len(clips)
		xm = grow(&xm, Bm*Tm*F)
		clear(xm)
		lm := make([]int32, Bm)
		for j, b := range clips {
			src := x[b*T*F : (b+1)*T*F]
			dst := xm[j*Tm*F : (j+1)*Tm*F]
			for i, t := range idx[j] {
				copy(dst[i*F:(i+1)*F], src[t*F:(t+1)*F])
			}
			lm[j] = int32(len(idx[j]))
		}
		if err := m.Forward(xm, Bm, Tm, lm, pad, logits[:Bm*C], nil); err != nil {
			return err
		}
		add(clips, logits[:Bm*C])
	}
	for b := 0; b < B; b++ {
		for c := 0; c < C; c++ {
			probs[b*C+c] = float32(acc[b*C+c] / float64(count[b]))
		}
	}
	return nil
}

// PredictTTA is m.PredictTTA returning newly allocated probabilities [B, C].
func PredictTTA(m *Model, x []float32, B, T int, lengths []int32, pad Padding) ([]float32, error) {
	if B < 0 {
		return nil, Errf(KindShape, "batch %d is negative", B)
	}
	probs := make([]float32, B*m.cfg.NumClasses)
	if err := m.PredictTTA(x, B, T, lengths, pad, probs, nil); err != nil {
		return nil, err
	}
	return probs, nil
}
