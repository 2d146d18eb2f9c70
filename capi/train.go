package main

// Training, datasets and ensembles in the C API: temporal_train, the trainer handle,
// temporal_dataset_write, temporal_ensemble_predict. Thin: the work is core's (Train,
// Trainer, WriteHDF5Dataset, EnsemblePredict); here are the checks, probes and handles.

/*
#include <stddef.h>
#include <stdint.h>
*/
import "C"

import (
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"unsafe"

	"libtemporal/core"
)

// --- trainer handles ----------------------------------------------------------------------

// Trainer handles come from their own sparse range (tag 0x7d), so a model handle is never a
// trainer handle and the other way round.
const trainerTag = uint64(0x7d) << 56

// trainerEntry is one live trainer. It holds a reference on its model's entry for its whole
// life; mu serialises steps on the trainer (core.Trainer is not safe for concurrent use).
type trainerEntry struct {
	mu    sync.Mutex
	tr    *core.Trainer
	model *entry
	refs  atomic.Int64
}

var trainers = handleTable[*trainerEntry]{kind: "trainer", tag: trainerTag}

func newTrainerHandle(te *trainerEntry) uint64 {
	te.refs.Store(1)
	return trainers.add(te)
}

func acquireTrainer(h uint64) (*trainerEntry, error) { return trainers.acquire(h) }

func (te *trainerEntry) hold() { te.refs.Add(1) }

func (te *trainerEntry) release() {
	if te.refs.Add(-1) == 0 {
		te.tr = nil
		te.model.release()
	}
}

// --- exports ------------------------------------------------------------------------------

//export tgo_hdf5_available
func tgo_hdf5_available() C.int {
	if core.HDF5Available {
		return 1
	}
	return 0
}

//export tgo_trainer_create
func tgo_trainer_create(h C.uint64_t, cfg unsafe.Pointer, out *C.uint64_t, msg *C.char, msgCap C.size_t) C.int {
	return guard("temporal_trainer_create", msg, msgCap, func() error {
		if out == nil {
			return statusErrf(stInvalidArgument, "out is NULL")
		}
		setOut(out, 0)
		s, err := readTrainConfig(cfg)
		if err != nil {
			return err
		}
		e, err := acquire(uint64(h))
		if err != nil {
			return err
		}
		if e.gpu != nil {
			e.release()
			return statusErrf(stUnsupported, "the model is on %s: training runs on the CPU (load the model with device \"cpu\")", e.device)
		}
		to := s.run.Trainer
		to.Loss.Alpha = nil // a trainer starts without class weights (documented; set_class_weights)
		e.mu.RLock()
		tr, err := core.NewTrainer(e.model, to)
		e.mu.RUnlock()
		if err != nil {
			e.release()
			return err
		}
		th := newTrainerHandle(&trainerEntry{tr: tr, model: e}) // the entry keeps e's reference
		setOut(out, th)
		logf(logInfo, "created trainer %#x for model %#x", th, uint64(h))
		return nil
	})
}

//export tgo_trainer_step
func tgo_trainer_step(h C.uint64_t, features *C.float, batch, frames, featureDim C.int64_t, lengths *C.int32_t,
	labels *C.int64_t, lossOut *C.float, msg *C.char, msgCap C.size_t) C.int {
	return guard("temporal_trainer_step", msg, msgCap, func() error {
		if features == nil {
			return statusErrf(stInvalidArgument, "features is NULL")
		}
		if labels == nil {
			return statusErrf(stInvalidArgument, "labels is NULL")
		}
		B, T, F := int64(batch), int64(frames), int64(featureDim)
		if B < 1 || T < 1 || F < 1 {
			return statusErrf(stInvalidArgument, "batch = %d, frames = %d, feature_dim = %d: each must be >= 1", B, T, F)
		}
		te, err := acquireTrainer(uint64(h))
		if err != nil {
			return err
		}
		defer te.release()
		e := te.model
		if F != int64(e.featureDim) {
			return statusErrf(stShape, "feature_dim = %d, but the model takes %d features per frame", F, e.featureDim)
		}
		x, lens, err := probeBatch(features, lengths, B, T, F)
		if err != nil {
			return err
		}
		labs := unsafe.Slice((*int64)(unsafe.Pointer(labels)), int(B))
		for b, y := range labs {
			if y < 0 || y >= int64(e.numClasses) {
				return statusErrf(stInvalidArgument, "labels[%d] = %d out of range [0, num_classes = %d)", b, y, e.numClasses)
			}
		}
		if lossOut != nil {
			*lossOut = 0 // probe: written from Go before any work
		}
		te.mu.Lock()
		defer te.mu.Unlock()
		e.mu.Lock() // exclusive: predicts on this model wait for the step
		defer e.mu.Unlock()
		loss, err := te.tr.Step(x, int(B), int(T), lens, labs)
		if perr := refreshPrecision(e); err == nil {
			err = perr // the bf16 copy of W_hh follows the new weights (temporal_model_set_precision)
		}
		if err != nil {
			return err
		}
		if lossOut != nil {
			*lossOut = C.float(loss)
		}
		return nil
	})
}

