package main

import (
	"crypto/rand"
	"encoding/binary"
	"sync"
	"sync/atomic"

	"libtemporal/core"
	"libtemporal/cuda"
)

// A handle is an integer from a sparse high range: a fixed tag in the top byte (so a handle
// truncated to 32 bits by a missing ctypes argtypes is never valid) and 48 bits that walk a
// random permutation (an odd multiplier is a bijection mod 2^48), so handles are never reused
// and never 0. The model behind one is found in a map on every call.
const (
	handleTag  = uint64(0x7e) << 56
	handleMask = uint64(1)<<48 - 1
	handleStep = uint64(0x9e3779b97f4a7c15)
)

// entry is one live model. refs counts the table's reference plus every call in flight; the
// model is dropped when it reaches 0, so free never waits for running predicts.
type entry struct {
	model  *core.Model
	gpu    *cuda.Model // the model's copy on its CUDA device; nil on the CPU
	device string
	// Sizes fixed for the model's life, cached so predict need not copy the config.
	featureDim, numClasses int
	mu                     sync.RWMutex // predict shares it; save (and later train-step) takes it exclusively
	refs                   atomic.Int64
}

// handleTable issues, finds and removes the handles of one kind of object (models, trainers).
// Each kind has its own tag, so a handle of one kind is never valid as the other.
type handleTable[P refCounted] struct {
	sync.RWMutex
	kind  string // "model" or "trainer", for messages
	tag   uint64
	m     map[uint64]P
	base  uint64
	count uint64
}

// refCounted is a table entry: hold counts one more call in flight (called under the table's
// read lock, so it cannot interleave with a removal).
type refCounted interface {
	comparable
	hold()
}

var handles = handleTable[*entry]{kind: "model", tag: handleTag}

// add issues a fresh handle for e.
func (t *handleTable[P]) add(e P) uint64 {
	t.Lock()
	defer t.Unlock()
	if t.m == nil {
		t.m = make(map[uint64]P)
		var b [8]byte
		_, _ = rand.Read(b[:]) // never fails on Linux; a zero base is still a valid start
		t.base = binary.LittleEndian.Uint64(b[:])
	}
	for {
		t.count++
		h := t.tag | (t.base+t.count*handleStep)&handleMask
		if _, taken := t.m[h]; !taken {
			t.m[h] = e
			return h
		}
	}
}

// acquire finds h's entry and counts one more call in flight; the entry's release must follow.
func (t *handleTable[P]) acquire(h uint64) (P, error) {
	t.RLock()
	e, ok := t.m[h]
	if ok {
		e.hold()
	}
	t.RUnlock()
	if !ok {
		return e, t.badHandle(h, "freed, or never issued")
	}
	return e, nil
}

// remove takes h out of the table at once and returns its entry, whose table reference the
// caller releases; calls in flight keep theirs.
func (t *handleTable[P]) remove(h uint64) (P, error) {
	t.Lock()
	e, ok := t.m[h]
	delete(t.m, h)
	t.Unlock()
	if !ok {
		return e, t.badHandle(h, "freed twice, or never issued")
	}
	return e, nil
}

func (t *handleTable[P]) badHandle(h uint64, why string) error {
	if h == 0 {
		if t.kind == "model" {
			return statusErrf(stBadHandle, "handle 0 is never valid")
		}
		return statusErrf(stBadHandle, "%s handle 0 is never valid", t.kind)
	}
	return statusErrf(stBadHandle, "handle %#x is not a live %s (%s)", h, t.kind, why)
}

func newHandle(model *core.Model, device string, gpu *cuda.Model) uint64 {
	cfg := model.Config()
	e := &entry{model: model, gpu: gpu, device: device, featureDim: cfg.FeatureDim, numClasses: cfg.NumClasses}
	e.refs.Store(1)
	return handles.add(e)
}

func acquire(h uint64) (*entry, error) { return handles.acquire(h) }

func (e *entry) hold() { e.refs.Add(1) }

func (e *entry) release() {
	if e.refs.Add(-1) == 0 {
		// Last reference: the CPU model is plain Go memory and goes with the GC. A CUDA copy
		// is freed on its device's thread, from a goroutine of its own so that free never
		// waits for other work queued on that device.
		if g := e.gpu; g != nil {
			e.gpu = nil
			go func() { _ = g.Close() }()
		}
		e.model = nil
	}
}

// freeHandle removes h at once; calls in flight keep their reference.
func freeHandle(h uint64) error {
	e, err := handles.remove(h)
	if err != nil {
		return err
	}
	e.release()
	return nil
}
