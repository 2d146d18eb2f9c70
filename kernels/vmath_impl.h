/* Vector float32 math and the fused LSTM cell, written once with GCC vector extensions and
 * included once per code path by cell.c with these macros defined:
 *   SUF   name suffix            VF, VI  float and int32 vector types of NL lanes
 *   NL    lanes                  ATTR    function attributes (the target for this path)
 * Only IEEE +, −, ×, ÷ and bit operations are used, and cell.c is compiled with
 * ISO C11 (fp-contract off: no fused multiply-adds), so every path gives bitwise the same results, lane by lane. No libm. */

#define TK_CAT_(a, b) a##b
#define TK_CAT(a, b) TK_CAT_(a, b)
#define FN(name) TK_CAT(name, SUF)

ATTR static inline VF FN(vload)(const float *p) {
	VF v;
	__builtin_memcpy(&v, p, sizeof v);
	return v;
}

ATTR static inline void FN(vstore)(float *p, VF v) { __builtin_memcpy(p, &v, sizeof v); }

ATTR static inline VF FN(splat)(float v) {
	VF z = {0};
	return z + v;
}

/* m ? a : b for a lane mask m (all ones or all zeros per lane). */
ATTR static inline VF FN(vsel)(VI m, VF a, VF b) { return (VF)((m & (VI)a) | (~m & (VI)b)); }

ATTR static inline VF FN(vabs)(VF x) { return (VF)((VI)x & 0x7fffffff); }

/* e^x to about 1 ulp over the whole float range: x clamped to [−104, 88.75] (e^−104 rounds to 0,
 * e^88.75 overflows to +Inf as it should); n = round(x/ln2) by the 1.5·2²³ trick; r = x − n·ln2
 * in two parts (Cody–Waite, Cephes constants); Cephes' degree-6 polynomial on r; the result
 * scaled by 2^n as 2^⌊n/2⌋·2^(n−⌊n/2⌋) so that subnormal and overflowing results round once. */
ATTR static inline VF FN(vexp)(VF x) {
	const float magic = 12582912.0f; /* 1.5·2²³ */
	x = FN(vsel)(x < -104.0f, FN(splat)(-104.0f), x);
	x = FN(vsel)(x > 88.75f, FN(splat)(88.75f), x);
	VF t = x * 1.44269504088896341f + magic;
	VI n = (VI)t - (VI)FN(splat)(magic);
	VF nf = t - magic;
	VF r = x - nf * 0.693359375f;
	r = r - nf * -2.12194440e-4f;
	VF p = FN(splat)(1.9875691500e-4f);
	p = p * r + 1.3981999507e-3f;
	p = p * r + 8.3334519073e-3f;
	p = p * r + 4.1665795894e-2f;
	p = p * r + 1.6666665459e-1f;
	p = p * r + 5.0000001201e-1f;
	p = p * (r * r) + r + 1.0f;
	VI n1 = n >> 1;
	VI n2 = n - n1;
	VF s1 = (VF)((n1 + 127) << 23), s2 = (VF)((n2 + 127) << 23);
	return p * s1 * s2;
}

/* σ(x) = 1/(1+e^−|x|) for x ≥ 0, e^−|x|/(1+e^−|x|) for x < 0: one division, no overflow. */
ATTR static inline VF FN(vsigmoid)(VF x) {
	VF e = FN(vexp)(-FN(vabs)(x));
	VF one = FN(splat)(1.0f);
	return FN(vsel)(x < 0, e, one) / (one + e);
}

/* tanh: Cephes' odd polynomial for |x| < 0.625, (1−e)/(1+e) with e = e^−2|x| above (no
 * cancellation there: e ≤ 0.29), the sign put back. */
ATTR static inline VF FN(vtanh)(VF x) {
	VF ax = FN(vabs)(x);
	VF z = ax * ax;
	VF p = FN(splat)(-5.70498872745e-3f);
	p = p * z + 2.06390887954e-2f;
	p = p * z - 5.37397155531e-2f;
	p = p * z + 1.33314422036e-1f;
	p = p * z - 3.33332819422e-1f;
	p = p * z * ax + ax;
	VF e = FN(vexp)(ax * -2.0f);
	VF q = (1.0f - e) / (1.0f + e);
	VF y = FN(vsel)(ax < 0.625f, p, q);
	return (VF)((VI)y | ((VI)x & ~0x7fffffff));
}