//export tgo_trainer_lr
func tgo_trainer_lr(h C.uint64_t, lr *C.double, msg *C.char, msgCap C.size_t) C.int {
	return guard("temporal_trainer_lr", msg, msgCap, func() error {
		if lr == nil {
			return statusErrf(stInvalidArgument, "lr is NULL")
		}
		return withTrainer(h, func(tr *core.Trainer) error {
			*lr = C.double(tr.LR())
			return nil
		})
	})
}

//export tgo_trainer_set_class_weights
func tgo_trainer_set_class_weights(h C.uint64_t, weights *C.float, n C.int32_t, msg *C.char, msgCap C.size_t) C.int {
	return guard("temporal_trainer_set_class_weights", msg, msgCap, func() error {
		if weights == nil && n != 0 {
			return statusErrf(stInvalidArgument, "weights is NULL with n = %d (NULL removes the weights: n = 0)", int32(n))
		}
		return withTrainer(h, func(tr *core.Trainer) error {
			var w []float32
			if weights != nil {
				if classes := tr.Model.Config().NumClasses; int(n) != classes {
					return statusErrf(stInvalidArgument, "n = %d class weights for a model of %d classes", int32(n), classes)
				}
				w = append(w, unsafe.Slice((*float32)(unsafe.Pointer(weights)), int(n))...) // copied
			}
			return tr.SetClassWeights(w)
		})
	})
}

//export tgo_trainer_save_state
func tgo_trainer_save_state(h C.uint64_t, path *C.char, msg *C.char, msgCap C.size_t) C.int {
	return guard("temporal_trainer_save_state", msg, msgCap, func() error {
		p, err := goPath(path, "path")
		if err != nil {
			return err
		}
		return withTrainer(h, func(tr *core.Trainer) error { return tr.SaveState(p) })
	})
}

//export tgo_trainer_load_state
func tgo_trainer_load_state(h C.uint64_t, path *C.char, msg *C.char, msgCap C.size_t) C.int {
	return guard("temporal_trainer_load_state", msg, msgCap, func() error {
		p, err := goPath(path, "path")
		if err != nil {
			return err
		}
		return withTrainer(h, func(tr *core.Trainer) error { return tr.LoadState(p) })
	})
}

// withTrainer runs f on the trainer of handle h, holding a reference and its lock (steps on the
// trainer wait; core.Trainer is not safe for concurrent use).
func withTrainer(h C.uint64_t, f func(*core.Trainer) error) error {
	te, err := acquireTrainer(uint64(h))
	if err != nil {
		return err
	}
	defer te.release()
	te.mu.Lock()
	defer te.mu.Unlock()
	return f(te.tr)
}

//export tgo_trainer_free
func tgo_trainer_free(h C.uint64_t, msg *C.char, msgCap C.size_t) C.int {
	return guard("temporal_trainer_free", msg, msgCap, func() error {
		te, err := trainers.remove(uint64(h))
		if err != nil {
			return err
		}
		te.release()
		return nil
	})
}

