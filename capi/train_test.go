package main

import (
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"unsafe"
)

// trainBatch is a fixed batch for smallModel (F = 4, C = 2).
func trainBatch() (x []float32, lengths []int32, labels []int64, B, T int64) {
	B, T = 6, 5
	rng := rand.New(rand.NewPCG(1, 2))
	x = make([]float32, B*T*4)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	lengths = []int32{5, 3, 1, 4, 5, 2}
	labels = []int64{0, 1, 1, 0, 1, 0}
	return
}

func newTrainer(t *testing.T, model uint64) uint64 {
	t.Helper()
	var th uint64
	if st, msg := ccall(tgo_trainer_create, model, unsafe.Pointer(nil), unsafe.Pointer(&th)); st != stOK {
		t.Fatalf("trainer_create: %d %s", st, msg)
	}
	return th
}

func predictLogits(t *testing.T, h uint64, x []float32, lengths []int32, B, T int64) []float32 {
	out := make([]float32, B*2)
	if st, msg := ccall(tgo_predict, h, unsafe.Pointer(&x[0]), B, T, int64(4), unsafe.Pointer(&lengths[0]),
		unsafe.Pointer(nil), unsafe.Pointer(&out[0]), uintptr(len(out)), unsafe.Pointer(nil), uintptr(0)); st != stOK {
		t.Errorf("predict: %d %s", st, msg)
	}
	return out
}

func step(t *testing.T, th uint64, x []float32, lengths []int32, labels []int64, B, T int64) float32 {
	var loss float32
	if st, msg := ccall(tgo_trainer_step, th, unsafe.Pointer(&x[0]), B, T, int64(4), unsafe.Pointer(&lengths[0]),
		unsafe.Pointer(&labels[0]), unsafe.Pointer(&loss)); st != stOK {
		t.Fatalf("trainer_step: %d %s", st, msg)
	}
	return loss
}

// Predicts running while a trainer steps the same model see whole steps only: each concurrent
// result equals the model's output after some number of completed steps (computed serially on
// a second model with the same seed), never a mix of two states.
func TestTrainerStepExcludesPredicts(t *testing.T) {
	const K = 6
	x, lengths, labels, B, T := trainBatch()

	// The serial reference: outputs after 0..K steps.
	ref := newHandle(smallModel(t), "cpu", nil)
	rth := newTrainer(t, ref)
	var states [][]float32
	states = append(states, predictLogits(t, ref, x, lengths, B, T))
	for k := 0; k < K; k++ {
		step(t, rth, x, lengths, labels, B, T)
		states = append(states, predictLogits(t, ref, x, lengths, B, T))
	}

	h := newHandle(smallModel(t), "cpu", nil)
	th := newTrainer(t, h)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var mu sync.Mutex
	var seen [][]float32
	for g := 0; g < 3; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				out := predictLogits(t, h, x, lengths, B, T)
				mu.Lock()
				seen = append(seen, out)
				mu.Unlock()
			}
		}()
	}
	for k := 0; k < K; k++ {
		step(t, th, x, lengths, labels, B, T)
	}
	close(stop)
	wg.Wait()
	if got := predictLogits(t, h, x, lengths, B, T); !slices.Equal(got, states[K]) {
		t.Fatalf("after %d steps: %v, serial run %v", K, got, states[K])
	}
	for i, out := range seen {
		if !slices.ContainsFunc(states, func(s []float32) bool { return slices.Equal(s, out) }) {
			t.Fatalf("concurrent predict %d saw a state no serial step produced: %v", i, out)
		}
	}
	t.Logf("%d concurrent predicts, all on whole steps", len(seen))

	// Freeing the model first: the trainer keeps it; freeing the trainer drops the last reference.
	e, _ := acquire(h)
	e.release()
	if st, msg := ccall(tgo_model_free, h); st != stOK {
		t.Fatal(msg)
	}
	step(t, th, x, lengths, labels, B, T)
	if e.model == nil {
		t.Fatal("model dropped while its trainer lives")
	}
	if st, msg := ccall(tgo_trainer_free, th); st != stOK {
		t.Fatal(msg)
	}
	if e.model != nil {
		t.Fatal("model kept after its handle and trainer were freed")
	}
	if st, _ := ccall(tgo_trainer_free, th); st != stBadHandle {
		t.Fatalf("double trainer free: %d", st)
	}
	for _, hh := range []uint64{ref, rth} {
		ccall(tgo_model_free, hh)
		ccall(tgo_trainer_free, hh)
	}
}

func TestTrainerHandlesAreDistinctFromModels(t *testing.T) {
	h := newHandle(smallModel(t), "cpu", nil)
	defer ccall(tgo_model_free, h)
	th := newTrainer(t, h)
	defer ccall(tgo_trainer_free, th)
	if th>>56 != 0x7d || h>>56 != 0x7e {
		t.Fatalf("tags: model %#x trainer %#x", h, th)
	}
	if _, err := acquire(th); statusOf(err) != stBadHandle {
		t.Fatal("a trainer handle acquired as a model")
	}
	if _, err := acquireTrainer(h); statusOf(err) != stBadHandle {
		t.Fatal("a model handle acquired as a trainer")
	}
}
