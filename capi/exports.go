package main

// The tgo_* functions are the Go side of the C API. shim.c defines the public temporal_*
// functions over them; the names never start with "temporal_", so the version script keeps
// them local. Each takes the shim's message buffer (C stack memory) and returns a status; the
// shim stores the message as the thread's last error when the status is not TEMPORAL_OK.

/*
#cgo CFLAGS: -I${SRCDIR}/../include -O2 -Wall -Wextra
#include <stddef.h>
#include <stdint.h>
*/
import "C"

import (
	"unsafe"

	"libtemporal/core"
)

//export tgo_set_num_threads
func tgo_set_num_threads(n C.int, msg *C.char, msgCap C.size_t) C.int {
	return guard("temporal_set_num_threads", msg, msgCap, func() error {
		if n < 0 || n > 4096 {
			return statusErrf(stInvalidArgument, "n = %d must be in [0, 4096] (0: one per core)", int(n))
		}
		core.SetNumThreads(int(n))
		return nil
	})
}

//export tgo_get_num_threads
func tgo_get_num_threads() C.int { return C.int(core.NumThreads()) }

// setOut writes a handle to the caller's out pointer (NULL checked by the caller of setOut).
func setOut(out *C.uint64_t, h uint64) { *out = C.uint64_t(h) }

//export tgo_model_create
func tgo_model_create(cfg unsafe.Pointer, seed C.uint64_t, out *C.uint64_t, msg *C.char, msgCap C.size_t) C.int {
	return guard("temporal_model_create", msg, msgCap, func() error {
		if out == nil {
			return statusErrf(stInvalidArgument, "out is NULL")
		}
		setOut(out, 0)
		c, err := readConfig(cfg)
		if err != nil {
			return err
		}
		m, err := core.NewModelInit(c, uint64(seed))
		if err != nil {
			return err
		}
		h := newHandle(m, "cpu", nil)
		setOut(out, h)
		logf(logInfo, "created model %#x (%d parameters, seed %d)", h, c.NumParams(), uint64(seed))
		return nil
	})
}

//export tgo_model_load
func tgo_model_load(path *C.char, opt unsafe.Pointer, out *C.uint64_t, msg *C.char, msgCap C.size_t) C.int {
	return guard("temporal_model_load", msg, msgCap, func() error {
		if out == nil {
			return statusErrf(stInvalidArgument, "out is NULL")
		}
		setOut(out, 0)
		p, err := goPath(path, "path")
		if err != nil {
			return err
		}
		o, err := readLoadOptions(opt)
		if err != nil {
			return err
		}
		ord, err := deviceOrdinal(o.device)
		if err != nil {
			return err
		}
		m, err := core.LoadFile(p, core.LoadOptions{NumHeads: o.numHeads})
		if err != nil {
			return err
		}
		gpu, err := openOnDevice(m, ord)
		if err != nil {
			return err
		}
		h := newHandle(m, o.device, gpu)
		setOut(out, h)
		logf(logInfo, "loaded model %#x from %s on %s", h, p, o.device)
		return nil
	})
}

// maxCheckpointBytes bounds temporal_model_load_memory's len before anything is read.
const maxCheckpointBytes = 4*core.MaxParamCount + 1<<30

//export tgo_model_load_memory
func tgo_model_load_memory(data unsafe.Pointer, n C.size_t, opt unsafe.Pointer, out *C.uint64_t, msg *C.char, msgCap C.size_t) C.int {
	return guard("temporal_model_load_memory", msg, msgCap, func() error {
		if out == nil {
			return statusErrf(stInvalidArgument, "out is NULL")
		}
		setOut(out, 0)
		if data == nil || n == 0 {
			return statusErrf(stInvalidArgument, "data is NULL or len is 0")
		}
		if uint64(n) > maxCheckpointBytes {
			return statusErrf(stOutOfMemory, "len = %d exceeds the largest checkpoint accepted (%d bytes)", uint64(n), uint64(maxCheckpointBytes))
		}
		o, err := readLoadOptions(opt)
		if err != nil {
			return err
		}
		ord, err := deviceOrdinal(o.device)
		if err != nil {
			return err
		}
		// core.LoadBytes copies every tensor into the model's own slab with Go code (so an
		// unmapped page faults in Go) and keeps no reference to data.
		m, err := core.LoadBytes(unsafe.Slice((*byte)(data), int(n)), core.LoadOptions{NumHeads: o.numHeads})
		if err != nil {
			return err
		}
		gpu, err := openOnDevice(m, ord)
		if err != nil {
			return err
		}
		h := newHandle(m, o.device, gpu)
		setOut(out, h)
		logf(logInfo, "loaded model %#x from %d bytes in memory on %s", h, uint64(n), o.device)
		return nil
	})
}

