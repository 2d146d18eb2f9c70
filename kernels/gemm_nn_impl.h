/* The GemmNN kernel (backward.c), written once and included once per code path with these
 * macros defined:
 *   SUF    name suffix              ATTR   function attributes (the target for this path)
 *   VEC    vector type of NL floats  VLOAD, VSTORE, VSET1, VFMA, VZERO  its intrinsics
 * Every y[r,j] is one fma chain over k in order whatever the path, so the paths agree bitwise. */

#define NN_CAT_(a, b) a##b
#define NN_CAT(a, b) NN_CAT_(a, b)
#define NN_FN(name) NN_CAT(name, SUF)

/* R rows × J vectors of NL columns, k in [k0, k1); partial sums reloaded from y after k0 > 0. */
ATTR static inline AI void NN_FN(nn_tile)(float *y, long ldy, const float *x, long ldx, const float *w, long ldw,
					 long k0, long k1, const int R, const int J) {
	VEC acc[4][4];
	for (int r = 0; r < R; r++)
		for (int j = 0; j < J; j++)
			acc[r][j] = k0 == 0 ? VZERO() : VLOAD(y + r * ldy + NL * j);
	for (long k = k0; k < k1; k++) {
		VEC wv[4];
		for (int j = 0; j < J; j++)
			wv[j] = VLOAD(w + k * ldw + NL * j);
		for (int r = 0; r < R; r++) {
			VEC xv = VSET1(x[r * ldx + k]);
			for (int j = 0; j < J; j++)
				acc[r][j] = VFMA(xv, wv[j], acc[r][j]);
		}
	}
	for (int r = 0; r < R; r++)
		for (int j = 0; j < J; j++)
			VSTORE(y + r * ldy + NL * j, acc[r][j]);
}

ATTR static inline AI void NN_FN(nn_rows)(float *y, long ldy, const float *x, long ldx, const float *w, long ldw,
					 long a, long k0, long k1, const int J) {
	long r = 0;
	for (; r + 4 <= a; r += 4)
		NN_FN(nn_tile)(y + r * ldy, ldy, x + r * ldx, ldx, w, ldw, k0, k1, 4, J);
	switch (a - r) {
	case 3:
		NN_FN(nn_tile)(y + r * ldy, ldy, x + r * ldx, ldx, w, ldw, k0, k1, 3, J);
		break;
	case 2:
		NN_FN(nn_tile)(y + r * ldy, ldy, x + r * ldx, ldx, w, ldw, k0, k1, 2, J);
		break;
	case 1:
		NN_FN(nn_tile)(y + r * ldy, ldy, x + r * ldx, ldx, w, ldw, k0, k1, 1, J);
		break;
	}
}

/* Columns past the last full vector: the same fma chain, one element at a time. */
ATTR static void NN_FN(nn_tail)(float *y, long ldy, const float *x, long ldx, const float *w, long ldw, long a,
				long j0, long N, long K) {
	for (long r = 0; r < a; r++)
		for (long j = j0; j < N; j++) {
			float s = 0;
			for (long k = 0; k < K; k++)
				s = __builtin_fmaf(x[r * ldx + k], w[k * ldw + j], s);
			y[r * ldy + j] = s;
		}
}

/* Blocks of 4·NL columns, then single vectors, then the tail; K in blocks of NN_KB rows. */
ATTR static void NN_FN(nn)(float *y, long ldy, const float *x, long ldx, const float *w, long ldw, long a, long N,
			   long K) {
	long j = 0;
	for (; j + 4 * NL <= N; j += 4 * NL)
		for (long k0 = 0; k0 < K; k0 += NN_KB)
			NN_FN(nn_rows)(y + j, ldy, x, ldx, w + j, ldw, a, k0, k0 + NN_KB < K ? k0 + NN_KB : K, 4);
	for (; j + NL <= N; j += NL)
		for (long k0 = 0; k0 < K; k0 += NN_KB)
			NN_FN(nn_rows)(y + j, ldy, x, ldx, w + j, ldw, a, k0, k0 + NN_KB < K ? k0 + NN_KB : K, 1);
	NN_FN(nn_tail)(y, ldy, x, ldx, w, ldw, a, j, N, K);
}
