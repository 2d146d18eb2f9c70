/* bfloat16 recurrent weights with float32 arithmetic (issue 5's opt-in reduced-precision mode).
 * Internal, like kernels.h: every symbol starts with tk_. */
#ifndef TK_BF16_H
#define TK_BF16_H

#include <stdint.h>

/* dst[i] = bf16(src[i]): the upper 16 bits of the float32, rounded to nearest, ties to even;
 * ±Inf stay ±Inf, finite values above the largest bf16 round to ±Inf, NaN stays a (quiet) NaN.
 * The same bits on every code path. */
void tk_to_bf16(uint16_t *dst, const float *src, long n);

/* dst[i] = float32(src[i]) (exact: the bf16 bits shifted left by 16). */
void tk_from_bf16(float *dst, const uint16_t *src, long n);

/* Packs W [M,K] (float32, row-major) as bf16 for tk_recurrent_product_bf16 (rounded as
 * tk_to_bf16): per row, each whole block of 32 columns k0.. as 16 words, word i =
 * bf16(w[k0+i]) | bf16(w[k0+16+i]) << 16 (little-endian: element 2i, 2i+1 of the block); the
 * columns after the last whole block in order. tk_unpack_bf16 widens a packed W back. */
void tk_pack_bf16(uint16_t *dst, const float *src, long M, long K);
void tk_unpack_bf16(float *dst, const uint16_t *src, long M, long K);

/* y[r*M + j] = sum_k x[r*K + k] * W[j,k] for r < a, j < M, W packed by tk_pack_bf16:
 * tk_recurrent_product with W stored as bf16. Each weight is widened to float32 in registers
 * (exact) and the products are accumulated in float32 with the same tiles, lanes, order and
 * reduction as tk_recurrent_product, so on every code path the result is bitwise
 * tk_recurrent_product's on tk_unpack_bf16(W), and the same whatever a, M or a split of M
 * (rows are packed independently). */
void tk_recurrent_product_bf16(float *y, const uint16_t *w, long M, long K, const float *x, long a);

/* Experimental, for measurements only (bf16_dp.c): the same product with AVX512_BF16 vdpbf16ps,
 * which also rounds x to bf16. Call only when tk_bf16dp_available() is non-zero. */
int tk_bf16dp_available(void);
void tk_recurrent_product_bf16dp(float *y, const uint16_t *w, long M, long K, const float *x, long a);

#endif
