package main

import (
	"math"
	"unsafe"
)

// Caller buffers become Go slices over C memory here. Each probe touches every element from Go,
// so an unmapped page faults in Go (recovered by guard) rather than later inside OpenBLAS,
// where it would kill the host (DESIGN §5, recipe §5).

// maxElems bounds any caller buffer's element count: 2^40 float32 is 4 TiB, more than any
// machine we run on maps, and keeps every product of it with small factors inside int64.
const maxElems = int64(1) << 40

// mulChecked returns a·b·…, or ok=false when the product overflows maxElems. Every factor must
// already be >= 1.
func mulChecked(fs ...int64) (int64, bool) {
	p := int64(1)
	for _, f := range fs {
		if f < 1 || f > maxElems || p > maxElems/f {
			return 0, false
		}
		p *= f
	}
	return p, true
}

// firstNonFinite reads every element of x and returns the index of the first NaN or Inf, or -1.
func firstNonFinite(x []float32) int {
	for i, v := range x {
		if math.Float32bits(v)&0x7f800000 == 0x7f800000 {
			return i
		}
	}
	return -1
}

// floats views n float32 at p (n may be 0).
func floats(p unsafe.Pointer, n int64) []float32 {
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*float32)(p), int(n))
}

// int32s views n int32 at p.
func int32s(p unsafe.Pointer, n int64) []int32 {
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*int32)(p), int(n))
}
