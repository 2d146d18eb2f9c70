/* The recurrent product with bfloat16 weights and float32 arithmetic: y[a,M] = x[a,K]·Wᵀ, W
 * [M,K] stored as bf16 (half the bytes of float32: at a = 1 the product streams W from L3, so
 * the bytes are the time). Weights are widened to float32 in registers (exact) and multiplied
 * into the same accumulators, in the same order, as recurrent.c's kernel, so the result is
 * bitwise tk_recurrent_product's on the widened weights, path by path: x (the LSTM's h) is never
 * rounded, and the only error of the mode is the rounding of W to bf16. Only AVX-512F / AVX2
 * are needed (not AVX512_BF16, whose vdpbf16ps would also round x to bf16: bf16_dp.c).
 *
 * Packed layout (tk_pack_bf16): in each row, each whole block of 32 columns k0..k0+31 is stored
 * as 16 32-bit words, word i = bf16(w[k0+i]) | bf16(w[k0+16+i]) << 16; the columns after the
 * last whole block are stored in order. One 512-bit load then gives w[k0..k0+15] by a left shift
 * by 16 and w[k0+16..k0+31] by masking off the low halves, two cheap operations for 32 weights
 * and no shuffle (zero-extending 16 bf16 with vpmovzxwd costs a shuffle per 16); x is read in
 * order, as by the float32 kernel. The AVX2 and SSE2 paths take the same words in 8- and 4-lane
 * pieces, in the float32 kernels' k order. */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>
#include "kernels.h"
#include "bf16.h"

#define AI __attribute__((always_inline))
#define T512 __attribute__((target("avx512f,avx512dq,avx512vl,avx2,fma")))
#define T256 __attribute__((target("avx2,fma")))

static inline float bf16f(uint16_t v) {
	uint32_t u = (uint32_t)v << 16;
	float f;
	memcpy(&f, &u, sizeof f);
	return f;
}

void tk_to_bf16(uint16_t *dst, const float *src, long n) {
	for (long i = 0; i < n; i++) {
		uint32_t u;
		memcpy(&u, src + i, sizeof u);
		if ((u & 0x7fffffffu) > 0x7f800000u)
			dst[i] = (uint16_t)((u >> 16) | 0x40u); /* NaN: keep sign and payload top, quiet */
		else
			dst[i] = (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16); /* nearest, ties to even */
	}
}

void tk_from_bf16(float *dst, const uint16_t *src, long n) {
	for (long i = 0; i < n; i++)
		dst[i] = bf16f(src[i]);
}

void tk_pack_bf16(uint16_t *dst, const float *src, long M, long K) {
	long K32 = K & ~31L;
	for (long j = 0; j < M; j++) {
		const float *s = src + j * K;
		uint16_t *d = dst + j * K;
		for (long k = 0; k < K32; k += 32)
			for (int i = 0; i < 16; i++) {
				tk_to_bf16(d + k + 2 * i, s + k + i, 1);
				tk_to_bf16(d + k + 2 * i + 1, s + k + 16 + i, 1);
			}
		tk_to_bf16(d + K32, s + K32, K - K32);
	}
}

void tk_unpack_bf16(float *dst, const uint16_t *src, long M, long K) {
	long K32 = K & ~31L;
	for (long j = 0; j < M; j++) {
		const uint16_t *s = src + j * K;
		float *d = dst + j * K;
		for (long k = 0; k < K32; k += 32)
			for (int i = 0; i < 16; i++) {
				d[k + i] = bf16f(s[k + 2 * i]);
				d[k + 16 + i] = bf16f(s[k + 2 * i + 1]);
			}
		for (long k = K32; k < K; k++)
			d[k] = bf16f(s[k]);
	}
}

/* ---- AVX-512: 16 lanes, 4 rows of W × 4 rows of x ---- */
T512 static inline AI __m512 widen512(const uint16_t *p) {
	__m256i v = _mm256_loadu_si256((const __m256i *)p);
	return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(v), 16));
}

