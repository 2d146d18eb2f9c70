package main

/*
#include "temporal.h"
*/
import "C"

import (
	"unsafe"

	"libtemporal/core"
)

// Status codes, taken from the header so that the two cannot drift apart.
const (
	stOK              = C.TEMPORAL_OK
	stInvalidArgument = C.TEMPORAL_ERR_INVALID_ARGUMENT
	stBadHandle       = C.TEMPORAL_ERR_BAD_HANDLE
	stIO              = C.TEMPORAL_ERR_IO
	stFormat          = C.TEMPORAL_ERR_FORMAT
	stShape           = C.TEMPORAL_ERR_SHAPE
	stDevice          = C.TEMPORAL_ERR_DEVICE
	stCancelled       = C.TEMPORAL_ERR_CANCELLED
	stOutOfMemory     = C.TEMPORAL_ERR_OUT_OF_MEMORY
	stInternal        = C.TEMPORAL_ERR_INTERNAL
	stNumeric         = C.TEMPORAL_ERR_NUMERIC
	stUnsupported     = C.TEMPORAL_ERR_UNSUPPORTED
)

const (
	paddingMasked    = C.TEMPORAL_PADDING_MASKED
	paddingReference = C.TEMPORAL_PADDING_REFERENCE
	outputLogits     = C.TEMPORAL_OUTPUT_LOGITS
	outputProbs      = C.TEMPORAL_OUTPUT_PROBABILITIES
	ttaNone          = C.TEMPORAL_TTA_NONE
	ttaAll           = C.TEMPORAL_TTA_ALL
	maxWidths        = C.TEMPORAL_MAX_CLASSIFIER_WIDTHS
)

// Sizes of version 1 of each struct: a caller's struct_size below these is rejected. They
// equal today's sizes; when a struct grows, these stay and the new fields get defaults.
const (
	configV1Size  = 88
	predictV1Size = 16
	loadV1Size    = 16
)

// Compile-time checks that the header still has the version 1 layouts.
var (
	_ = [1]struct{}{}[unsafe.Sizeof(C.temporal_model_config{})-configV1Size]
	_ = [1]struct{}{}[unsafe.Sizeof(C.temporal_predict_options{})-predictV1Size]
	_ = [1]struct{}{}[unsafe.Sizeof(C.temporal_load_options{})-loadV1Size]
)

// readStruct copies a caller's versioned struct at src into dst (which holds the defaults):
// min(struct_size, dstSize) bytes. The copy runs in Go, so unmapped memory faults here and is
// recovered by guard.
func readStruct(dst unsafe.Pointer, dstSize uintptr, src unsafe.Pointer, v1Size uintptr, what string) error {
	if src == nil {
		return statusErrf(stInvalidArgument, "%s is NULL", what)
	}
	size := uintptr(*(*uint32)(src))
	if size < v1Size {
		return statusErrf(stInvalidArgument, "%s->struct_size = %d is smaller than version 1's %d (initialise it with the temporal_*_default() function)", what, size, v1Size)
	}
	n := min(size, dstSize)
	// Keep our own struct_size in dst: only the fields after it are the caller's.
	copy(unsafe.Slice((*byte)(dst), n)[4:], unsafe.Slice((*byte)(src), n)[4:])
	return nil
}

// writeStruct copies src (our full struct) into the caller's struct at dst, at most
// dst->struct_size bytes, leaving the caller's struct_size as it was.
func writeStruct(dst unsafe.Pointer, src unsafe.Pointer, srcSize uintptr, v1Size uintptr, what string) error {
	if dst == nil {
		return statusErrf(stInvalidArgument, "%s is NULL", what)
	}
	size := uintptr(*(*uint32)(dst))
	if size < v1Size {
		return statusErrf(stInvalidArgument, "%s->struct_size = %d is smaller than version 1's %d (initialise it with the temporal_*_default() function)", what, size, v1Size)
	}
	n := min(size, srcSize)
	copy(unsafe.Slice((*byte)(dst), n)[4:], unsafe.Slice((*byte)(src), n)[4:])
	return nil
}

