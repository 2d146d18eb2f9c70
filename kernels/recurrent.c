/* The recurrent product y[a,M] = x[a,K]·Wᵀ for W [M,K] row-major, a small (the clips still
 * active at one LSTM step). OpenBLAS sgemm packs both operands on every call, which on these
 * skinny shapes costs more than the arithmetic; sgemv handles one row only. Here a tile of J
 * rows of W is loaded once per k-step and multiplied into R rows of x, so W streams from memory
 * once per call for all a rows (re-read from L1 for the second and later R-blocks), and x
 * (a·K floats, ≤ 48 KiB at a = 16, K = 768) stays in L1/L2.
 *
 * Every y[r,j] is one accumulator vector summed in k order, then reduced the same way, whatever
 * the tile shape: results do not depend on a, M, the tile, or a partition of M over threads
 * (they do depend on the code path: 16, 8 or 4 lanes). */
#include <immintrin.h>
#include "kernels.h"

#define AI __attribute__((always_inline))
#define T512 __attribute__((target("avx512f,avx512dq,avx512vl,avx2,fma")))
#define T256 __attribute__((target("avx2,fma")))

/* ---- AVX-512: 16 lanes ---- */
T512 static inline AI void tile512(float *y, long ldy, const float *w, long ldw, long K, const float *x, long ldx, int acc1,
					 const int R, const int J) {
	__m512 acc[4][4];
	for (int r = 0; r < R; r++)
		for (int j = 0; j < J; j++)
			acc[r][j] = _mm512_setzero_ps();
	long K16 = K & ~15L;
	for (long k = 0; k < K16; k += 16) {
		__m512 wv[4];
		for (int j = 0; j < J; j++)
			wv[j] = _mm512_loadu_ps(w + j * ldw + k);
		for (int r = 0; r < R; r++) {
			__m512 xv = _mm512_loadu_ps(x + r * ldx + k);
			for (int j = 0; j < J; j++)
				acc[r][j] = _mm512_fmadd_ps(xv, wv[j], acc[r][j]);
		}
	}
	for (int r = 0; r < R; r++)
		for (int j = 0; j < J; j++) {
			float s = _mm512_reduce_add_ps(acc[r][j]);
			for (long k = K16; k < K; k++)
				s += x[r * ldx + k] * w[j * ldw + k];
			if (acc1)
				s += y[r * ldy + j];
			y[r * ldy + j] = s;
		}
}

T512 static void rp512(float *y, long ldy, const float *w, long ldw, long M, long K, const float *x, long ldx, long a,
			int acc1) {
	long j = 0;
	for (; j + 4 <= M; j += 4) {
		const float *wj = w + j * ldw;
		long r = 0;
		for (; r + 4 <= a; r += 4)
			tile512(y + r * ldy + j, ldy, wj, ldw, K, x + r * ldx, ldx, acc1, 4, 4);
		switch (a - r) {
		case 3:
			tile512(y + r * ldy + j, ldy, wj, ldw, K, x + r * ldx, ldx, acc1, 3, 4);
			break;
		case 2:
			tile512(y + r * ldy + j, ldy, wj, ldw, K, x + r * ldx, ldx, acc1, 2, 4);
			break;
		case 1:
			tile512(y + r * ldy + j, ldy, wj, ldw, K, x + r * ldx, ldx, acc1, 1, 4);
			break;
		}
	}
	for (; j < M; j++)
		for (long r = 0; r < a; r++)
			tile512(y + r * ldy + j, ldy, w + j * ldw, ldw, K, x + r * ldx, ldx, acc1, 1, 1);
}

/* ---- AVX2 + FMA: 8 lanes ---- */
T256 static inline AI float hsum256(__m256 v) {
	__m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
	return _mm_cvtss_f32(s);
}

T256 static inline AI void tile256(float *y, long ldy, const float *w, long ldw, long K, const float *x, long ldx, int acc1,
					 const int R, const int J) {
	__m256 acc[2][4];
	for (int r = 0; r < R; r++)
		for (int j = 0; j < J; j++)
			acc[r][j] = _mm256_setzero_ps();
	long K8 = K & ~7L;
	for (long k = 0; k < K8; k += 8) {
		__m256 wv[4];
		for (int j = 0; j < J; j++)
			wv[j] = _mm256_loadu_ps(w + j * ldw + k);
		for (int r = 0; r < R; r++) {
			__m256 xv = _mm256_loadu_ps(x + r * ldx + k);
			for (int j = 0; j < J; j++)
				acc[r][j] = _mm256_fmadd_ps(xv, wv[j], acc[r][j]);
		}
	}
	for (int r = 0; r < R; r++)
		for (int j = 0; j < J; j++) {
			float s = hsum256(acc[r][j]);
			for (long k = K8; k < K; k++)
				s += x[r * ldx + k] * w[j * ldw + k];
			if (acc1)
				s += y[r * ldy + j];
			y[r * ldy + j] = s;
		}
}

T256 static void rp256(float *y, long ldy, const float *w, long ldw, long M, long K, const float *x, long ldx, long a,
			int acc1) {
	long j = 0;
	for (; j + 4 <= M; j += 4) {
		const float *wj = w + j * ldw;
		long r = 0;
		for (; r + 2 <= a; r += 2)
			tile256(y + r * ldy + j, ldy, wj, ldw, K, x + r * ldx, ldx, acc1, 2, 4);
		if (r < a)
			tile256(y + r * ldy + j, ldy, wj, ldw, K, x + r * ldx, ldx, acc1, 1, 4);
	}
	for (; j < M; j++)
		for (long r = 0; r < a; r++)
			tile256(y + r * ldy + j, ldy, w + j * ldw, ldw, K, x + r * ldx, ldx, acc1, 1, 1);
}

/* ---- portable: SSE2 (x86-64 baseline), 4 lanes, one W row at a time ---- */
static inline AI float hsum128(__m128 s) {
	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
	return _mm_cvtss_f32(s);
}

static void rpgen(float *y, long ldy, const float *w, long ldw, long M, long K, const float *x, long ldx, long a,
		  int acc1) {
	long K4 = K & ~3L;
	for (long j = 0; j < M; j++) {
		const float *wj = w + j * ldw;
		for (long r = 0; r < a; r++) {
			const float *xr = x + r * ldx;
			__m128 acc = _mm_setzero_ps();
			for (long k = 0; k < K4; k += 4)
				acc = _mm_add_ps(acc, _mm_mul_ps(_mm_loadu_ps(xr + k), _mm_loadu_ps(wj + k)));
			float s = hsum128(acc);
			for (long k = K4; k < K; k++)
				s += xr[k] * wj[k];
			if (acc1)
				s += y[r * ldy + j];
			y[r * ldy + j] = s;
		}
	}
}

void tk_gemm_nt(float *y, long ldy, const float *x, long ldx, const float *w, long ldw, long a, long M, long K,
		int accumulate) {
	int acc1 = accumulate != 0;
	switch (tk_level()) {
	case TK_AVX512:
		rp512(y, ldy, w, ldw, M, K, x, ldx, a, acc1);
		break;
	case TK_AVX2:
		rp256(y, ldy, w, ldw, M, K, x, ldx, a, acc1);
		break;
	default:
		rpgen(y, ldy, w, ldw, M, K, x, ldx, a, acc1);
	}
}

void tk_recurrent_product(float *y, const float *w, long M, long K, const float *x, long a) {
	tk_gemm_nt(y, M, x, K, w, K, a, M, K, 0);
}