// probeBatch views and checks a batch from the caller: sizes against the limits, every feature
// read (finite), every length read and in [1, T].
func probeBatch(features *C.float, lengths *C.int32_t, B, T, F int64) ([]float32, []int32, error) {
	nx, ok := mulChecked(B, T, F)
	if !ok || B > core.MaxBatch || T > core.MaxFrames {
		return nil, nil, statusErrf(stOutOfMemory, "batch·frames·feature_dim = %d·%d·%d exceeds the library's limits (batch <= %d, frames <= %d, %d elements)",
			B, T, F, core.MaxBatch, core.MaxFrames, maxElems)
	}
	x := floats(unsafe.Pointer(features), nx)
	if i := firstNonFinite(x); i >= 0 {
		return nil, nil, statusErrf(stNumeric, "features[%d] (clip %d, frame %d, feature %d) is %v", i, int64(i)/(T*F), int64(i)/F%T, int64(i)%F, x[i])
	}
	var lens []int32
	if lengths != nil {
		lens = int32s(unsafe.Pointer(lengths), B)
		for b, n := range lens {
			if n < 1 || int64(n) > T {
				return nil, nil, statusErrf(stInvalidArgument, "lengths[%d] = %d out of range [1, frames = %d]", b, n, T)
			}
		}
	}
	return x, lens, nil
}

// cString reads a NUL-terminated string of at most limit bytes from C memory, byte by byte (so
// nothing past the NUL is read); ok=false when it is longer.
func cString(p *C.char, limit int) (string, bool) {
	s := unsafe.Slice((*byte)(unsafe.Pointer(p)), limit+1)
	k := 0
	for k < len(s) && s[k] != 0 {
		k++
	}
	if k > limit {
		return "", false
	}
	return string(s[:k]), true
}

// maxPathBytes bounds a path from the caller.
const maxPathBytes = 1 << 16

func goPath(p *C.char, what string) (string, error) {
	if p == nil {
		return "", statusErrf(stInvalidArgument, "%s is NULL", what)
	}
	s, ok := cString(p, maxPathBytes)
	if !ok {
		return "", statusErrf(stInvalidArgument, "%s is longer than %d bytes", what, maxPathBytes)
	}
	if s == "" {
		return "", statusErrf(stInvalidArgument, "%s is empty", what)
	}
	return s, nil
}

//export tgo_train
func tgo_train(trainPath, valPath, outDir *C.char, modelCfg, cfg unsafe.Pointer, progressCtx unsafe.Pointer,
	report unsafe.Pointer, msg *C.char, msgCap C.size_t) C.int {
	return guard("temporal_train", msg, msgCap, func() error {
		tp, err := goPath(trainPath, "train_h5")
		if err != nil {
			return err
		}
		vp := ""
		if valPath != nil {
			if vp, err = goPath(valPath, "val_h5"); err != nil {
				return err
			}
		}
		od, err := goPath(outDir, "out_dir")
		if err != nil {
			return err
		}
		s, err := readTrainConfig(cfg)
		if err != nil {
			return err
		}
		run := s.run
		if modelCfg != nil {
			if run.Model, err = readConfig(modelCfg); err != nil {
				return err
			}
		} else {
			run.Model.FeatureDim, run.Model.NumClasses = 0, 0 // from the training set
		}
		if err := checkReportStruct(report); err != nil {
			return err
		}
		if abs, err := filepath.Abs(filepath.Join(od, "best.safetensors")); err == nil && len(abs) > maxReportPath && report != nil {
			return statusErrf(stInvalidArgument, "out_dir is too long: %s does not fit report_out->best_model_path (%d bytes)", abs, maxReportPath)
		}
		if !core.HDF5Available {
			return statusErrf(stUnsupported, "this build has no HDF5 support (built with the nohdf5 tag): temporal_train reads HDF5 datasets")
		}
		tr, err := core.OpenHDF5Dataset(tp)
		if err != nil {
			return err
		}
		defer tr.Close()
		run.Train = tr
		if vp != "" {
			va, err := core.OpenHDF5Dataset(vp)
			if err != nil {
				return err
			}
			defer va.Close()
			run.Val = va
		}
		run.OutDir = od
		pc := &progressCaller{ctx: progressCtx}
		hasVal := run.Val != nil
		logf(logInfo, "training on %s (%d clips) into %s", tp, tr.Len(), od)
		res, err := core.Train(run, func(p core.Progress) bool { return pc.call(p, hasVal) })
		if werr := writeReport(report, res); werr != nil && err == nil {
			err = werr
		}
		return err
	})
}

