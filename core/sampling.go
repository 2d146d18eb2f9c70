package core

import (
	"math"
	"math/rand/v2"
	"sort"
)

// ClassWeights is the reference recipe's α (DESIGN §3): α_c = clip(N/(K·n_c), 0.5, 10) for the
// K classes present among labels, 1 for absent classes. Computed in float64, stored as float32
// (the reference builds a float32 tensor from these values).
func ClassWeights(labels []int64, numClasses int) []float32 {
	counts := make([]int, numClasses)
	for _, y := range labels {
		if y >= 0 && int(y) < numClasses {
			counts[y]++
		}
	}
	k := 0
	for _, c := range counts {
		if c > 0 {
			k++
		}
	}
	alpha := make([]float32, numClasses)
	for c, n := range counts {
		if n == 0 {
			alpha[c] = 1
			continue
		}
		a := float64(len(labels)) / (float64(k) * float64(n))
		alpha[c] = float32(math.Min(math.Max(a, 0.5), 10))
	}
	return alpha
}

// WeightedSampler draws clip indices i.i.d. with replacement, P(i) ∝ α[y_i] (the reference's
// WeightedRandomSampler over the clipped class weights, num_samples = N).
type WeightedSampler struct {
	cum []float64 // cumulative weights, cum[i] = Σ_{j≤i} α[y_j]
}

// NewWeightedSampler prepares sampling over labels with class weights alpha.
func NewWeightedSampler(labels []int64, alpha []float32) *WeightedSampler {
	s := &WeightedSampler{cum: make([]float64, len(labels))}
	acc := 0.0
	for i, y := range labels {
		acc += float64(alpha[y])
		s.cum[i] = acc
	}
	return s
}

// Draw fills idx with len(idx) indices drawn from rng.
func (s *WeightedSampler) Draw(rng *rand.Rand, idx []int) {
	total := s.cum[len(s.cum)-1]
	for k := range idx {
		u := rng.Float64() * total
		i := sort.SearchFloat64s(s.cum, u) // first i with cum[i] ≥ u
		// cum[i] == u only when u lands on a boundary; the next clip owns [cum[i], cum[i+1]).
		for i < len(s.cum)-1 && s.cum[i] <= u {
			i++
		}
		idx[k] = i
	}
}

// Batches splits an epoch's draw order into batches of size b in draw order; the last batch is
// partial: ⌈N/b⌉ batches.
func Batches(order []int, b int) [][]int {
	var out [][]int
	for lo := 0; lo < len(order); lo += b {
		out = append(out, order[lo:min(lo+b, len(order))])
	}
	return out
}