T512 static inline AI void tile512(float *y, long ldy, const uint16_t *w, long ldw, long K, const float *x, long ldx,
				     const int R, const int J) {
	__m512 acc[4][4];
	for (int r = 0; r < R; r++)
		for (int j = 0; j < J; j++)
			acc[r][j] = _mm512_setzero_ps();
	const __m512i hiMask = _mm512_set1_epi32((int)0xffff0000u);
	long K32 = K & ~31L, K16 = K & ~15L;
	for (long k = 0; k < K32; k += 32) {
		__m512 lo[4], hi[4];
		for (int j = 0; j < J; j++) {
			__m512i v = _mm512_loadu_si512((const void *)(w + j * ldw + k));
			lo[j] = _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));    /* w[k .. k+15] */
			hi[j] = _mm512_castsi512_ps(_mm512_and_si512(v, hiMask)); /* w[k+16 .. k+31] */
		}
		for (int r = 0; r < R; r++) {
			__m512 xv = _mm512_loadu_ps(x + r * ldx + k);
			for (int j = 0; j < J; j++)
				acc[r][j] = _mm512_fmadd_ps(xv, lo[j], acc[r][j]);
		}
		for (int r = 0; r < R; r++) {
			__m512 xv = _mm512_loadu_ps(x + r * ldx + k + 16);
			for (int j = 0; j < J; j++)
				acc[r][j] = _mm512_fmadd_ps(xv, hi[j], acc[r][j]);
		}
	}
	if (K16 > K32) { /* 16 more columns, stored in order */
		__m512 wv[4];
		for (int j = 0; j < J; j++)
			wv[j] = widen512(w + j * ldw + K32);
		for (int r = 0; r < R; r++) {
			__m512 xv = _mm512_loadu_ps(x + r * ldx + K32);
			for (int j = 0; j < J; j++)
				acc[r][j] = _mm512_fmadd_ps(xv, wv[j], acc[r][j]);
		}
	}
	for (int r = 0; r < R; r++)
		for (int j = 0; j < J; j++) {
			float s = _mm512_reduce_add_ps(acc[r][j]);
			for (long k = K16; k < K; k++)
				s += x[r * ldx + k] * bf16f(w[j * ldw + k]);
			y[r * ldy + j] = s;
		}
}

T512 static void rp512(float *y, long ldy, const uint16_t *w, long ldw, long M, long K, const float *x, long ldx,
			long a) {
	long j = 0;
	for (; j + 4 <= M; j += 4) {
		const uint16_t *wj = w + j * ldw;
		long r = 0;
		for (; r + 4 <= a; r += 4)
			tile512(y + r * ldy + j, ldy, wj, ldw, K, x + r * ldx, ldx, 4, 4);
		switch (a - r) {
		case 3:
			tile512(y + r * ldy + j, ldy, wj, ldw, K, x + r * ldx, ldx, 3, 4);
			break;
		case 2:
			tile512(y + r * ldy + j, ldy, wj, ldw, K, x + r * ldx, ldx, 2, 4);
			break;
		case 1:
			tile512(y + r * ldy + j, ldy, wj, ldw, K, x + r * ldx, ldx, 1, 4);
			break;
		}
	}
	for (; j < M; j++)
		for (long r = 0; r < a; r++)
			tile512(y + r * ldy + j, ldy, w + j * ldw, ldw, K, x + r * ldx, ldx, 1, 1);
}

/* ---- AVX2 + FMA: 8 lanes, 4 rows of W × 2 rows of x ---- */
T256 static inline AI float hsum256(__m256 v) {
	__m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
	return _mm_cvtss_f32(s);
}

T256 static inline AI __m256 widen256(const uint16_t *p) {
	__m128i v = _mm_loadu_si128((const __m128i *)p);
	return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(v), 16));
}

/* 8 weights of a packed block: the low (columns k0+8h .. +7) or high (k0+16+8h .. +7) halves
 * of words 8h .. 8h+7. */
T256 static inline AI __m256 half256(const uint16_t *block, int h, int high) {
	__m256i v = _mm256_loadu_si256((const __m256i *)(block + 16 * h));
	if (high)
		return _mm256_castsi256_ps(_mm256_and_si256(v, _mm256_set1_epi32((int)0xffff0000u)));
	return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
}