//export tgo_model_save
func tgo_model_save(h C.uint64_t, path *C.char, msg *C.char, msgCap C.size_t) C.int {
	return guard("temporal_model_save", msg, msgCap, func() error {
		p, err := goPath(path, "path")
		if err != nil {
			return err
		}
		e, err := acquire(uint64(h))
		if err != nil {
			return err
		}
		defer e.release()
		e.mu.Lock()
		defer e.mu.Unlock()
		if err := e.model.SaveFile(p); err != nil {
			return err
		}
		logf(logInfo, "saved model %#x to %s", uint64(h), p)
		return nil
	})
}

//export tgo_model_free
func tgo_model_free(h C.uint64_t, msg *C.char, msgCap C.size_t) C.int {
	return guard("temporal_model_free", msg, msgCap, func() error {
		if err := freeHandle(uint64(h)); err != nil {
			return err
		}
		logf(logDebug, "freed model %#x", uint64(h))
		return nil
	})
}

//export tgo_model_info
func tgo_model_info(h C.uint64_t, out unsafe.Pointer, msg *C.char, msgCap C.size_t) C.int {
	return guard("temporal_model_info", msg, msgCap, func() error {
		if out == nil {
			return statusErrf(stInvalidArgument, "out is NULL")
		}
		e, err := acquire(uint64(h))
		if err != nil {
			return err
		}
		defer e.release()
		e.mu.RLock()
		cfg := e.model.Config()
		e.mu.RUnlock()
		return writeConfig(out, cfg)
	})
}

//export tgo_model_class_name
func tgo_model_class_name(h C.uint64_t, index C.int32_t, buf *C.char, bufCap C.size_t, length *C.size_t, msg *C.char, msgCap C.size_t) C.int {
	return guard("temporal_model_class_name", msg, msgCap, func() error {
		if buf == nil && bufCap > 0 {
			return statusErrf(stInvalidArgument, "buf is NULL but cap is %d", uint64(bufCap))
		}
		e, err := acquire(uint64(h))
		if err != nil {
			return err
		}
		defer e.release()
		e.mu.RLock()
		cfg := e.model.Config()
		e.mu.RUnlock()
		if index < 0 || int(index) >= cfg.NumClasses {
			return statusErrf(stInvalidArgument, "index = %d out of range [0, %d)", int(index), cfg.NumClasses)
		}
		name := ""
		if len(cfg.ClassNames) > 0 {
			name = cfg.ClassNames[index]
		}
		if bufCap > 0 {
			if uint64(bufCap) > uint64(maxElems) {
				return statusErrf(stInvalidArgument, "cap = %d is implausibly large", uint64(bufCap))
			}
			putMsg(buf, bufCap, name)
		}
		if length != nil {
			*length = C.size_t(len(name))
		}
		return nil
	})
}

// maxClassNameBytes bounds one class name from the caller.
const maxClassNameBytes = 4096

