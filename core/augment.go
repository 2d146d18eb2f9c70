package core

import (
	"math/rand/v2"
	"slices"
)

// AugmentConfig holds the training augmentations of DESIGN §3. They apply to a clip's own n
// valid frames, all only when n > MinFrames, in this order and independently of each other.
type AugmentConfig struct {
	CropProb  float64 // p of keeping new_n = max(⌊n·U(CropMin, 1)⌋, MinFrames) frames (0.5)
	CropMin   float64 // 0.7
	ShiftProb float64 // p of a circular shift by an integer in −MaxShift..MaxShift (0.3)
	MaxShift  int     // 3
	NoiseProb float64 // p of adding Gaussian noise (0.2)
	NoiseStd  float64 // σ (0.01)
	MinFrames int     // 8
	Enabled   bool
}

// DefaultAugment is the reference recipe's augmentation.
func DefaultAugment() AugmentConfig {
	return AugmentConfig{CropProb: 0.5, CropMin: 0.7, ShiftProb: 0.3, MaxShift: 3, NoiseProb: 0.2,
		NoiseStd: 0.01, MinFrames: 8, Enabled: true}
}

// AugmentClip augments one clip in place. clip holds at least n frames of F values (row t at
// clip[t*F:]); it returns the new length. Frames from the new length up to n are zeroed, so the
// clip stays zero-padded. Every random draw comes from rng, so the result is a function of the
// rng state: what exact resume needs.
func (a *AugmentConfig) AugmentClip(rng *rand.Rand, clip []float32, n, F int) int {
	if !a.Enabled || n <= a.MinFrames {
		return n
	}
	// Random temporal crop: keep new_n frames chosen without replacement, in time order.
	if rng.Float64() < a.CropProb {
		u := a.CropMin + (1-a.CropMin)*rng.Float64()
		newN := max(int(float64(n)*u), a.MinFrames)
		if newN < n {
			perm := rng.Perm(n)[:newN]
			slices.Sort(perm)
			for j, t := range perm { // t ≥ j: copying forward never overwrites a frame still needed
				if t != j {
					copy(clip[j*F:(j+1)*F], clip[t*F:(t+1)*F])
				}
			}
			clear(clip[newN*F : n*F])
			n = newN
		}
	}
	// Circular shift of the n valid frames (torch.roll over time): frame t moves to (t+s) mod n.
	if rng.Float64() < a.ShiftProb {
		s := rng.IntN(2*a.MaxShift+1) - a.MaxShift
		if s != 0 {
			k := ((-s % n) + n) % n // roll right by s == rotate left by −s
			rotateLeft(clip[:n*F], k*F)
		}
	}
	// Additive Gaussian noise on the valid frames only.
	if rng.Float64() < a.NoiseProb {
		for i := range clip[:n*F] {
			clip[i] += float32(a.NoiseStd * rng.NormFloat64())
		}
	}
	return n
}

// rotateLeft rotates x left by k elements in place (three reversals).
func rotateLeft(x []float32, k int) {
	if k == 0 || len(x) == 0 {
		return
	}
	slices.Reverse(x[:k])
	slices.Reverse(x[k:])
	slices.Reverse(x)
}
