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

var handles struct {
	sync.RWMutex
	m     map[uint64]*entry
	base  uint64
	count uint64
}

func newHandle(model *core.Model, device string, gpu *cuda.Model) uint64 {
	cfg := model.Config()
	e := &entry{model: model, gpu: gpu, device: device, featureDim: cfg.FeatureDim, numClasses: cfg.NumClasses}
	e.refs.Store(1)
	handles.Lock()
	defer handles.Unlock()
	if handles.m == nil {
		handles.m = make(map[uint64]*entry)
		var b [8]byte
		_, _ = rand.Read(b[:]) // never fails on Linux; a zero base is still a valid start
		handles.base = binary.LittleEndian.Uint64(b[:])
	}
	for {
		handles.count++
		h := handleTag | (handles.base+handles.count*handleStep)&handleMask
		if _, taken := handles.m[h]; !taken {
			handles.m[h] = e
			return h
		}
	}
}

// acquire finds h's entry and counts one more call in flight; release must follow.
func acquire(h uint64) (*entry, error) {
	handles.RLock()
	e := handles.m[h]
	if e != nil {
		e.refs.Add(1) // under the read lock, so it cannot interleave with free's delete
	}
	handles.RUnlock()
	if e == nil {
		if h == 0 {
			return nil, statusErrf(stBadHandle, "handle 0 is never valid")
		}
		return nil, statusErrf(stBadHandle, "handle %#x is not a live model (freed, or never issued)", h)
	}
	return e, nil
}

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
	handles.Lock()
	e := handles.m[h]
	delete(handles.m, h)
	handles.Unlock()
	if e == nil {
		if h == 0 {
			return statusErrf(stBadHandle, "handle 0 is never valid")
		}
		return statusErrf(stBadHandle, "handle %#x is not a live model (freed twice, or never issued)", h)
	}
	e.release()
	return nil
}
