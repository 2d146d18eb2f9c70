/* The LSTM backward's recurrent product dh[a,N] = dgates[a,K]·W for W [K,N] row-major (W_hh
 * [4H, H] as PyTorch stores it, not transposed), a small (the clips still active at one step).
 * OpenBLAS sgemm packs W on every call, which at these skinny shapes costs as much as the
 * arithmetic. Here W is cut into blocks of KB rows × 64 (AVX-512) or 32 (AVX2) columns that fit
 * L1; each block is read from memory once per call and multiplied into every 4-row block of x
 * (the broadcast x[r,k] times a row segment of W, one accumulator vector per 16 or 8 columns).
 *
 * Lanes run over columns, so every y[r,j] is one fused multiply-add chain over k in order
 * (partial sums stored between K blocks and reloaded exactly): the result does not depend on a,
 * N, the tile, the blocking, or the code path (AVX-512 and AVX2 give the same bits). There is no
 * portable path (without FMA the chain would round differently): tk_gemm_nn returns 0 and the
 * caller uses BLAS. */
#include <immintrin.h>
#include "kernels.h"

#define AI __attribute__((always_inline))
#define T512 __attribute__((target("avx512f,avx512dq,avx512vl,avx2,fma")))
#define T256 __attribute__((target("avx2,fma")))

enum { NN_KB = 128 };

/* ---- AVX-512: R rows × J vectors of 16 columns ---- */
T512 static inline AI void nn_tile512(float *y, long ldy, const float *x, long ldx, const float *w, long ldw, long k0,
				      long k1, const int R, const int J) {
	__m512 acc[4][4];
	for (int r = 0; r < R; r++)
		for (int j = 0; j < J; j++)
			acc[r][j] = k0 == 0 ? _mm512_setzero_ps() : _mm512_loadu_ps(y + r * ldy + 16 * j);
	for (long k = k0; k < k1; k++) {
		__m512 wv[4];
		for (int j = 0; j < J; j++)
			wv[j] = _mm512_loadu_ps(w + k * ldw + 16 * j);
		for (int r = 0; r < R; r++) {
			__m512 xv = _mm512_set1_ps(x[r * ldx + k]);
			for (int j = 0; j < J; j++)
				acc[r][j] = _mm512_fmadd_ps(xv, wv[j], acc[r][j]);
		}
	}
	for (int r = 0; r < R; r++)
		for (int j = 0; j < J; j++)
			_mm512_storeu_ps(y + r * ldy + 16 * j, acc[r][j]);
}

T512 static inline AI void nn_rows512(float *y, long ldy, const float *x, long ldx, const float *w, long ldw, long a,
				      long k0, long k1, const int J) {
	long r = 0;
	for (; r + 4 <= a; r += 4)
		nn_tile512(y + r * ldy, ldy, x + r * ldx, ldx, w, ldw, k0, k1, 4, J);
	switch (a - r) {
	case 3:
		nn_tile512(y + r * ldy, ldy, x + r * ldx, ldx, w, ldw, k0, k1, 3, J);
		break;
	case 2:
		nn_tile512(y + r * ldy, ldy, x + r * ldx, ldx, w, ldw, k0, k1, 2, J);
		break;
	case 1:
		nn_tile512(y + r * ldy, ldy, x + r * ldx, ldx, w, ldw, k0, k1, 1, J);
		break;
	}
}

/* Columns past the last full vector: the same fma chain, one element at a time. */
T512 static void nn_tail512(float *y, long ldy, const float *x, long ldx, const float *w, long ldw, long a, long j0,
			    long N, long K) {
	for (long r = 0; r < a; r++)
		for (long j = j0; j < N; j++) {
			float s = 0;
			for (long k = 0; k < K; k++)
				s = __builtin_fmaf(x[r * ldx + k], w[k * ldw + j], s);
			y[r * ldy + j] = s;
		}
}

