/* An experiment, not used by the library: the bf16 recurrent product with AVX512_BF16's
 * vdpbf16ps, which multiplies bf16 pairs of W *and of x* (so x, the LSTM's h, is rounded to
 * bf16 too: 8 significant bits) and adds both products into a float32 accumulator, 32
 * multiply-adds per instruction. Kept to measure its speed and error against the shipped
 * widening kernel (bf16.c): kernels/NOTES.md, "bf16 recurrent weights". AVX-512 BF16 CPUs only;
 * tk_bf16dp_available says whether it may be called. */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>
#include "kernels.h"
#include "bf16.h"

#define AI __attribute__((always_inline))
#define TBF __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,avx2,fma")))

int tk_bf16dp_available(void) {
	__builtin_cpu_init();
	return tk_detect() >= TK_AVX512 && __builtin_cpu_supports("avx512bf16");
}

static inline float bf16r(float v) { /* v rounded to bf16 (nearest even), as float */
	uint16_t b;
	uint32_t u;
	float f;
	tk_to_bf16(&b, &v, 1);
	u = (uint32_t)b << 16;
	memcpy(&f, &u, sizeof f);
	return f;
}

static inline float bf16w(uint16_t v) {
	uint32_t u = (uint32_t)v << 16;
	float f;
	memcpy(&f, &u, sizeof f);
	return f;
}

TBF static inline AI void tiledp(float *y, long ldy, const uint16_t *w, long ldw, long K, const float *x, long ldx,
				   const int R, const int J) {
	__m512 acc[4][4];
	for (int r = 0; r < R; r++)
		for (int j = 0; j < J; j++)
			acc[r][j] = _mm512_setzero_ps();
	long K32 = K & ~31L;
	for (long k = 0; k < K32; k += 32) {
		__m512bh wv[4];
		for (int j = 0; j < J; j++)
			wv[j] = (__m512bh)_mm512_loadu_si512((const void *)(w + j * ldw + k));
		for (int r = 0; r < R; r++) {
			const float *xr = x + r * ldx + k;
			__m512bh xv = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(xr + 16), _mm512_loadu_ps(xr));
			for (int j = 0; j < J; j++)
				acc[r][j] = _mm512_dpbf16_ps(acc[r][j], xv, wv[j]);
		}
	}
	for (int r = 0; r < R; r++)
		for (int j = 0; j < J; j++) {
			float s = _mm512_reduce_add_ps(acc[r][j]);
			for (long k = K32; k < K; k++)
				s += bf16r(x[r * ldx + k]) * bf16w(w[j * ldw + k]);
			y[r * ldy + j] = s;
		}
}

TBF void tk_recurrent_product_bf16dp(float *y, const uint16_t *w, long M, long K, const float *x, long a) {
	long j = 0;
	for (; j + 4 <= M; j += 4) {
		const uint16_t *wj = w + j * K;
		long r = 0;
		for (; r + 4 <= a; r += 4)
			tiledp(y + r * M + j, M, wj, K, K, x + r * K, K, 4, 4);
		switch (a - r) {
		case 3:
			tiledp(y + r * M + j, M, wj, K, K, x + r * K, K, 3, 4);
			break;
		case 2:
			tiledp(y + r * M + j, M, wj, K, K, x + r * K, K, 2, 4);
			break;
		case 1:
			tiledp(y + r * M + j, M, wj, K, K, x + r * K, K, 1, 4);
			break;
		}
	}
	for (; j < M; j++)
		for (long r = 0; r < a; r++)
			tiledp(y + r * M + j, M, w + j * K, K, K, x + r * K, K, 1, 1);
}
