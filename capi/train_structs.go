package main

// The C structs of training (temporal_train_config, temporal_train_progress,
// temporal_train_report) and their Go views. Kept out of the files with //export, whose cgo
// preamble may hold declarations only.

/*
#include "temporal.h"
int tcapi_call_progress(void *ctx, void *progress);
*/
import "C"

import (
	"math"
	"path/filepath"
	"strconv"
	"unsafe"

	"libtemporal/core"
)

// Version 1 sizes of the training structs (see the v1 sizes in structs.go).
const (
	trainConfigV1Size = 96
	progressV1Size    = 104
	reportV1Size      = 4136
)

var (
	_ = [1]struct{}{}[unsafe.Sizeof(C.temporal_train_config{})-trainConfigV1Size]
	_ = [1]struct{}{}[unsafe.Sizeof(C.temporal_train_progress{})-progressV1Size]
	_ = [1]struct{}{}[unsafe.Sizeof(C.temporal_train_report{})-reportV1Size]
)

const (
	lossFocal        = C.TEMPORAL_LOSS_FOCAL
	lossCrossEntropy = C.TEMPORAL_LOSS_CROSS_ENTROPY
	maxReportPath    = len(C.temporal_train_report{}.best_model_path) - 1
)

// trainSettings is the Go view of temporal_train_config: the whole run (core.TrainConfig
// without datasets, model and directory) and the trainer options inside it.
type trainSettings struct {
	run core.TrainConfig
}

// readTrainConfig reads a caller's temporal_train_config (NULL: defaults) and checks every
// field, so that a bad value is reported before any file is opened.
func readTrainConfig(p unsafe.Pointer) (trainSettings, error) {
	c := C.temporal_train_config_default()
	if p != nil {
		if err := readStruct(unsafe.Pointer(&c), unsafe.Sizeof(c), p, trainConfigV1Size, "cfg"); err != nil {
			return trainSettings{}, err
		}
	}
	bad := func(field string, v any, want string) error {
		return statusErrf(stInvalidArgument, "cfg->%s = %v: %s", field, v, want)
	}
	finite := func(v C.double) bool { return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) }
	bool01 := func(field string, v C.int32_t) error {
		if v != 0 && v != 1 {
			return bad(field, int(v), "must be 0 or 1")
		}
		return nil
	}
	switch {
	case c.epochs < 1:
		return trainSettings{}, bad("epochs", int(c.epochs), "must be >= 1")
	case c.batch_size < 1 || int64(c.batch_size) > core.MaxBatch:
		return trainSettings{}, bad("batch_size", int(c.batch_size), "must be in [1, "+strconv.Itoa(core.MaxBatch)+"]")
	case c.patience < 0:
		return trainSettings{}, bad("patience", int(c.patience), "must be >= 0 (0: no early stopping)")
	case !(c.lr > 0) || !finite(c.lr):
		return trainSettings{}, bad("lr", float64(c.lr), "must be finite and > 0")
	case !(c.weight_decay >= 0) || !finite(c.weight_decay):
		return trainSettings{}, bad("weight_decay", float64(c.weight_decay), "must be finite and >= 0")
	case c.padding != paddingMasked && c.padding != paddingReference:
		return trainSettings{}, bad("padding", int(c.padding), "is not a temporal_padding value")
	case c.loss != lossFocal && c.loss != lossCrossEntropy:
		return trainSettings{}, bad("loss", int(c.loss), "is not a temporal_loss value")
	case !(c.gamma >= 0) || !finite(c.gamma):
		return trainSettings{}, bad("gamma", float64(c.gamma), "must be finite and >= 0")
	case !(c.label_smoothing >= 0 && c.label_smoothing < 1):
		return trainSettings{}, bad("label_smoothing", float64(c.label_smoothing), "must be in [0, 1)")
	case c.checkpoint_every_steps < 0 || c.checkpoint_every_steps > math.MaxInt32:
		return trainSettings{}, bad("checkpoint_every_steps", int64(c.checkpoint_every_steps), "must be in [0, 2^31)")
	case !finite(c.clip_norm):
		return trainSettings{}, bad("clip_norm", float64(c.clip_norm), "must be finite (<= 0: no clipping)")
	}
	for _, f := range []struct {
		name string
		v    C.int32_t
	}{{"dropout", c.dropout}, {"augment", c.augment}, {"resume", c.resume}, {"class_weights", c.class_weights}} {
		if err := bool01(f.name, f.v); err != nil {
			return trainSettings{}, err
		}
	}
	if float64(c.lr) < 1e-6 {
		// The schedule's floor η_min = 1e-6 must not exceed η_0; keep the recipe's floor below it.
		return trainSettings{}, bad("lr", float64(c.lr), "must be >= 1e-6 (the schedule's floor eta_min)")
	}
	r := core.DefaultTrainConfig()
	r.Epochs = int(c.epochs)
	r.BatchSize = int(c.batch_size)
	r.Patience = int(c.patience)
	r.CheckpointEvery = int(c.checkpoint_every_steps)
	r.Resume = c.resume != 0
	r.NoClassWeights = c.class_weights == 0
	r.Augment.Enabled = c.augment != 0
	to := &r.Trainer
	to.AdamW.LR = float64(c.lr)
	to.AdamW.WeightDecay = float64(c.weight_decay)
	to.Seed = uint64(c.seed)
	r.InitSeed = uint64(c.seed)
	to.Padding = core.PaddingMasked
	if c.padding == paddingReference {
		to.Padding = core.PaddingReference
	}
	to.Loss.Kind = core.LossFocal
	if c.loss == lossCrossEntropy {
		to.Loss.Kind = core.LossCrossEntropy
	}
	to.Loss.Gamma = float64(c.gamma)
	to.Loss.Smoothing = float64(c.label_smoothing)
	to.Dropout = c.dropout != 0
	to.ClipNorm = float64(c.clip_norm)
	return trainSettings{run: r}, nil
}

