package main

/*
#include "temporal.h"
*/
import "C"

import "libtemporal/core"

// precisionOf maps the header's temporal_precision values to core's.
func precisionOf(p C.int32_t) (core.Precision, error) {
	switch p {
	case C.TEMPORAL_PRECISION_FLOAT32:
		return core.PrecisionFloat32, nil
	case C.TEMPORAL_PRECISION_BF16_RECURRENT:
		return core.PrecisionBF16Recurrent, nil
	}
	return 0, statusErrf(stInvalidArgument,
		"p = %d is not a temporal_precision value (TEMPORAL_PRECISION_FLOAT32 or TEMPORAL_PRECISION_BF16_RECURRENT)", int(p))
}

//export tgo_model_set_precision
func tgo_model_set_precision(h C.uint64_t, p C.int32_t, msg *C.char, msgCap C.size_t) C.int {
	return guard("temporal_model_set_precision", msg, msgCap, func() error {
		prec, err := precisionOf(p)
		if err != nil {
			return err
		}
		e, err := acquire(uint64(h))
		if err != nil {
			return err
		}
		defer e.release()
		if e.gpu != nil && prec != core.PrecisionFloat32 {
			return statusErrf(stUnsupported, "the model is on %s: the %v precision is a CPU mode (load the model with device \"cpu\")", e.device, prec)
		}
		// Shared: predicts go on (core swaps the setting atomically); trainer steps, which write
		// the float32 weights the bf16 copy is made from, wait.
		e.mu.RLock()
		defer e.mu.RUnlock()
		if err := e.model.SetPrecision(prec); err != nil {
			return err
		}
		logf(logInfo, "model %#x: precision %v", uint64(h), prec)
		return nil
	})
}

//export tgo_model_get_precision
func tgo_model_get_precision(h C.uint64_t, out *C.int32_t, msg *C.char, msgCap C.size_t) C.int {
	return guard("temporal_model_get_precision", msg, msgCap, func() error {
		if out == nil {
			return statusErrf(stInvalidArgument, "out is NULL")
		}
		e, err := acquire(uint64(h))
		if err != nil {
			return err
		}
		defer e.release()
		switch e.model.Precision() {
		case core.PrecisionBF16Recurrent:
			*out = C.TEMPORAL_PRECISION_BF16_RECURRENT
		default:
			*out = C.TEMPORAL_PRECISION_FLOAT32
		}
		return nil
	})
}

// refreshPrecision rebuilds a reduced-precision copy of the weights after they changed (a
// trainer step); the caller holds e.mu exclusively.
func refreshPrecision(e *entry) error {
	if p := e.model.Precision(); p != core.PrecisionFloat32 {
		return e.model.SetPrecision(p)
	}
	return nil
}