T512 static void nn512(float *y, long ldy, const float *x, long ldx, const float *w, long ldw, long a, long N, long K) {
	long j = 0;
	for (; j + 64 <= N; j += 64)
		for (long k0 = 0; k0 < K; k0 += NN_KB)
			nn_rows512(y + j, ldy, x, ldx, w + j, ldw, a, k0, k0 + NN_KB < K ? k0 + NN_KB : K, 4);
	for (; j + 16 <= N; j += 16)
		for (long k0 = 0; k0 < K; k0 += NN_KB)
			nn_rows512(y + j, ldy, x, ldx, w + j, ldw, a, k0, k0 + NN_KB < K ? k0 + NN_KB : K, 1);
	nn_tail512(y, ldy, x, ldx, w, ldw, a, j, N, K);
}

/* ---- AVX2 + FMA: R rows × J vectors of 8 columns ---- */
T256 static inline AI void nn_tile256(float *y, long ldy, const float *x, long ldx, const float *w, long ldw, long k0,
				      long k1, const int R, const int J) {
	__m256 acc[4][4];
	for (int r = 0; r < R; r++)
		for (int j = 0; j < J; j++)
			acc[r][j] = k0 == 0 ? _mm256_setzero_ps() : _mm256_loadu_ps(y + r * ldy + 8 * j);
	for (long k = k0; k < k1; k++) {
		__m256 wv[4];
		for (int j = 0; j < J; j++)
			wv[j] = _mm256_loadu_ps(w + k * ldw + 8 * j);
		for (int r = 0; r < R; r++) {
			__m256 xv = _mm256_set1_ps(x[r * ldx + k]);
			for (int j = 0; j < J; j++)
				acc[r][j] = _mm256_fmadd_ps(xv, wv[j], acc[r][j]);
		}
	}
	for (int r = 0; r < R; r++)
		for (int j = 0; j < J; j++)
			_mm256_storeu_ps(y + r * ldy + 8 * j, acc[r][j]);
}

T256 static inline AI void nn_rows256(float *y, long ldy, const float *x, long ldx, const float *w, long ldw, long a,
				      long k0, long k1, const int J) {
	long r = 0;
	for (; r + 4 <= a; r += 4)
		nn_tile256(y + r * ldy, ldy, x + r * ldx, ldx, w, ldw, k0, k1, 4, J);
	switch (a - r) {
	case 3:
		nn_tile256(y + r * ldy, ldy, x + r * ldx, ldx, w, ldw, k0, k1, 3, J);
		break;
	case 2:
		nn_tile256(y + r * ldy, ldy, x + r * ldx, ldx, w, ldw, k0, k1, 2, J);
		break;
	case 1:
		nn_tile256(y + r * ldy, ldy, x + r * ldx, ldx, w, ldw, k0, k1, 1, J);
		break;
	}
}

T256 static void nn_tail256(float *y, long ldy, const float *x, long ldx, const float *w, long ldw, long a, long j0,
			    long N, long K) {
	for (long r = 0; r < a; r++)
		for (long j = j0; j < N; j++) {
			float s = 0;
			for (long k = 0; k < K; k++)
				s = __builtin_fmaf(x[r * ldx + k], w[k * ldw + j], s);
			y[r * ldy + j] = s;
		}
}

T256 static void nn256(float *y, long ldy, const float *x, long ldx, const float *w, long ldw, long a, long N, long K) {
	long j = 0;
	for (; j + 32 <= N; j += 32)
		for (long k0 = 0; k0 < K; k0 += NN_KB)
			nn_rows256(y + j, ldy, x, ldx, w + j, ldw, a, k0, k0 + NN_KB < K ? k0 + NN_KB : K, 4);
	for (; j + 8 <= N; j += 8)
		for (long k0 = 0; k0 < K; k0 += NN_KB)
			nn_rows256(y + j, ldy, x, ldx, w + j, ldw, a, k0, k0 + NN_KB < K ? k0 + NN_KB : K, 1);
	nn_tail256(y, ldy, x, ldx, w, ldw, a, j, N, K);
}

int tk_gemm_nn(float *y, long ldy, const float *x, long ldx, const float *w, long ldw, long a, long N, long K) {
	switch (tk_level()) {
	case TK_AVX512:
		nn512(y, ldy, x, ldx, w, ldw, a, N, K);
		return 1;
	case TK_AVX2:
		nn256(y, ldy, x, ldx, w, ldw, a, N, K);
		return 1;
	}
	return 0;
}
