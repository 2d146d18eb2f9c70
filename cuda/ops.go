//go:build !nocuda

package cuda

import "libtemporal/cuda/cu"

// ops is everything the forward asks of a device: memory, copies, row-major products (alpha 1,
// beta 0) and the kernels of kernels.cu with their parameters. gpuOps is the real thing;
// the tests also run the forward over a host emulation (ops_host_test.go) that implements
// cuBLAS's column-major contract and each kernel's loop from its specification, so the
// forward's buffer layout, strides and product mapping are checked where there is no GPU.
type ops interface {
	alloc(bytes uint64) (cu.Ptr, error)
	free(p cu.Ptr) error
	htodF(dst cu.Ptr, src []float32) error
	htodI(dst cu.Ptr, src []int32) error
	dtohF(dst []float32, src cu.Ptr) error
	sync() error

	gemm(transA, transB bool, M, N, K int, A cu.Ptr, lda int, B cu.Ptr, ldb int, C cu.Ptr, ldc int) error
	gemmBatched(transA, transB bool, M, N, K int, A cu.Ptr, lda int, sA int64, B cu.Ptr, ldb int, sB int64,
		C cu.Ptr, ldc int, sC int64, batch int) error

	fill(p cu.Ptr, v float32, n int64) error
	biasAct(y, bias cu.Ptr, rows int64, cols, act int) error
	layerNorm(out, in, bias, res, w, b cu.Ptr, rows int64, cols, act int) error
	lstmStep(gin, rec, bias, h, c, out, order, lens cu.Ptr, B, Tp, H, dirs, step int) error
	qkvSplit(qkv, bias, q, k, v cu.Ptr, B, Tp, D, heads int, sqrtHd float32) error
	attnSoftmax(S, lens cu.Ptr, B, heads, Tp int, masked bool) error
	mergeHeads(ctxh, ctx cu.Ptr, B, Tp, D, heads int) error
	poolSoftmax(score, b4, w, lens cu.Ptr, B, Tp int, masked bool) error
	poolSum(w, x, pooled, lens cu.Ptr, B, Tp, D int, masked bool) error
}

// gpuOps runs on a device's thread.
type gpuOps struct{ d *device }

const threads = 256

// grid is the number of blocks for n items of per items each, capped (every kernel loops
// grid-stride, so a capped grid is still correct).
func grid(n int64, per int64) uint32 {
	g := (n + per - 1) / per
	return uint32(min(max(g, 1), 1<<16))
}

// rowThreads is the block size of a one-block-per-row kernel for rows of width c: a multiple of
// 32, at most 256.
func rowThreads(c int) uint32 {
	t := (c + 31) / 32 * 32
	return uint32(min(max(t, 32), threads))
}

func (o gpuOps) alloc(bytes uint64) (cu.Ptr, error)    { return cu.MemAlloc(bytes) }
func (o gpuOps) free(p cu.Ptr) error                   { return cu.MemFree(p) }
func (o gpuOps) htodF(dst cu.Ptr, src []float32) error { return cu.CopyFloatsHtoD(dst, src) }
func (o gpuOps) htodI(dst cu.Ptr, src []int32) error   { return cu.CopyInt32sHtoD(dst, src) }
func (o gpuOps) dtohF(dst []float32, src cu.Ptr) error { return cu.CopyFloatsDtoH(dst, src) }
func (o gpuOps) sync() error                           { return cu.StreamSynchronize(o.d.stream) }

func (o gpuOps) gemm(transA, transB bool, M, N, K int, A cu.Ptr, lda int, B cu.Ptr, ldb int, C cu.Ptr, ldc int) error {
	return cu.Gemm(o.d.blas, transA, transB, M, N, K, 1, A, lda, B, ldb, 0, C, ldc)
}

func (o gpuOps) gemmBatched(transA, transB bool, M, N, K int, A cu.Ptr, lda int, sA int64, B cu.Ptr, ldb int,
	sB int64, C cu.Ptr, ldc int, sC int64, batch int) error {
	return cu.GemmStridedBatched(o.d.blas, transA, transB, M, N, K, 1, A, lda, sA, B, ldb, sB, 0, C, ldc, sC, batch)
}

func (o gpuOps) fill(p cu.Ptr, v float32, n int64) error {
	return cu.LaunchFill(o.d.k.fill, grid(n, threads), threads, o.d.stream, p, v, n)
}

func (o gpuOps) biasAct(y, bias cu.Ptr, rows int64, cols, act int) error {
	return cu.LaunchBiasAct(o.d.k.biasAct, grid(rows*int64(cols), threads), threads, o.d.stream, y, bias, rows, cols, act)
}

func (o gpuOps) layerNorm(out, in, bias, res, w, b cu.Ptr, rows int64, cols, act int) error {
	return cu.LaunchLayerNorm(o.d.k.layerNorm, grid(rows, 1), rowThreads(cols), o.d.stream, out, in, bias, res, w, b,
		rows, cols, act)
}

func (o gpuOps) lstmStep(gin, rec, bias, h, c, out, order, lens cu.Ptr, B, Tp, H, dirs, step int) error {
	n := int64(dirs) * int64(B) * int64(H)
	return cu.LaunchLSTMStep(o.d.k.lstmStep, grid(n, threads), threads, o.d.stream, gin, rec, bias, h, c, out, order,
		lens, B, Tp, H, dirs, step)
}

func (o gpuOps) qkvSplit(qkv, bias, q, k, v cu.Ptr, B, Tp, D, heads int, sqrtHd float32) error {
	n := int64(B) * int64(Tp) * 3 * int64(D)
	return cu.LaunchQKVSplit(o.d.k.qkvSplit, grid(n, threads), threads, o.d.stream, qkv, bias, q, k, v, B, Tp, D,
		heads, sqrtHd)
}

func (o gpuOps) attnSoftmax(S, lens cu.Ptr, B, heads, Tp int, masked bool) error {
	rows := int64(B) * int64(heads) * int64(Tp)
	return cu.LaunchAttnSoftmax(o.d.k.attnSoftmax, grid(rows, threads/32), threads, o.d.stream, S, lens, B, heads,
		Tp, masked)
}

func (o gpuOps) mergeHeads(ctxh, ctx cu.Ptr, B, Tp, D, heads int) error {
	n := int64(B) * int64(Tp) * int64(D)
	return cu.LaunchMergeHeads(o.d.k.mergeHeads, grid(n, threads), threads, o.d.stream, ctxh, ctx, B, Tp, D, heads)
}

func (o gpuOps) poolSoftmax(score, b4, w, lens cu.Ptr, B, Tp int, masked bool) error {
	return cu.LaunchPoolSoftmax(o.d.k.poolSoftmax, grid(int64(B), 1), threads, o.d.stream, score, b4, w, lens, B, Tp,
		masked)
}

func (o gpuOps) poolSum(w, x, pooled, lens cu.Ptr, B, Tp, D int, masked bool) error {
	n := int64(B) * int64(D)
	return cu.LaunchPoolSum(o.d.k.poolSum, grid(n, threads), threads, o.d.stream, w, x, pooled, lens, B, Tp, D,
		masked)
}