ATTR static inline void FN(cellvec)(VF *gi, VF *gf, VF *gg, VF *go, VF ri, VF rf, VF rg, VF ro, VF *c, VF *h) {
	VF i = FN(vsigmoid)(*gi + ri);
	VF f = FN(vsigmoid)(*gf + rf);
	VF g = FN(vtanh)(*gg + rg);
	VF o = FN(vsigmoid)(*go + ro);
	VF cn = f * *c + i * g;
	*c = cn;
	*h = o * FN(vtanh)(cn);
	*gi = i;
	*gf = f;
	*gg = g;
	*go = o;
}

ATTR static void FN(cell)(float *gates, const float *rec, float *c, float *h, long H) {
	long j = 0;
	for (; j + NL <= H; j += NL) {
		VF gi = FN(vload)(gates + j), gf = FN(vload)(gates + H + j);
		VF gg = FN(vload)(gates + 2 * H + j), go = FN(vload)(gates + 3 * H + j);
		VF cv = FN(vload)(c + j), hv;
		FN(cellvec)(&gi, &gf, &gg, &go, FN(vload)(rec + j), FN(vload)(rec + H + j), FN(vload)(rec + 2 * H + j),
			    FN(vload)(rec + 3 * H + j), &cv, &hv);
		FN(vstore)(gates + j, gi);
		FN(vstore)(gates + H + j, gf);
		FN(vstore)(gates + 2 * H + j, gg);
		FN(vstore)(gates + 3 * H + j, go);
		FN(vstore)(c + j, cv);
		FN(vstore)(h + j, hv);
	}
	if (j < H) { /* the last H mod NL units through zero-padded copies: same arithmetic */
		long n = H - j;
		float b[10][NL];
		__builtin_memset(b, 0, sizeof b);
		for (int q = 0; q < 4; q++) {
			__builtin_memcpy(b[q], gates + q * H + j, n * sizeof(float));
			__builtin_memcpy(b[4 + q], rec + q * H + j, n * sizeof(float));
		}
		__builtin_memcpy(b[8], c + j, n * sizeof(float));
		VF gi = FN(vload)(b[0]), gf = FN(vload)(b[1]), gg = FN(vload)(b[2]), go = FN(vload)(b[3]);
		VF cv = FN(vload)(b[8]), hv;
		FN(cellvec)(&gi, &gf, &gg, &go, FN(vload)(b[4]), FN(vload)(b[5]), FN(vload)(b[6]), FN(vload)(b[7]), &cv, &hv);
		FN(vstore)(b[0], gi);
		FN(vstore)(b[1], gf);
		FN(vstore)(b[2], gg);
		FN(vstore)(b[3], go);
		FN(vstore)(b[8], cv);
		FN(vstore)(b[9], hv);
		for (int q = 0; q < 4; q++)
			__builtin_memcpy(gates + q * H + j, b[q], n * sizeof(float));
		__builtin_memcpy(c + j, b[8], n * sizeof(float));
		__builtin_memcpy(h + j, b[9], n * sizeof(float));
	}
}

/* y = f(x) elementwise, for the three activations. */
#define TK_MAP(name, f)                                                             \
	ATTR static void FN(name)(float *y, const float *x, long n) {               \
		long i = 0;                                                         \
		for (; i + NL <= n; i += NL)                                        \
			FN(vstore)(y + i, FN(f)(FN(vload)(x + i)));                 \
		if (i < n) {                                                        \
			float b[NL];                                                \
			__builtin_memset(b, 0, sizeof b);                           \
			__builtin_memcpy(b, x + i, (n - i) * sizeof(float));        \
			FN(vstore)(b, FN(f)(FN(vload)(b)));                         \
			__builtin_memcpy(y + i, b, (n - i) * sizeof(float));        \
		}                                                                   \
	}
TK_MAP(map_exp, vexp)
TK_MAP(map_sigmoid, vsigmoid)
TK_MAP(map_tanh, vtanh)
#undef TK_MAP
#undef FN