// maxClassNameLen bounds one class name (as temporal_model_set_class_names).
const maxClassNameLen = 4096

//export tgo_dataset_write
func tgo_dataset_write(path *C.char, features *C.float, n, maxFrames, featureDim C.int64_t, lengths *C.int32_t,
	labels *C.int64_t, names **C.char, numClasses C.int32_t, msg *C.char, msgCap C.size_t) C.int {
	return guard("temporal_dataset_write", msg, msgCap, func() error {
		if !core.HDF5Available {
			return statusErrf(stUnsupported, "this build has no HDF5 support (built with the nohdf5 tag)")
		}
		p, err := goPath(path, "path")
		if err != nil {
			return err
		}
		if features == nil || labels == nil {
			return statusErrf(stInvalidArgument, "features or labels is NULL")
		}
		N, T, F := int64(n), int64(maxFrames), int64(featureDim)
		if N < 1 || T < 1 || F < 1 {
			return statusErrf(stInvalidArgument, "n = %d, max_frames = %d, feature_dim = %d: each must be >= 1", N, T, F)
		}
		if numClasses < 2 || int64(numClasses) > core.MaxClasses {
			return statusErrf(stInvalidArgument, "num_classes = %d must be in [2, %d]", int(numClasses), core.MaxClasses)
		}
		nx, ok := mulChecked(N, T, F)
		if !ok || N > core.MaxDatasetClips || T*F > core.MaxDatasetClipElems || T > core.MaxFrames || F > core.MaxDim {
			return statusErrf(stOutOfMemory, "n·max_frames·feature_dim = %d·%d·%d exceeds the library's limits", N, T, F)
		}
		x := floats(unsafe.Pointer(features), nx)
		var lens []int32
		if lengths != nil {
			lens = slices.Clone(int32s(unsafe.Pointer(lengths), N))
			for i, v := range lens {
				if v < 1 || int64(v) > T {
					return statusErrf(stInvalidArgument, "lengths[%d] = %d out of range [1, max_frames = %d]", i, v, T)
				}
			}
		} else {
			lens = make([]int32, N)
			for i := range lens {
				lens[i] = int32(T)
			}
		}
		for i := int64(0); i < N; i++ { // read every element; only a clip's own frames must be finite
			clip := x[i*T*F : (i+1)*T*F]
			if j := firstNonFinite(clip[:int64(lens[i])*F]); j >= 0 {
				return statusErrf(stNumeric, "features of clip %d, frame %d, feature %d is %v", i, int64(j)/F, int64(j)%F, clip[j])
			}
			firstNonFinite(clip[int64(lens[i])*F:])
		}
		labs := slices.Clone(unsafe.Slice((*int64)(unsafe.Pointer(labels)), int(N)))
		for i, y := range labs {
			if y < 0 || y >= int64(numClasses) {
				return statusErrf(stInvalidArgument, "labels[%d] = %d out of range [0, num_classes = %d)", i, y, int(numClasses))
			}
		}
		classes := make([]string, numClasses)
		seen := make(map[string]int, numClasses)
		for i := range classes {
			if names == nil {
				classes[i] = strconv.Itoa(i)
				continue
			}
			ptr := unsafe.Slice(names, int(numClasses))[i]
			if ptr == nil {
				return statusErrf(stInvalidArgument, "class_names[%d] is NULL", i)
			}
			s, ok := cString(ptr, maxClassNameLen)
			if !ok {
				return statusErrf(stInvalidArgument, "class_names[%d] is longer than %d bytes", i, maxClassNameLen)
			}
			if s == "" {
				return statusErrf(stInvalidArgument, "class_names[%d] is empty", i)
			}
			if j, dup := seen[s]; dup {
				return statusErrf(stInvalidArgument, "class_names[%d] = %q repeats class_names[%d]", i, s, j)
			}
			seen[s] = i
			classes[i] = s
		}
		d, err := core.NewMemDataset(x, labs, lens, int(T), int(F), classes)
		if err != nil {
			return err
		}
		if err := core.WriteHDF5Dataset(p, d); err != nil {
			return err
		}
		logf(logInfo, "wrote dataset %s (%d clips)", p, N)
		return nil
	})
}

