// Private OpenBLAS: what libtemporal needs so that Debian's static libopenblas.a can live inside
// a dlopen'ed Go c-shared library (see shared/notes/capi-build-recipe.md §4).
#include <stddef.h>

typedef long BLASLONG;

// tcore_gemv_thread_calls counts calls of the stub below; tests check it stays 0.
long tcore_gemv_thread_calls = 0;

// Defining sgemv_thread_n keeps the archive member sgemv_thread_n.o (4 KiB of thread-local
// y_dummy) out of the link: that TLS block makes dlopen fail with "cannot allocate memory in
// static TLS block". OpenBLAS only calls it for multi-threaded gemv, which we never run; this is
// still a correct single-threaded y += alpha*A*x (A column-major with leading dimension lda).
int sgemv_thread_n(BLASLONG m, BLASLONG n, float alpha, float *a, BLASLONG lda, float *x,
                   BLASLONG incx, float *y, BLASLONG incy, float *buffer, int nthreads) {
	(void)buffer;
	(void)nthreads;
	__atomic_fetch_add(&tcore_gemv_thread_calls, 1, __ATOMIC_RELAXED);
	for (BLASLONG j = 0; j < n; j++) {
		float xj = alpha * x[j * incx];
		for (BLASLONG i = 0; i < m; i++) y[i * incy] += a[i + j * lda] * xj;
	}
	return 0;
}

// The same for dgemv_thread_n (8 KiB of thread-local y_dummy), pulled in by cblas_dgemv, which
// the float64 instantiation of the layers (finite-difference checks) uses.
int dgemv_thread_n(BLASLONG m, BLASLONG n, double alpha, double *a, BLASLONG lda, double *x,
                   BLASLONG incx, double *y, BLASLONG incy, double *buffer, int nthreads) {
	(void)buffer;
	(void)nthreads;
	__atomic_fetch_add(&tcore_gemv_thread_calls, 1, __ATOMIC_RELAXED);
	for (BLASLONG j = 0; j < n; j++) {
		double xj = alpha * x[j * incx];
		for (BLASLONG i = 0; i < m; i++) y[i * incy] += a[i + j * lda] * xj;
	}
	return 0;
}

extern int blas_cpu_number, blas_num_threads;

// Runs before every unprioritised constructor (Go's runtime start and OpenBLAS's gotoblas_init)
// while dlopen is still single-threaded: with both set, OpenBLAS sizes no thread pool and
// ignores OPENBLAS_NUM_THREADS. libtemporal runs OpenBLAS single-threaded per call and
// parallelises with its own fixed partition (DESIGN §5).
__attribute__((constructor(101))) static void tcore_openblas_preinit(void) {
	blas_cpu_number = 1;
	blas_num_threads = 1;
}
