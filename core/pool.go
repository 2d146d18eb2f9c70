package core

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// The library's worker pool (DESIGN §5 "Threads and determinism"). OpenBLAS runs
// single-threaded; parallel work is split by the caller into a fixed partition that depends only
// on the shapes and the thread setting (span, partsFor), never on timing or on how many calls
// run at once, so concurrent calls give bitwise the same results as serial ones. Which goroutine
// runs which part does not matter: parts write disjoint outputs.
//
// The workers are NumThreads()−1 long-lived goroutines (the caller runs parts too) sharing one
// queue, started on first use, never from init(). Each runs with debug.SetPanicOnFault(true);
// a panic in any part is recovered and re-raised in the caller once every part of that call has
// finished (the parts use the caller's buffers). Waiting callers run queued parts themselves, so
// nested or concurrent run calls cannot deadlock and make progress even when every worker is
// busy. run allocates nothing: the caller supplies its job as a pointer (no closure) and a
// poolCall that it keeps, e.g. in its workspace.

// poolJob is parallel work: do(part) computes part `part` of a fixed partition.
type poolJob interface{ do(part int) }

// poolCall is the per-call bookkeeping of run; a caller keeps one per concurrent use (it must not
// be used by two run calls at once) so that run allocates nothing.
type poolCall struct {
	job     poolJob
	pending atomic.Int32
	done    chan struct{}
	mu      sync.Mutex
	failed  bool
	pval    any
	pstack  []byte
}

type poolWork struct {
	c    *poolCall
	part int
}

var (
	threadSetting atomic.Int32 // 0: runtime.NumCPU()
	poolMu        sync.Mutex   // guards poolWorkers
	poolWorkers   int
	poolQueue     = make(chan poolWork, 1024)
	poolQuit      = make(chan struct{}, 1024) // one token stops one idle worker
)

// NumThreads is the library's thread setting: how many parts parallel work is split into at
// most (default runtime.NumCPU()).
func NumThreads() int {
	if n := int(threadSetting.Load()); n > 0 {
		return n
	}
	return runtime.NumCPU()
}

// SetNumThreads sets the thread setting (n < 1: the default, runtime.NumCPU()) and stops surplus
// workers. Results may depend on the setting (the partition does), never on timing. Calls in
// flight keep the partition they started with.
func SetNumThreads(n int) {
	if n < 1 {
		n = 0
	}
	threadSetting.Store(int32(n))
	poolMu.Lock()
	defer poolMu.Unlock()
	for want := NumThreads() - 1; poolWorkers > want; poolWorkers-- {
		poolQuit <- struct{}{}
	}
}

// ensureWorkers starts workers up to NumThreads()−1.
func ensureWorkers() {
	want := NumThreads() - 1
	poolMu.Lock()
	for ; poolWorkers < want; poolWorkers++ {
		go poolWorker()
	}
	poolMu.Unlock()
}

func poolWorker() {
	debug.SetPanicOnFault(true)
	for {
		select {
		case w := <-poolQueue:
			w.c.exec(w.part)
		case <-poolQuit:
			return
		}
	}
}

// exec runs one part, recording the first panic, and signals the caller after the last part.
func (c *poolCall) exec(part int) {
	defer func() {
		if v := recover(); v != nil {
			c.mu.Lock()
			if !c.failed {
				c.failed, c.pval, c.pstack = true, v, debug.Stack()
			}
			c.mu.Unlock()
		}
		if c.pending.Add(-1) == 0 {
			c.done <- struct{}{}
		}
	}()
	c.job.do(part)
}

// run calls j.do(p) for every p in [0, parts) — part 0 on the calling goroutine, the rest on the
// workers (or on the caller, which runs queued parts of any call while it waits) — and returns
// when all have finished. A panic in any part is re-raised here once all parts have finished
// (the first one recorded, as a poolPanic carrying its value and stack). With parts ≤ 1 it just
// calls j.do(0).
func (c *poolCall) run(parts int, j poolJob) {
	if parts <= 1 {
		if parts == 1 {
			j.do(0)
		}
		return
	}
	ensureWorkers()
	if c.done == nil {
		c.done = make(chan struct{}, 1)
	}
	c.job, c.failed, c.pval = j, false, nil
	c.pending.Store(int32(parts))
	for p := 1; p < parts; p++ {
		select {
		case poolQueue <- poolWork{c, p}:
		default: // queue full: run it here
			c.exec(p)
		}
	}
	c.exec(0)
	for waiting := true; waiting; {
		select {
		case <-c.done:
			waiting = false
		case w := <-poolQueue:
			w.c.exec(w.part)
		}
	}
	c.job = nil
	if c.failed {
		p := poolPanic{c.pval, c.pstack}
		c.pval, c.pstack = nil, nil
		panic(p)
	}
}

// poolPanic is a panic raised in a pool part, re-raised in the caller with the part's stack.
type poolPanic struct {
	val   any
	stack []byte
}

func (p poolPanic) Error() string { return fmt.Sprintf("panic in a worker: %v\n%s", p.val, p.stack) }

// Unwrap gives the original value when it was an error (e.g. a runtime.Error from a fault).
func (p poolPanic) Unwrap() error {
	if err, ok := p.val.(error); ok {
		return err
	}
	return nil
}

// partsFor is how many parts n items are split into when each part should hold at least
// minPer items: min(threads, ⌈n/minPer⌉), at least 1. threads is the caller's snapshot of
// NumThreads(), taken once per operation.
func partsFor(n, minPer, threads int) int {
	if minPer < 1 {
		minPer = 1
	}
	p := (n + minPer - 1) / minPer
	if p > threads {
		p = threads
	}
	if p < 1 {
		p = 1
	}
	return p
}

// span is part i of the fixed partition of [0, n) into parts contiguous ranges whose bounds are
// multiples of align (except n itself), as even as align allows: the earlier parts take the
// extra blocks.
func span(n, parts, i, align int) (lo, hi int) {
	if align < 1 {
		align = 1
	}
	blocks := (n + align - 1) / align
	q, r := blocks/parts, blocks%parts
	lo = (i*q + min(i, r)) * align
	hi = lo + (q+b2i(i < r))*align
	return min(lo, n), min(hi, n)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