// maxEnsemble bounds n_models.
const maxEnsemble = 1024

//export tgo_ensemble_predict
func tgo_ensemble_predict(models *C.uint64_t, nModels C.size_t, features *C.float, batch, frames, featureDim C.int64_t,
	lengths *C.int32_t, opt unsafe.Pointer, out *C.float, outLen C.size_t, frameWeights *C.float, frameWeightsLen C.size_t,
	msg *C.char, msgCap C.size_t) C.int {
	return guard("temporal_ensemble_predict", msg, msgCap, func() error {
		if models == nil || features == nil || out == nil {
			return statusErrf(stInvalidArgument, "models, features or probs_out is NULL")
		}
		if nModels == 0 || nModels > maxEnsemble {
			return statusErrf(stInvalidArgument, "n_models = %d must be in [1, %d]", uint64(nModels), maxEnsemble)
		}
		B, T, F := int64(batch), int64(frames), int64(featureDim)
		if B < 1 || T < 1 || F < 1 {
			return statusErrf(stInvalidArgument, "batch = %d, frames = %d, feature_dim = %d: each must be >= 1", B, T, F)
		}
		o, err := readPredictOptions(opt)
		if err != nil {
			return err
		}
		hs := slices.Clone(unsafe.Slice((*uint64)(unsafe.Pointer(models)), int(nModels)))
		entries := make([]*entry, 0, len(hs))
		defer func() {
			for _, e := range entries {
				e.release()
			}
		}()
		for i, h := range hs {
			e, err := acquire(h)
			if err != nil {
				return statusErrf(stBadHandle, "models[%d]: %v", i, err)
			}
			entries = append(entries, e)
			if e.featureDim != entries[0].featureDim || e.numClasses != entries[0].numClasses {
				return statusErrf(stShape, "models[%d] takes feature_dim %d with %d classes, models[0] feature_dim %d with %d",
					i, e.featureDim, e.numClasses, entries[0].featureDim, entries[0].numClasses)
			}
		}
		if F != int64(entries[0].featureDim) {
			return statusErrf(stShape, "feature_dim = %d, but the models take %d features per frame", F, entries[0].featureDim)
		}
		C_ := int64(entries[0].numClasses)
		x, lens, err := probeBatch(features, lengths, B, T, F)
		if err != nil {
			return err
		}
		nOut := B * C_
		if uint64(outLen) < uint64(nOut) {
			return statusErrf(stShape, "out_len = %d, needs batch·classes = %d·%d = %d", uint64(outLen), B, C_, nOut)
		}
		nFW := B * T
		if frameWeights != nil && uint64(frameWeightsLen) < uint64(nFW) {
			return statusErrf(stShape, "frame_weights_len = %d, needs batch·frames = %d·%d = %d", uint64(frameWeightsLen), B, T, nFW)
		}
		probs := floats(unsafe.Pointer(out), nOut)
		clear(probs)
		var fw []float32
		if frameWeights != nil {
			fw = floats(unsafe.Pointer(frameWeights), nFW)
			clear(fw)
		}
		// Read-lock each distinct model once, in handle order (a fixed order: no lock cycles
		// with other ensembles while a writer waits).
		order := slices.Clone(hs)
		slices.Sort(order)
		order = slices.Compact(order)
		byHandle := make(map[uint64]*entry, len(hs))
		for i, h := range hs {
			byHandle[h] = entries[i]
		}
		for _, h := range order {
			byHandle[h].mu.RLock()
			defer byHandle[h].mu.RUnlock()
		}
		ms := make([]*core.Model, len(entries))
		for i, e := range entries {
			ms[i] = e.model
		}
		res, err := core.EnsemblePredict(ms, x, int(B), int(T), lens, o.padding, core.EnsembleOptions{TTA: o.tta, FrameWeights: fw})
		if err != nil {
			return err
		}
		copy(probs, res)
		return nil
	})
}