// readConfig turns a caller's temporal_model_config into a core.Config.
func readConfig(p unsafe.Pointer) (core.Config, error) {
	c := C.temporal_model_config_default()
	if err := readStruct(unsafe.Pointer(&c), unsafe.Sizeof(c), p, configV1Size, "cfg"); err != nil {
		return core.Config{}, err
	}
	if c.bidirectional != 0 && c.bidirectional != 1 {
		return core.Config{}, statusErrf(stInvalidArgument, "cfg->bidirectional = %d must be 0 or 1", int(c.bidirectional))
	}
	nw := int(c.num_classifier_widths)
	if nw < 1 || nw > maxWidths {
		return core.Config{}, statusErrf(stInvalidArgument, "cfg->num_classifier_widths = %d must be in [1, %d]", nw, maxWidths)
	}
	widths := make([]int, nw)
	for i := range widths {
		widths[i] = int(c.classifier_widths[i])
	}
	return core.Config{
		FeatureDim:       int(c.feature_dim),
		HiddenDim:        int(c.hidden_dim),
		NumLayers:        int(c.num_layers),
		NumHeads:         int(c.num_heads),
		NumClasses:       int(c.num_classes),
		Dropout:          float64(c.dropout),
		Bidirectional:    c.bidirectional != 0,
		ClassifierWidths: widths,
	}, nil
}

// writeConfig fills a caller's temporal_model_config from cfg. A model whose classifier has
// more hidden layers than the struct can hold (possible only for files written elsewhere) is
// reported as unsupported rather than truncated.
func writeConfig(p unsafe.Pointer, cfg core.Config) error {
	if len(cfg.ClassifierWidths) > maxWidths {
		return statusErrf(stUnsupported, "the model has %d classifier layers; temporal_model_config holds at most %d", len(cfg.ClassifierWidths), maxWidths)
	}
	c := C.temporal_model_config_default()
	c.feature_dim = C.int32_t(cfg.FeatureDim)
	c.hidden_dim = C.int32_t(cfg.HiddenDim)
	c.num_layers = C.int32_t(cfg.NumLayers)
	c.num_heads = C.int32_t(cfg.NumHeads)
	c.num_classes = C.int32_t(cfg.NumClasses)
	c.dropout = C.double(cfg.Dropout)
	c.bidirectional = 0
	if cfg.Bidirectional {
		c.bidirectional = 1
	}
	c.num_classifier_widths = C.int32_t(len(cfg.ClassifierWidths))
	for i := range c.classifier_widths {
		c.classifier_widths[i] = 0
	}
	for i, w := range cfg.ClassifierWidths {
		c.classifier_widths[i] = C.int32_t(w)
	}
	c.num_params = C.int64_t(cfg.NumParams())
	c.num_class_names = C.int32_t(len(cfg.ClassNames))
	return writeStruct(p, unsafe.Pointer(&c), unsafe.Sizeof(c), configV1Size, "out")
}

// predictOptions is the Go view of temporal_predict_options.
type predictOptions struct {
	padding core.Padding
	probs   bool
	tta     bool // TEMPORAL_TTA_ALL
}

func readPredictOptions(p unsafe.Pointer) (predictOptions, error) {
	o := C.temporal_predict_options_default()
	if p != nil {
		if err := readStruct(unsafe.Pointer(&o), unsafe.Sizeof(o), p, predictV1Size, "opt"); err != nil {
			return predictOptions{}, err
		}
	}
	var r predictOptions
	switch o.padding {
	case paddingMasked:
		r.padding = core.PaddingMasked
	case paddingReference:
		r.padding = core.PaddingReference
	default:
		return r, statusErrf(stInvalidArgument, "opt->padding = %d is not a temporal_padding value", int(o.padding))
	}
	switch o.output {
	case outputLogits:
	case outputProbs:
		r.probs = true
	default:
		return r, statusErrf(stInvalidArgument, "opt->output = %d is not a temporal_output value", int(o.output))
	}
	switch o.tta {
	case ttaNone:
	case ttaAll:
		r.tta = true
	default:
		return r, statusErrf(stInvalidArgument, "opt->tta = %d is not a temporal_tta value (TEMPORAL_TTA_NONE or TEMPORAL_TTA_ALL)", int(o.tta))
	}
	return r, nil
}

// loadOptions is the Go view of temporal_load_options.
type loadOptions struct {
	numHeads int
	device   string
}

// readLoadOptions reads opt (NULL: defaults). The device string is copied into Go memory.
func readLoadOptions(p unsafe.Pointer) (loadOptions, error) {
	o := C.temporal_load_options_default()
	if p != nil {
		if err := readStruct(unsafe.Pointer(&o), unsafe.Sizeof(o), p, loadV1Size, "opt"); err != nil {
			return loadOptions{}, err
		}
	}
	r := loadOptions{numHeads: int(o.num_heads), device: "cpu"}
	if r.numHeads < 0 {
		return r, statusErrf(stInvalidArgument, "opt->num_heads = %d must be >= 0 (0: from the file)", r.numHeads)
	}
	if o.device != nil {
		r.device = C.GoString(o.device)
	}
	return r, nil
}
