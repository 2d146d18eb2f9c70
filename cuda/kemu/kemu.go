// Package kemu runs cuda/kernels.cu on the CPU, for tests of the CUDA forward where there is
// no GPU (cuda/ops_host_test.go): the kernel source is compiled as C++ with the CUDA built-ins
// it uses emulated by OS threads and barriers (emu.cpp). Pointers are host memory that must
// stay valid for the call; the call returns when the emulated launch has finished. Not linked
// into libtemporal.
package kemu

/*
#cgo CXXFLAGS: -std=c++17 -O1 -Wall -Wextra -pthread
#cgo LDFLAGS: -pthread -lstdc++
#include "emu.h"
*/
import "C"

import "unsafe"

func f(p *float32) *C.float { return (*C.float)(unsafe.Pointer(p)) }
func i(p *int32) *C.int     { return (*C.int)(unsafe.Pointer(p)) }

func Fill(grid, block uint32, p *float32, v float32, n int64) {
	C.kemu_fill(C.uint(grid), C.uint(block), f(p), C.float(v), C.longlong(n))
}

func BiasAct(grid, block uint32, y, bias *float32, rows int64, cols, act int) {
	C.kemu_bias_act(C.uint(grid), C.uint(block), f(y), f(bias), C.longlong(rows), C.int(cols), C.int(act))
}

func LayerNorm(grid, block uint32, out, in, bias, res, w, b *float32, rows int64, cols, act int) {
	C.kemu_layernorm(C.uint(grid), C.uint(block), f(out), f(in), f(bias), f(res), f(w), f(b), C.longlong(rows),
		C.int(cols), C.int(act))
}

func LSTMStep(grid, block uint32, gin, rec, bias, h, c, out *float32, order, lens *int32, B, Tp, H, dirs, step int) {
	C.kemu_lstm_step(C.uint(grid), C.uint(block), f(gin), f(rec), f(bias), f(h), f(c), f(out), i(order), i(lens),
		C.int(B), C.int(Tp), C.int(H), C.int(dirs), C.int(step))
}

func QKVSplit(grid, block uint32, qkv, bias, q, k, v *float32, B, Tp, D, heads int, sqrtHd float32) {
	C.kemu_qkv_split(C.uint(grid), C.uint(block), f(qkv), f(bias), f(q), f(k), f(v), C.int(B), C.int(Tp), C.int(D),
		C.int(heads), C.float(sqrtHd))
}

func AttnSoftmax(grid, block uint32, S *float32, lens *int32, B, heads, Tp int, masked bool) {
	C.kemu_attn_softmax(C.uint(grid), C.uint(block), f(S), i(lens), C.int(B), C.int(heads), C.int(Tp), cbool(masked))
}

func MergeHeads(grid, block uint32, ctxh, ctx *float32, B, Tp, D, heads int) {
	C.kemu_merge_heads(C.uint(grid), C.uint(block), f(ctxh), f(ctx), C.int(B), C.int(Tp), C.int(D), C.int(heads))
}

func PoolSoftmax(grid, block uint32, score, b4, w *float32, lens *int32, B, Tp int, masked bool) {
	C.kemu_pool_softmax(C.uint(grid), C.uint(block), f(score), f(b4), f(w), i(lens), C.int(B), C.int(Tp), cbool(masked))
}

func PoolSum(grid, block uint32, w, x, pooled *float32, lens *int32, B, Tp, D int, masked bool) {
	C.kemu_pool_sum(C.uint(grid), C.uint(block), f(w), f(x), f(pooled), i(lens), C.int(B), C.int(Tp), C.int(D),
		cbool(masked))
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}
