/* Hot CPU kernels of libtemporal (float32). Internal: every symbol starts with tk_ and is hidden
 * by the library's version script. Each kernel has an AVX-512, an AVX2+FMA and a portable
 * (x86-64 baseline) code path; tk_set_level picks one at run time, never above what the CPU and
 * OS support (tk_detect). No libm: the nohdf5 library must need only libc. */
#ifndef TK_KERNELS_H
#define TK_KERNELS_H

enum { TK_GENERIC = 0, TK_AVX2 = 1, TK_AVX512 = 2 };

int tk_detect(void);        /* highest level this CPU and OS support */
int tk_set_level(int want); /* min(want, tk_detect()); returns the level now in use */
int tk_level(void);

/* y[r*M + j] = sum_k x[r*K + k] * w[j*K + k] for r < a, j < M: the recurrent product
 * h[a,K]·Wᵀ with W [M,K] row-major (PyTorch's [out, in]), W streamed once for all a rows.
 * Each y[r,j] is computed in the same order whatever a, M or the tile it falls in. */
void tk_recurrent_product(float *y, const float *w, long M, long K, const float *x, long a);

/* The same kernel with strides: y[r*ldy + j] (+)= sum_k x[r*ldx + k] * w[j*ldw + k] for r < a,
 * j < M; with accumulate the old y is added after the dot product (y = y + x·Wᵀ). */
void tk_gemm_nt(float *y, long ldy, const float *x, long ldx, const float *w, long ldw, long a, long M, long K,
		int accumulate);

/* Fused LSTM cell over H units: gates [4H] holds the input part (x·W_ihᵀ + biases) of the
 * pre-activations i, f, g, o; rec [4H] the recurrent part. Writes the activated gates back into
 * gates, c = f·c + i·g, h = o·tanh(c). Bitwise the same on every code path. */
void tk_lstm_cell(float *gates, const float *rec, float *c, float *h, long H);

/* y[i] = f(x[i]) for n elements, the cell's own activations (for tests and other layers). */
void tk_sigmoid(float *y, const float *x, long n);
void tk_tanh(float *y, const float *x, long n);
void tk_exp(float *y, const float *x, long n);

#endif
