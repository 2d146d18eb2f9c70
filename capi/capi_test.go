package main

import (
	"errors"
	"sync"
	"testing"

	"libtemporal/core"
)

func smallModel(t *testing.T) *core.Model {
	t.Helper()
	cfg := core.Config{FeatureDim: 4, HiddenDim: 4, NumLayers: 1, NumHeads: 2, NumClasses: 2,
		Bidirectional: true, ClassifierWidths: []int{4}}
	m, err := core.NewModelInit(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestHandlesSparseAndValidated(t *testing.T) {
	m := smallModel(t)
	h1, h2 := newHandle(m, "cpu", nil), newHandle(m, "cpu", nil)
	for _, h := range []uint64{h1, h2} {
		if h == 0 || h>>56 != 0x7e || h < 1<<32 {
			t.Fatalf("handle %#x is not in the sparse high range", h)
		}
	}
	if h1 == h2 {
		t.Fatal("two handles are equal")
	}
	for _, bad := range []uint64{0, 1, h1 ^ 1, uint64(uint32(h1))} {
		if _, err := acquire(bad); statusOf(err) != stBadHandle {
			t.Fatalf("acquire(%#x) = %v, want BAD_HANDLE", bad, err)
		}
	}
	e, err := acquire(h1)
	if err != nil {
		t.Fatal(err)
	}
	if err := freeHandle(h1); err != nil {
		t.Fatal(err)
	}
	// Freed at once for new calls; the call in flight keeps its model until it releases.
	if _, err := acquire(h1); statusOf(err) != stBadHandle {
		t.Fatal("freed handle still acquirable")
	}
	if e.model == nil || e.refs.Load() != 1 {
		t.Fatalf("in-flight reference lost: model %v refs %d", e.model, e.refs.Load())
	}
	e.release()
	if e.model != nil {
		t.Fatal("model kept after the last reference")
	}
	if err := freeHandle(h1); statusOf(err) != stBadHandle {
		t.Fatal("double free accepted")
	}
	if err := freeHandle(h2); err != nil {
		t.Fatal(err)
	}
}

// TestFreeRacesAcquire runs frees against acquires (go test -race checks the bookkeeping).
func TestFreeRacesAcquire(t *testing.T) {
	m := smallModel(t)
	for round := 0; round < 20; round++ {
		h := newHandle(m, "cpu", nil)
		var wg sync.WaitGroup
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 100; i++ {
					e, err := acquire(h)
					if err != nil {
						return
					}
					e.mu.RLock()
					_ = e.model.Config()
					e.mu.RUnlock()
					e.release()
				}
			}()
		}
		if err := freeHandle(h); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
	}
}

func TestStatusOf(t *testing.T) {
	cases := []struct {
		err  error
		want int
	}{
		{core.Errf(core.KindIO, "x"), int(stIO)},
		{core.Wrap(core.KindFormat, errors.New("y"), "z"), int(stFormat)},
		{core.Errf(core.KindNumeric, "x"), int(stNumeric)},
		{core.Errf(core.KindUnsupported, "x"), int(stUnsupported)},
		{errors.New("plain"), int(stInternal)},
		{statusErrf(stBadHandle, "h"), int(stBadHandle)},
	}
	for _, c := range cases {
		if got := int(statusOf(c.err)); got != c.want {
			t.Errorf("statusOf(%v) = %d, want %d", c.err, got, c.want)
		}
	}
}

func TestCheckDevice(t *testing.T) {
	for dev, want := range map[string]int{
		"cpu": int(stOK), "cuda": int(stDevice), "cuda:0": int(stDevice), "cuda:12": int(stDevice),
		"cuda:": int(stInvalidArgument), "cuda:-1": int(stInvalidArgument), "cuda:+1": int(stInvalidArgument),
		"gpu": int(stInvalidArgument), "": int(stInvalidArgument), "CPU": int(stInvalidArgument),
	} {
		got := int(stOK)
		if err := checkDevice(dev); err != nil {
			got = int(statusOf(err))
		}
		if got != want {
			t.Errorf("checkDevice(%q) = %d, want %d", dev, got, want)
		}
	}
}

func TestMulChecked(t *testing.T) {
	if n, ok := mulChecked(3, 7, 16); !ok || n != 336 {
		t.Fatal(n, ok)
	}
	for _, fs := range [][]int64{{1 << 40, 2}, {1 << 21, 1 << 20}, {0, 5}, {-1, 5}, {1<<63 - 1}} {
		if _, ok := mulChecked(fs...); ok {
			t.Errorf("mulChecked(%v) accepted", fs)
		}
	}
}

func TestFirstNonFinite(t *testing.T) {
	x := []float32{1, 2, 3}
	if firstNonFinite(x) != -1 {
		t.Fatal("finite input flagged")
	}
	inf := float32(1e38)
	x[1] = inf * 10
	if firstNonFinite(x) != 1 {
		t.Fatal("Inf not found")
	}
}
