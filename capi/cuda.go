package main

// The CUDA side of the C API: device strings, the device queries, and the cuBLAS path setting.
// The backend itself is package cuda (DESIGN §6); nothing here touches CUDA until a caller asks.

/*
#include <stddef.h>
#include <stdint.h>
*/
import "C"

import (
	"strconv"
	"strings"

	"libtemporal/core"
	"libtemporal/cuda"
)

//export tgo_cuda_device_count
func tgo_cuda_device_count() (n C.int) {
	defer func() {
		if recover() != nil {
			n = 0
		}
	}()
	c, err := cuda.DeviceCount()
	if err != nil {
		return 0
	}
	return C.int(c)
}

// deviceOrdinal parses a device string: -1 for "cpu", N for "cuda:N" ("cuda" is "cuda:0"). A
// CUDA device must exist (checked before a file is read): otherwise TEMPORAL_ERR_DEVICE with
// the reason (no driver, cuInit's error, too few devices, a build without CUDA).
func deviceOrdinal(dev string) (int, error) {
	ord := 0
	switch {
	case dev == "cpu":
		return -1, nil
	case dev == "cuda":
	case strings.HasPrefix(dev, "cuda:"):
		n, err := strconv.Atoi(dev[len("cuda:"):])
		if err != nil || n < 0 || strings.ContainsAny(dev[len("cuda:"):], "+- ") {
			return 0, statusErrf(stInvalidArgument, "device %q: want \"cpu\", \"cuda\" or \"cuda:N\" with N >= 0", dev)
		}
		ord = n
	default:
		return 0, statusErrf(stInvalidArgument, "unknown device %q: want \"cpu\", \"cuda\" or \"cuda:N\"", dev)
	}
	n, err := cuda.DeviceCount()
	if err != nil {
		return 0, core.Wrap(core.KindDevice, err, "device %q", dev)
	}
	if ord >= n {
		return 0, statusErrf(stDevice, "device %q: %d CUDA device(s) visible", dev, n)
	}
	return ord, nil
}

// checkDevice reports whether dev names a usable device.
func checkDevice(dev string) error {
	_, err := deviceOrdinal(dev)
	return err
}

// openOnDevice uploads m to CUDA device ordinal (nil for the CPU, ordinal -1).
func openOnDevice(m *core.Model, ordinal int) (*cuda.Model, error) {
	if ordinal < 0 {
		return nil, nil
	}
	return cuda.NewModel(m, ordinal)
}

//export tgo_cuda_device_name
func tgo_cuda_device_name(device C.int, buf *C.char, bufCap C.size_t, length *C.size_t, msg *C.char, msgCap C.size_t) C.int {
	return guard("temporal_cuda_device_name", msg, msgCap, func() error {
		if buf == nil && bufCap > 0 {
			return statusErrf(stInvalidArgument, "buf is NULL but cap is %d", uint64(bufCap))
		}
		if uint64(bufCap) > uint64(maxElems) {
			return statusErrf(stInvalidArgument, "cap = %d is implausibly large", uint64(bufCap))
		}
		if device < 0 {
			return statusErrf(stInvalidArgument, "device = %d must be >= 0", int(device))
		}
		name, err := cuda.DeviceName(int(device))
		if err != nil {
			return err
		}
		if bufCap > 0 {
			putMsg(buf, bufCap, name)
		}
		if length != nil {
			*length = C.size_t(len(name))
		}
		return nil
	})
}

//export tgo_cuda_memory
func tgo_cuda_memory(device C.int, free, total *C.uint64_t, msg *C.char, msgCap C.size_t) C.int {
	return guard("temporal_cuda_memory", msg, msgCap, func() error {
		if device < 0 {
			return statusErrf(stInvalidArgument, "device = %d must be >= 0", int(device))
		}
		f, t, err := cuda.MemInfo(int(device))
		if err != nil {
			return err
		}
		if free != nil {
			*free = C.uint64_t(f)
		}
		if total != nil {
			*total = C.uint64_t(t)
		}
		return nil
	})
}

//export tgo_cuda_set_cublas_path
func tgo_cuda_set_cublas_path(path *C.char, msg *C.char, msgCap C.size_t) C.int {
	return guard("temporal_cuda_set_cublas_path", msg, msgCap, func() error {
		p := ""
		if path != nil {
			p = C.GoString(path)
		}
		return cuda.SetCublasPath(p)
	})
}
