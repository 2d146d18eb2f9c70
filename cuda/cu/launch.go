package cu

/*
#include "shim.h"
*/
import "C"

// Kernel launches, one per kernel of cuda/kernels.cu with its parameters in order (see
// shim.h). grid and block are 1-D; every kernel loops grid-stride, so any grid is correct.

func launchErr(kernel string, r C.tc_result) error { return check("cuLaunchKernel("+kernel+")", r) }

func LaunchFill(f Function, grid, block uint32, s Stream, p Ptr, v float32, n int64) error {
	return launchErr("tk_fill", C.tc_launch_fill(C.tc_function(f), C.uint(grid), C.uint(block), C.tc_stream(s),
		C.tc_ptr(p), C.float(v), C.longlong(n)))
}

func LaunchBiasAct(f Function, grid, block uint32, s Stream, y, bias Ptr, rows int64, cols, act int) error {
	return launchErr("tk_bias_act", C.tc_launch_bias_act(C.tc_function(f), C.uint(grid), C.uint(block),
		C.tc_stream(s), C.tc_ptr(y), C.tc_ptr(bias), C.longlong(rows), C.int(cols), C.int(act)))
}

func LaunchLayerNorm(f Function, grid, block uint32, s Stream, out, in, bias, res, w, b Ptr, rows int64, cols, act int) error {
	return launchErr("tk_layernorm", C.tc_launch_layernorm(C.tc_function(f), C.uint(grid), C.uint(block),
		C.tc_stream(s), C.tc_ptr(out), C.tc_ptr(in), C.tc_ptr(bias), C.tc_ptr(res), C.tc_ptr(w), C.tc_ptr(b),
		C.longlong(rows), C.int(cols), C.int(act)))
}

func LaunchLSTMStep(f Function, grid, block uint32, s Stream, gin, rec, bias, h, c, out, order, lens Ptr,
	B, Tp, H, dirs, step int) error {
	return launchErr("tk_lstm_step", C.tc_launch_lstm_step(C.tc_function(f), C.uint(grid), C.uint(block),
		C.tc_stream(s), C.tc_ptr(gin), C.tc_ptr(rec), C.tc_ptr(bias), C.tc_ptr(h), C.tc_ptr(c), C.tc_ptr(out),
		C.tc_ptr(order), C.tc_ptr(lens), C.int(B), C.int(Tp), C.int(H), C.int(dirs), C.int(step)))
}

func LaunchQKVSplit(f Function, grid, block uint32, s Stream, qkv, bias, q, k, v Ptr, B, Tp, D, heads int, sqrtHd float32) error {
	return launchErr("tk_qkv_split", C.tc_launch_qkv_split(C.tc_function(f), C.uint(grid), C.uint(block),
		C.tc_stream(s), C.tc_ptr(qkv), C.tc_ptr(bias), C.tc_ptr(q), C.tc_ptr(k), C.tc_ptr(v), C.int(B), C.int(Tp),
		C.int(D), C.int(heads), C.float(sqrtHd)))
}

func LaunchAttnSoftmax(f Function, grid, block uint32, s Stream, S, lens Ptr, B, heads, Tp int, masked bool) error {
	return launchErr("tk_attn_softmax", C.tc_launch_attn_softmax(C.tc_function(f), C.uint(grid), C.uint(block),
		C.tc_stream(s), C.tc_ptr(S), C.tc_ptr(lens), C.int(B), C.int(heads), C.int(Tp), cbool(masked)))
}

func LaunchMergeHeads(f Function, grid, block uint32, s Stream, ctxh, ctx Ptr, B, Tp, D, heads int) error {
	return launchErr("tk_merge_heads", C.tc_launch_merge_heads(C.tc_function(f), C.uint(grid), C.uint(block),
		C.tc_stream(s), C.tc_ptr(ctxh), C.tc_ptr(ctx), C.int(B), C.int(Tp), C.int(D), C.int(heads)))
}

func LaunchPoolSoftmax(f Function, grid, block uint32, s Stream, score, b4, w, lens Ptr, B, Tp int, masked bool) error {
	return launchErr("tk_pool_softmax", C.tc_launch_pool_softmax(C.tc_function(f), C.uint(grid), C.uint(block),
		C.tc_stream(s), C.tc_ptr(score), C.tc_ptr(b4), C.tc_ptr(w), C.tc_ptr(lens), C.int(B), C.int(Tp), cbool(masked)))
}

func LaunchPoolSum(f Function, grid, block uint32, s Stream, w, x, pooled, lens Ptr, B, Tp, D int, masked bool) error {
	return launchErr("tk_pool_sum", C.tc_launch_pool_sum(C.tc_function(f), C.uint(grid), C.uint(block),
		C.tc_stream(s), C.tc_ptr(w), C.tc_ptr(x), C.tc_ptr(pooled), C.tc_ptr(lens), C.int(B), C.int(Tp), C.int(D),
		cbool(masked)))
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}
