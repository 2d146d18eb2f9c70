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
T512 static inline AI void tile512(float *y, const float *w, long M, long K, const float *x, const int R, const int J) {
	__m512 acc[4][4];
	for (int r = 0; r < R; r++)
		for (int j = 0; j < J; j++)
			acc[r][j] = _mm512_setzero_ps();
	long K16 = K & ~15L;
	for (long k = 0; k < K16; k += 16) {
		__m512 wv[4];
		for (int j = 0; j < J; j++)
			wv[j] = _mm512_loadu_ps(w + j * K + k);
		for (int r = 0; r < R; r++) {
			__m512 xv = _mm512_loadu_ps(x + r * K + k);
			for (int j = 0; j < J; j++)
				acc[r][j] = _mm512_fmadd_ps(xv, wv[j], acc[r][j]);
		}
	}
	for (int r = 0; r < R; r++)
		for (int j = 0; j < J; j++) {
			float s = _mm512_reduce_add_ps(acc[r][j]);
			for (long k = K16; k < K; k++)
				s += x[r * K + k] * w[j * K + k];
			y[r * M + j] = s;
		}
}

T512 static void rp512(float *y, const float *w, long M, long K, const float *x, long a) {
	long j = 0;
	for (; j + 4 <= M; j += 4) {
		const float *wj = w + j * K;
		long r = 0;
		for (; r + 4 <= a; r += 4)
			tile512(y + r * M + j, wj, M, K, x + r * K, 4, 4);
		switch (a - r) {
		case 3:
			tile512(y + r * M + j, wj, M, K, x + r * K, 3, 4);
			break;
		case 2:
			tile512(y + r * M + j, wj, M, K, x + r * K, 2, 4);
			break;
		case 1:
			tile512(y + r * M + j, wj, M, K, x + r * K, 1, 4);
			break;
		}
	}
	for (; j < M; j++)
		for (long r = 0; r < a; r++)
			tile512(y + r * M + j, w + j * K, M, K, x + r * K, 1, 1);
}

/* ---- AVX2 + FMA: 8 lanes ---- */
T256 static inline AI float hsum256(__m256 v) {
	__m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
	return _mm_cvtss_f32(s);
}

T256 static inline AI void tile256(float *y, const float *w, long M, long K, const float *x, const int R, const int J) {
	__m256 acc[2][4];
	for (int r = 0; r < R; r++)
		for (int j = 0; j < J; j++)
			acc[r][j] = _mm256_setzero_ps();
	long K8 = K & ~7L;
	for (long k = 0; k < K8; k += 8) {
		__m256 wv[4];
		for (int j = 0; j < J; j++)
			wv[j] = _mm256_loadu_ps(w + j * K + k);
		for (int r = 0; r < R; r++) {
			__m256 xv = _mm256_loadu_ps(x + r * K + k);
			for (int j = 0; j < J; j++)
				acc[r][j] = _mm256_fmadd_ps(xv, wv[j], acc[r][j]);
		}
	}
	for (int r = 0; r < R; r++)
		for (int j = 0; j < J; j++) {
			float s = hsum256(acc[r][j]);
			for (long k = K8; k < K; k++)
				s += x[r * K + k] * w[j * K + k];
			y[r * M + j] = s;
		}
}

T256 static void rp256(float *y, const float *w, long M, long K, const float *x, long a) {
	long j = 0;
	for (; j + 4 <= M; j += 4) {
		const float *wj = w + j * K;
		long r = 0;
		for (; r + 2 <= a; r += 2)
			tile256(y + r * M + j, wj, M, K, x + r * K, 2, 4);
		if (r < a)
			tile256(y + r * M + j, wj, M, K, x + r * K, 1, 4);
	}
	for (; j < M; j++)
		for (long r = 0; r < a; r++)
			tile256(y + r * M + j, w + j * K, M, K, x + r * K, 1, 1);
}

/* ---- portable: SSE2 (x86-64 baseline), 4 lanes, one W row at a time ---- */
static inline AI float hsum128(__m128 s) {
	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
	return _mm_cvtss_f32(s);
}

static void rpgen(float *y, const float *w, long M, long K, const float *x, long a) {
	long K4 = K & ~3L;
	for (long j = 0; j < M; j++) {
		const float *wj = w + j * K;
		for (long r = 0; r < a; r++) {
			const float *xr = x + r * K;
			__m128 acc = _mm_setzero_ps();
			for (long k = 0; k < K4; k += 4)
				acc = _mm_add_ps(acc, _mm_mul_ps(_mm_loadu_ps(xr + k), _mm_loadu_ps(wj + k)));
			float s = hsum128(acc);
			for (long k = K4; k < K; k++)
				s += xr[k] * wj[k];
			y[r * M + j] = s;
		}
	}
}

void tk_recurrent_product(float *y, const float *w, long M, long K, const float *x, long a) {
	switch (tk_level()) {
	case TK_AVX512:
		rp512(y, w, M, K, x, a);
		break;
	case TK_AVX2:
		rp256(y, w, M, K, x, a);
		break;
	default:
		rpgen(y, w, M, K, x, a);
	}
}
