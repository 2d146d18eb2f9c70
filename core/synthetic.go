package core

import (
	"fmt"
	"math/rand/v2"
)

// SyntheticOrderDataset generates clips whose class is the temporal order of three feature
// patterns A, B, C (class 0: A B C, 1: A C B, 2: B A C, 3: C B A). Every clip holds each pattern
// once, at random frames, over noise frames, so the multiset of frames is the same for every class:
// mean pooling over time cannot tell the classes apart, the order must be used. Lengths vary in
// [minLen, maxLen]; F ≥ 3. Deterministic in seed. For tests, the demo and benchmarks.
func SyntheticOrderDataset(N, F, minLen, maxLen int, seed uint64) *MemDataset {
	if F < 3 || minLen < 3 || maxLen < minLen {
		panic(fmt.Sprintf("core: SyntheticOrderDataset(F=%d, lengths %d..%d)", F, minLen, maxLen))
	}
	orders := [4][3]int{{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {2, 1, 0}}
	rng := rand.New(rand.NewPCG(seed, 0x0d3e5a7b))
	T := maxLen
	x := make([]float32, N*T*F)
	labels := make([]int64, N)
	lengths := make([]int32, N)
	for i := 0; i < N; i++ {
		y := rng.IntN(4)
		n := minLen + rng.IntN(maxLen-minLen+1)
		labels[i], lengths[i] = int64(y), int32(n)
		clip := x[i*T*F : i*T*F+n*F]
		for j := range clip {
			clip[j] = float32(0.3 * rng.NormFloat64())
		}
		// three distinct frames, in increasing order
		pos := rng.Perm(n)[:3]
		for a := 0; a < 3; a++ {
			for b := a + 1; b < 3; b++ {
				if pos[b] < pos[a] {
					pos[a], pos[b] = pos[b], pos[a]
				}
			}
		}
		for k, p := range pos {
			pattern := orders[y][k]
			frame := clip[p*F : (p+1)*F]
			frame[pattern] += 2
		}
	}
	d, err := NewMemDataset(x, labels, lengths, T, F, []string{"ABC", "ACB", "BAC", "CBA"})
	if err != nil {
		panic(err)
	}
	return d
}
