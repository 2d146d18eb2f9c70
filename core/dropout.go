package core

import "math/rand/v2"

// dropper draws inverted-dropout masks in training mode. A nil *dropper is dropout off, which
// is exactly the inference computation: no mask is drawn and no value is touched.
type dropper struct{ rng *rand.Rand }

// on reports whether dropout with probability p acts.
func (d *dropper) on(p float64) bool { return d != nil && p > 0 }

// dropoutForward draws mask [n] (0 with probability p, else 1/(1−p), as nn.Dropout scales) and
// writes out = in ⊙ mask. It returns the tensor the next layer reads: out when dropout acts,
// in itself when it is off. One rng.Float64 per element, in index order, so a seed fixes every
// mask whatever the element type.
func dropoutForward[T Float](d *dropper, p float64, out, in, mask []T) []T {
	if !d.on(p) {
		return in
	}
	scale := T(1 / (1 - p))
	out, mask = out[:len(in)], mask[:len(in)]
	for i, v := range in {
		if d.rng.Float64() < p {
			mask[i] = 0
		} else {
			mask[i] = scale
		}
		out[i] = v * mask[i]
	}
	return out
}

// dropoutBackward: dx ·= mask in place (nothing when dropout was off).
func dropoutBackward[T Float](d *dropper, p float64, dx, mask []T) {
	if !d.on(p) {
		return
	}
	for i, m := range mask[:len(dx)] {
		dx[i] *= m
	}
}
