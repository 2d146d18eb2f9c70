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

/* ---- AVX-512: vectors of 16 columns ---- */
#define SUF 512
#define ATTR T512
#define VEC __m512
#define NL 16
#define VLOAD _mm512_loadu_ps
#define VSTORE _mm512_storeu_ps
#define VSET1 _mm512_set1_ps
#define VFMA _mm512_fmadd_ps
#define VZERO _mm512_setzero_ps
#include "gemm_nn_impl.h"
#undef SUF
#undef ATTR
#undef VEC
#undef NL
#undef VLOAD
#undef VSTORE
#undef VSET1
#undef VFMA
#undef VZERO

/* ---- AVX2 + FMA: vectors of 8 columns ---- */
#define SUF 256
#define ATTR T256
#define VEC __m256
#define NL 8
#define VLOAD _mm256_loadu_ps
#define VSTORE _mm256_storeu_ps
#define VSET1 _mm256_set1_ps
#define VFMA _mm256_fmadd_ps
#define VZERO _mm256_setzero_ps
#include "gemm_nn_impl.h"

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