//export tgo_model_set_class_names
func tgo_model_set_class_names(h C.uint64_t, names **C.char, n C.int32_t, msg *C.char, msgCap C.size_t) C.int {
	return guard("temporal_model_set_class_names", msg, msgCap, func() error {
		if n < 0 || n > C.int32_t(core.MaxClasses) {
			return statusErrf(stInvalidArgument, "n = %d out of range", int(n))
		}
		if names == nil && n > 0 {
			return statusErrf(stInvalidArgument, "names is NULL but n is %d", int(n))
		}
		e, err := acquire(uint64(h))
		if err != nil {
			return err
		}
		defer e.release()
		var list []string
		if n > 0 {
			ptrs := unsafe.Slice(names, int(n)) // read from Go: faults are recovered
			list = make([]string, n)
			for i, p := range ptrs {
				if p == nil {
					return statusErrf(stInvalidArgument, "names[%d] is NULL", i)
				}
				// A bounded strlen, byte by byte, so nothing past the NUL is read.
				s := unsafe.Slice((*byte)(unsafe.Pointer(p)), maxClassNameBytes+1)
				k := 0
				for k < len(s) && s[k] != 0 {
					k++
				}
				if k > maxClassNameBytes {
					return statusErrf(stInvalidArgument, "names[%d] is longer than %d bytes", i, maxClassNameBytes)
				}
				list[i] = string(s[:k])
			}
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.model.SetClassNames(list)
	})
}

//export tgo_predict
func tgo_predict(h C.uint64_t, features *C.float, batch, frames, featureDim C.int64_t, lengths *C.int32_t,
	opt unsafe.Pointer, out *C.float, outLen C.size_t, frameWeights *C.float, frameWeightsLen C.size_t,
	msg *C.char, msgCap C.size_t) C.int {
	return guard("temporal_predict", msg, msgCap, func() error {
		if features == nil {
			return statusErrf(stInvalidArgument, "features is NULL")
		}
		if out == nil {
			return statusErrf(stInvalidArgument, "out is NULL")
		}
		B, T, F := int64(batch), int64(frames), int64(featureDim)
		if B < 1 || T < 1 || F < 1 {
			return statusErrf(stInvalidArgument, "batch = %d, frames = %d, feature_dim = %d: each must be >= 1", B, T, F)
		}
		o, err := readPredictOptions(opt)
		if err != nil {
			return err
		}
		e, err := acquire(uint64(h))
		if err != nil {
			return err
		}
		defer e.release()
		e.mu.RLock()
		defer e.mu.RUnlock()
		m := e.model
		if F != int64(e.featureDim) {
			return statusErrf(stShape, "feature_dim = %d, but the model takes %d features per frame", F, e.featureDim)
		}
		nx, ok := mulChecked(B, T, F)
		if !ok || B > core.MaxBatch || T > core.MaxFrames {
			return statusErrf(stOutOfMemory, "batch·frames·feature_dim = %d·%d·%d exceeds the library's limits (batch <= %d, frames <= %d, %d elements)",
				B, T, F, core.MaxBatch, core.MaxFrames, maxElems)
		}
		C_ := int64(e.numClasses)
		nOut := B * C_ // B <= 2^20 and C <= 2^20: no overflow
		if uint64(outLen) < uint64(nOut) {
			return statusErrf(stShape, "out_len = %d, needs batch·classes = %d·%d = %d", uint64(outLen), B, C_, nOut)
		}
		nFW := B * T
		if frameWeights != nil && uint64(frameWeightsLen) < uint64(nFW) {
			return statusErrf(stShape, "frame_weights_len = %d, needs batch·frames = %d·%d = %d", uint64(frameWeightsLen), B, T, nFW)
		}

		// Probes: read every input element, write every output element, all from Go.
		x := floats(unsafe.Pointer(features), nx)
		if i := firstNonFinite(x); i >= 0 {
			return statusErrf(stNumeric, "features[%d] (clip %d, frame %d, feature %d) is %v", i, int64(i)/(T*F), int64(i)/F%T, int64(i)%F, x[i])
		}
		var lens []int32
		if lengths != nil {
			lens = int32s(unsafe.Pointer(lengths), B)
			for b, n := range lens {
				if n < 1 || int64(n) > T {
					return statusErrf(stInvalidArgument, "lengths[%d] = %d out of range [1, frames = %d]", b, n, T)
				}
			}
		}
		logits := floats(unsafe.Pointer(out), nOut)
		clear(logits)
		var fw []float32
		if frameWeights != nil {
			fw = floats(unsafe.Pointer(frameWeights), nFW)
			clear(fw)
		}

		if o.tta {
			// DESIGN §3's TTA is core's (Model.PredictTTA), on the CPU weights.
			if !o.probs {
				return statusErrf(stInvalidArgument, "opt->tta = TEMPORAL_TTA_ALL averages probabilities: set opt->output = TEMPORAL_OUTPUT_PROBABILITIES")
			}
			return m.PredictTTA(x, int(B), int(T), lens, o.padding, logits, fw)
		}
		forward := m.Forward
		if e.gpu != nil {
			forward = e.gpu.Forward
		}
		if err := forward(x, int(B), int(T), lens, o.padding, logits, fw); err != nil {
			return err
		}
		if o.probs {
			core.SoftmaxRows(logits, int(B), int(C_))
		}
		return nil
	})
}
