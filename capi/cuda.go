package main

// The CUDA side of the C API: device strings, the device queries, and the cuBLAS path setting.
// The backend itself is package cuda (DESIGN §6); nothing here touches CUDA until a caller asks.

/*
#include <stddef.h>
#include <stdint.h>
*/
import "C"

import (
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

// deviceOrdinal parses a device string (cuda.ParseDevice): -1 for "cpu", N for "cuda:N". A
// CUDA device must exist (checked before a file is read).
func deviceOrdinal(dev string) (int, error) { return cuda.ParseDevice(dev) }

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
