package core

import (
	"errors"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// withThreads runs f under thread setting n and restores the default.
func withThreads(t testing.TB, n int, f func()) {
	t.Helper()
	old := int(threadSetting.Load())
	SetNumThreads(n)
	defer SetNumThreads(old)
	f()
}

func TestSpanPartition(t *testing.T) {
	for n := 0; n < 70; n++ {
		for parts := 1; parts <= 9; parts++ {
			for _, align := range []int{1, 4, 16} {
				next := 0
				for i := 0; i < parts; i++ {
					lo, hi := span(n, parts, i, align)
					if lo != next || hi < lo || hi > n {
						t.Fatalf("span(%d, %d, %d, %d) = [%d, %d), want it to start at %d", n, parts, i, align, lo, hi, next)
					}
					if (lo != n && lo%align != 0) || (hi != n && hi%align != 0) {
						t.Fatalf("span(%d, %d, %d, %d) = [%d, %d) not aligned", n, parts, i, align, lo, hi)
					}
					next = hi
				}
				if next != n {
					t.Fatalf("span(%d, %d, ·, %d) covers [0, %d)", n, parts, align, next)
				}
			}
		}
	}
	if partsFor(10, 4, 8) != 3 || partsFor(100, 4, 2) != 2 || partsFor(0, 4, 2) != 1 {
		t.Fatal("partsFor")
	}
}

// countJob counts how often each part runs.
type countJob struct{ hits []atomic.Int32 }

func (j *countJob) do(p int) { j.hits[p].Add(1) }

func TestPoolRunsEveryPartOnce(t *testing.T) {
	for _, threads := range []int{1, 2, 3, 8} {
		withThreads(t, threads, func() {
			var c poolCall
			for parts := 0; parts <= 40; parts++ {
				j := &countJob{hits: make([]atomic.Int32, parts)}
				c.run(parts, j)
				for p := range j.hits {
					if n := j.hits[p].Load(); n != 1 {
						t.Fatalf("threads %d parts %d: part %d ran %d times", threads, parts, p, n)
					}
				}
			}
		})
	}
}

// sumJob sums slices of x per part of a fixed partition, in float32, into out[part]: the result
// depends on the partition, and must not depend on which goroutine runs a part.
type sumJob struct {
	x     []float32
	parts int
	out   []float32
}

func (j *sumJob) do(p int) {
	lo, hi := span(len(j.x), j.parts, p, 16)
	var s float32
	for _, v := range j.x[lo:hi] {
		s += v * v
	}
	j.out[p] = s
}

func (j *sumJob) total() float32 {
	var s float32
	for _, v := range j.out[:j.parts] {
		s += v
	}
	return s
}

func TestPoolDeterminism(t *testing.T) {
	x := make([]float32, 100003)
	for i := range x {
		x[i] = float32(math.Sin(float64(i)) * 1e3)
	}
	const parts = 5
	var ref float32
	withThreads(t, 1, func() { // one goroutine runs every part
		j := &sumJob{x: x, parts: parts, out: make([]float32, parts)}
		var c poolCall
		c.run(parts, j)
		ref = j.total()
	})
	withThreads(t, 4, func() {
		var wg sync.WaitGroup
		for g := 0; g < 8; g++ { // concurrent calls share the workers
			wg.Add(1)
			go func() {
				defer wg.Done()
				var c poolCall
				for it := 0; it < 50; it++ {
					j := &sumJob{x: x, parts: parts, out: make([]float32, parts)}
					c.run(parts, j)
					if got := j.total(); math.Float32bits(got) != math.Float32bits(ref) {
						t.Errorf("parallel total %v, serial %v", got, ref)
						return
					}
				}
			}()
		}
		wg.Wait()
	})
}

type panicJob struct {
	at   int
	ran  atomic.Int32
	slow time.Duration
}

func (j *panicJob) do(p int) {
	if p == j.at {
		panic("boom")
	}
	time.Sleep(j.slow)
	j.ran.Add(1)
}

func TestPoolPanicForwarded(t *testing.T) {
	withThreads(t, 3, func() {
		for _, at := range []int{0, 1, 3} {
			j := &panicJob{at: at, slow: 5 * time.Millisecond}
			var c poolCall
			func() {
				defer func() {
					v := recover()
					pp, ok := v.(poolPanic)
					if !ok || pp.val != "boom" {
						t.Fatalf("panic in part %d: recovered %v", at, v)
					}
					if n := j.ran.Load(); n != 3 {
						t.Fatalf("panic in part %d re-raised before the other parts finished (%d of 3)", at, n)
					}
				}()
				c.run(4, j)
			}()
			// The call and the pool still work afterwards.
			cj := &countJob{hits: make([]atomic.Int32, 4)}
			c.run(4, cj)
			for p := range cj.hits {
				if cj.hits[p].Load() != 1 {
					t.Fatal("pool broken after a panic")
				}
			}
		}
	})
}

// faultJob reads unmapped memory in part 1: a worker runs with SetPanicOnFault, so it is a
// recoverable runtime.Error instead of a crash.
type faultJob struct {
	bad     []byte
	sink    byte
	started chan struct{}
}

func (j *faultJob) do(p int) {
	if p == 0 { // the caller's part: wait until a worker has taken part 1
		<-j.started
		return
	}
	close(j.started)
	j.sink = j.bad[0]
}

func TestPoolFaultForwarded(t *testing.T) {
	mem, err := syscall.Mmap(-1, 0, 4096, syscall.PROT_READ, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Skip(err)
	}
	if err := syscall.Munmap(mem); err != nil {
		t.Fatal(err)
	}
	withThreads(t, 2, func() {
		var c poolCall
		defer func() {
			v := recover()
			pp, ok := v.(poolPanic)
			var re runtime.Error
			if !ok || !errors.As(pp, &re) {
				t.Fatalf("recovered %v, want a poolPanic over a runtime.Error", v)
			}
			t.Logf("forwarded: %v", re)
		}()
		c.run(2, &faultJob{bad: mem, started: make(chan struct{})})
	})
}

func TestPoolNoGoroutineLeak(t *testing.T) {
	defer SetNumThreads(0)
	settle := func(want int) int {
		deadline := time.Now().Add(5 * time.Second)
		n := runtime.NumGoroutine()
		for ; n > want && time.Now().Before(deadline); n = runtime.NumGoroutine() {
			time.Sleep(5 * time.Millisecond)
		}
		return n
	}
	before, workers := runtime.NumGoroutine(), countWorkers()
	SetNumThreads(1) // stops every worker
	base := settle(before - workers)
	SetNumThreads(9)
	var c poolCall
	c.run(9, &countJob{hits: make([]atomic.Int32, 9)})
	if n := runtime.NumGoroutine(); n != base+8 {
		t.Errorf("%d goroutines at 9 threads, want %d + 8 workers", n, base)
	}
	SetNumThreads(1)
	if n := settle(base); n > base {
		t.Fatalf("%d goroutines after going back to 1 thread, %d before", n, base)
	}
}

type nestJob struct {
	inner []poolCall
	hits  []atomic.Int32
}

func (j *nestJob) do(p int) {
	j.inner[p].run(3, &countJob{hits: make([]atomic.Int32, 3)})
	j.hits[p].Add(1)
}

func TestPoolNestedNoDeadlock(t *testing.T) {
	withThreads(t, 2, func() {
		var c poolCall
		j := &nestJob{inner: make([]poolCall, 6), hits: make([]atomic.Int32, 6)}
		done := make(chan struct{})
		go func() { c.run(6, j); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("nested run deadlocked")
		}
	})
}

func TestPoolZeroAllocs(t *testing.T) {
	withThreads(t, 4, func() {
		var c poolCall
		j := &countJob{hits: make([]atomic.Int32, 4)}
		c.run(4, j)
		if a := testing.AllocsPerRun(200, func() { c.run(4, j) }); a != 0 {
			t.Fatalf("%v allocations per run", a)
		}
	})
}

func BenchmarkPoolRun(b *testing.B) {
	var c poolCall
	j := &countJob{hits: make([]atomic.Int32, NumThreads())}
	for i := 0; i < b.N; i++ {
		c.run(NumThreads(), j)
	}
}

func countWorkers() int {
	poolMu.Lock()
	defer poolMu.Unlock()
	return poolWorkers
}
