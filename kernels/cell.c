/* Fused LSTM cell and vector activations, three code paths from one template (vmath_impl.h),
 * and the run-time choice of code path. Compiled as ISO C11 (kernels.go), whose default is -ffp-contract=off:
 * every path rounds the same way, so results are bitwise the same on every x86-64. */
#include "kernels.h"

typedef float v16sf __attribute__((vector_size(64)));
typedef int v16si __attribute__((vector_size(64)));
typedef float v8sf __attribute__((vector_size(32)));
typedef int v8si __attribute__((vector_size(32)));
typedef float v4sf __attribute__((vector_size(16)));
typedef int v4si __attribute__((vector_size(16)));

#define SUF _avx512
#define VF v16sf
#define VI v16si
#define NL 16
#define ATTR __attribute__((target("avx512f,avx512dq,avx512vl,avx2,fma")))
#include "vmath_impl.h"
#undef SUF
#undef VF
#undef VI
#undef NL
#undef ATTR

#define SUF _avx2
#define VF v8sf
#define VI v8si
#define NL 8
#define ATTR __attribute__((target("avx2,fma")))
#include "vmath_impl.h"
#undef SUF
#undef VF
#undef VI
#undef NL
#undef ATTR

#define SUF _generic
#define VF v4sf
#define VI v4si
#define NL 4
#define ATTR
#include "vmath_impl.h"
#undef SUF
#undef VF
#undef VI
#undef NL
#undef ATTR

static int tk_detected = -1, tk_current = -1;

int tk_detect(void) {
	int d = __atomic_load_n(&tk_detected, __ATOMIC_ACQUIRE);
	if (d >= 0)
		return d;
	__builtin_cpu_init();
	d = TK_GENERIC;
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
		d = TK_AVX2;
	if (d == TK_AVX2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
	    __builtin_cpu_supports("avx512vl"))
		d = TK_AVX512;
	__atomic_store_n(&tk_detected, d, __ATOMIC_RELEASE);
	return d;
}

int tk_set_level(int want) {
	int d = tk_detect();
	if (want > d)
		want = d;
	if (want < TK_GENERIC)
		want = TK_GENERIC;
	__atomic_store_n(&tk_current, want, __ATOMIC_RELEASE);
	return want;
}

int tk_level(void) {
	int l = __atomic_load_n(&tk_current, __ATOMIC_ACQUIRE);
	return l >= 0 ? l : tk_set_level(TK_AVX512);
}

#define TK_DISPATCH(call, args)              \
	switch (tk_level()) {                \
	case TK_AVX512:                      \
		TK_CAT(call, _avx512) args;  \
		break;                       \
	case TK_AVX2:                        \
		TK_CAT(call, _avx2) args;    \
		break;                       \
	default:                             \
		TK_CAT(call, _generic) args; \
	}

void tk_lstm_cell(float *gates, const float *rec, float *c, float *h, long H) {
	TK_DISPATCH(cell, (gates, rec, c, h, H))
}

void tk_sigmoid(float *y, const float *x, long n) { TK_DISPATCH(map_sigmoid, (y, x, n)) }
void tk_tanh(float *y, const float *x, long n) { TK_DISPATCH(map_tanh, (y, x, n)) }
void tk_exp(float *y, const float *x, long n) { TK_DISPATCH(map_exp, (y, x, n)) }