// progressCaller turns core's Progress into temporal_train_progress and calls the host's
// callback through the shim's trampoline (Go cannot call a C function pointer). It runs on
// the goroutine of the temporal_train call, i.e. on the caller's thread.
type progressCaller struct {
	ctx      unsafe.Pointer // the shim's {fn, user}; nil: no callback
	haveVal  bool
	lastVal  [3]float64 // loss, accuracy, macro F1 of the last finished epoch
	progress C.temporal_train_progress
}

func (pc *progressCaller) call(p core.Progress, hasVal bool) bool {
	if p.Phase == "epoch" && hasVal {
		pc.haveVal = true
		pc.lastVal = [3]float64{p.ValLoss, p.ValAccuracy, p.ValMacroF1}
	}
	if pc.ctx == nil {
		return true
	}
	q := &pc.progress
	*q = C.temporal_train_progress{}
	q.struct_size = C.uint32_t(unsafe.Sizeof(*q))
	q.phase = C.TEMPORAL_PROGRESS_STEP
	if p.Phase == "epoch" {
		q.phase = C.TEMPORAL_PROGRESS_EPOCH
	}
	q.epoch = C.int32_t(p.Epoch)
	q.epochs = C.int32_t(p.Epochs)
	q.step = C.int64_t(p.Step)
	q.step_in_epoch = C.int32_t(p.StepInEpoch)
	q.steps_per_epoch = C.int32_t(p.StepsPerEpoch)
	q.loss = C.double(p.Loss)
	q.lr = C.double(p.LR)
	q.val_loss, q.val_accuracy, q.val_macro_f1 = -1, -1, -1
	if pc.haveVal {
		q.val_loss, q.val_accuracy, q.val_macro_f1 = C.double(pc.lastVal[0]), C.double(pc.lastVal[1]), C.double(pc.lastVal[2])
	}
	q.best_val_accuracy = C.double(p.BestValAccuracy)
	q.best_epoch = C.int32_t(p.BestEpoch)
	q.elapsed_seconds = C.double(p.Elapsed.Seconds())
	q.eta_seconds = C.double(p.ETA.Seconds())
	// q is Go memory without Go pointers, valid for the duration of the call: allowed by cgo.
	return C.tcapi_call_progress(pc.ctx, unsafe.Pointer(q)) == 0
}

// writeReport fills the caller's temporal_train_report (NULL: nothing) from a run's result.
func writeReport(p unsafe.Pointer, r *core.TrainResult) error {
	if p == nil || r == nil {
		return nil
	}
	c := C.temporal_train_report_default()
	c.epochs_run = C.int32_t(r.Epochs)
	c.best_epoch = C.int32_t(r.BestEpoch)
	if r.StoppedEarly {
		c.stopped_early = 1
	}
	c.final_step = C.int64_t(r.Steps)
	c.best_val_accuracy = C.double(r.BestValAccuracy)
	if n := len(r.History); n > 0 {
		c.final_train_loss = C.double(r.History[n-1].TrainLoss)
	}
	if r.Epochs > 0 && r.BestPath != "" {
		path := r.BestPath
		if abs, err := filepath.Abs(path); err == nil && len(abs) <= maxReportPath {
			path = abs
		}
		buf := unsafe.Slice((*byte)(unsafe.Pointer(&c.best_model_path[0])), len(c.best_model_path))
		n := copy(buf[:len(buf)-1], path)
		buf[n] = 0
	}
	return writeStruct(p, unsafe.Pointer(&c), unsafe.Sizeof(c), reportV1Size, "report_out")
}

// checkReportStruct rejects a report_out with a too small struct_size before training starts.
func checkReportStruct(p unsafe.Pointer) error {
	if p == nil {
		return nil
	}
	if size := uintptr(*(*uint32)(p)); size < reportV1Size {
		return statusErrf(stInvalidArgument, "report_out->struct_size = %d is smaller than version 1's %d (initialise it with temporal_train_report_default())", size, reportV1Size)
	}
	return nil
}