T256 static inline AI void tile256(float *y, long ldy, const uint16_t *w, long ldw, long K, const float *x, long ldx,
				     const int R, const int J) {
	__m256 acc[2][4];
	for (int r = 0; r < R; r++)
		for (int j = 0; j < J; j++)
			acc[r][j] = _mm256_setzero_ps();
	long K32 = K & ~31L, K8 = K & ~7L;
	for (long k = 0; k < K32; k += 32)
		for (int q = 0; q < 4; q++) { /* columns k+8q .. k+8q+7, the float32 kernel's order */
			__m256 wv[4];
			for (int j = 0; j < J; j++)
				wv[j] = half256(w + j * ldw + k, q & 1, q >> 1);
			for (int r = 0; r < R; r++) {
				__m256 xv = _mm256_loadu_ps(x + r * ldx + k + 8 * q);
				for (int j = 0; j < J; j++)
					acc[r][j] = _mm256_fmadd_ps(xv, wv[j], acc[r][j]);
			}
		}
	for (long k = K32; k < K8; k += 8) { /* stored in order */
		__m256 wv[4];
		for (int j = 0; j < J; j++)
			wv[j] = widen256(w + j * ldw + k);
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
				s += x[r * ldx + k] * bf16f(w[j * ldw + k]);
			y[r * ldy + j] = s;
		}
}

T256 static void rp256(float *y, long ldy, const uint16_t *w, long ldw, long M, long K, const float *x, long ldx,
			long a) {
	long j = 0;
	for (; j + 4 <= M; j += 4) {
		const uint16_t *wj = w + j * ldw;
		long r = 0;
		for (; r + 2 <= a; r += 2)
			tile256(y + r * ldy + j, ldy, wj, ldw, K, x + r * ldx, ldx, 2, 4);
		if (r < a)
			tile256(y + r * ldy + j, ldy, wj, ldw, K, x + r * ldx, ldx, 1, 4);
	}
	for (; j < M; j++)
		for (long r = 0; r < a; r++)
			tile256(y + r * ldy + j, ldy, w + j * ldw, ldw, K, x + r * ldx, ldx, 1, 1);
}

/* ---- portable: SSE2, 4 lanes, one W row at a time, multiply then add (as recurrent.c) ---- */
static inline AI float hsum128(__m128 s) {
	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
	return _mm_cvtss_f32(s);
}

static void rpgen(float *y, long ldy, const uint16_t *w, long ldw, long M, long K, const float *x, long ldx, long a) {
	long K32 = K & ~31L, K4 = K & ~3L;
	const __m128i zero = _mm_setzero_si128(), hiMask = _mm_set1_epi32((int)0xffff0000u);
	for (long j = 0; j < M; j++) {
		const uint16_t *wj = w + j * ldw;
		for (long r = 0; r < a; r++) {
			const float *xr = x + r * ldx;
			__m128 acc = _mm_setzero_ps();
			for (long k = 0; k < K32; k += 32)
				for (int q = 0; q < 8; q++) { /* columns k+4q .. k+4q+3, in order */
					__m128i v = _mm_loadu_si128((const __m128i *)(wj + k + 8 * (q & 3)));
					__m128 wv = _mm_castsi128_ps(q < 4 ? _mm_slli_epi32(v, 16) : _mm_and_si128(v, hiMask));
					acc = _mm_add_ps(acc, _mm_mul_ps(_mm_loadu_ps(xr + k + 4 * q), wv));
				}
			for (long k = K32; k < K4; k += 4) { /* stored in order: 4 bf16 into the high halves */
				__m128i v = _mm_loadl_epi64((const __m128i *)(wj + k));
				__m128 wv = _mm_castsi128_ps(_mm_unpacklo_epi16(zero, v));
				acc = _mm_add_ps(acc, _mm_mul_ps(_mm_loadu_ps(xr + k), wv));
			}
			float s = hsum128(acc);
			for (long k = K4; k < K; k++)
				s += xr[k] * bf16f(wj[k]);
			y[r * ldy + j] = s;
		}
	}
}

void tk_recurrent_product_bf16(float *y, const uint16_t *w, long M, long K, const float *x, long a) {
	switch (tk_level()) {
	case TK_AVX512:
		rp512(y, M, w, K, M, K, x, K, a);
		break;
	case TK_AVX2:
		rp256(y, M, w, K, M, K, x, K, a);
		break;
	default:
		rpgen(y, M, w, K, M, K, x, K, a);
	}
}
