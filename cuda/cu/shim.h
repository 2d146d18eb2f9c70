/* The CUDA driver and cuBLAS, loaded at run time with dlopen (DESIGN §6). No CUDA header is
 * needed to build: the few types used are declared here, with the values of CUDA's own headers
 * (cuda.h and cublas_api.h; stable since CUDA 4 / cuBLAS v2).
 *
 * Every tc_* call returns the library's own status code (0 = success). The names are the exact
 * symbols resolved; tc_driver_symbols / tc_cublas_symbols list them for the Go side. Nothing
 * here starts with "temporal_" (the .so's version script exports that prefix only). */
#ifndef TC_SHIM_H
#define TC_SHIM_H

#include <stddef.h>
#include <stdint.h>

typedef int tc_result;             /* CUresult / cublasStatus_t */
typedef int tc_device;             /* CUdevice */
typedef void *tc_context;          /* CUcontext */
typedef void *tc_module;           /* CUmodule */
typedef void *tc_function;         /* CUfunction */
typedef void *tc_stream;           /* CUstream */
typedef void *tc_blas;             /* cublasHandle_t */
typedef unsigned long long tc_ptr; /* CUdeviceptr (64-bit on every 64-bit platform) */

/* Loading. Each writes a NUL-terminated message into err (cap bytes) on failure and returns
 * non-zero; a second call after success does nothing and returns 0. */
int tc_load_driver(char *err, size_t cap);
void tc_set_driver_name(const char *name); /* tests only: a driver that is not there */
int tc_load_cublas(const char *path, char *err, size_t cap); /* path NULL/"": the sonames */
const char *tc_cublas_loaded_from(void);                      /* "" until loaded */

/* Symbol tables (NULL-terminated), for tests and messages. */
extern const char *const tc_driver_symbols[];
extern const char *const tc_cublas_symbols[];
/* Name i of a table, NULL past the end. */
const char *tc_driver_symbol(int i);
const char *tc_cublas_symbol(int i);
/* 1 if the named symbol of a loaded library was resolved. */
int tc_driver_symbol_resolved(int i);
int tc_cublas_symbol_resolved(int i);

/* Driver. */
tc_result tc_init(void);
tc_result tc_device_get(tc_device *dev, int ordinal);
tc_result tc_device_get_count(int *n);
tc_result tc_device_get_name(char *name, int len, tc_device dev);
tc_result tc_mem_get_info(size_t *free_bytes, size_t *total_bytes); /* current context */
tc_result tc_primary_ctx_retain(tc_context *ctx, tc_device dev);
tc_result tc_primary_ctx_release(tc_device dev);
tc_result tc_ctx_set_current(tc_context ctx);
/* cuModuleLoadDataEx with the JIT error log captured into log (cap bytes, NUL-terminated). */
tc_result tc_module_load(tc_module *mod, const void *image, char *log, size_t cap);
tc_result tc_module_unload(tc_module mod);
tc_result tc_module_get_function(tc_function *fn, tc_module mod, const char *name);
tc_result tc_mem_alloc(tc_ptr *p, size_t bytes);
tc_result tc_mem_free(tc_ptr p);
tc_result tc_memcpy_htod(tc_ptr dst, const void *src, size_t bytes);
tc_result tc_memcpy_dtoh(void *dst, tc_ptr src, size_t bytes);
tc_result tc_stream_create(tc_stream *s);
tc_result tc_stream_destroy(tc_stream s);
tc_result tc_stream_synchronize(tc_stream s);
/* cuGetErrorName is not resolved (not in DESIGN §6's list): names come from a table in Go. */

/* cuBLAS (column-major; the Go side maps row-major products onto it). */
tc_result tc_blas_create(tc_blas *h);
tc_result tc_blas_destroy(tc_blas h);
tc_result tc_blas_set_stream(tc_blas h, tc_stream s);
tc_result tc_blas_set_math_mode(tc_blas h, int mode); /* 0 = CUBLAS_DEFAULT_MATH, 3 = TF32 */
tc_result tc_sgemm(tc_blas h, int transa, int transb, int m, int n, int k, float alpha, tc_ptr A, int lda,
                   tc_ptr B, int ldb, float beta, tc_ptr C, int ldc);
tc_result tc_sgemm_strided_batched(tc_blas h, int transa, int transb, int m, int n, int k, float alpha,
                                   tc_ptr A, int lda, long long sA, tc_ptr B, int ldb, long long sB, float beta,
                                   tc_ptr C, int ldc, long long sC, int batch);

/* Kernel launches: one function per kernel of cuda/kernels.cu, same parameters in the same
 * order, plus the launch shape. Each returns cuLaunchKernel's result. */
tc_result tc_launch_fill(tc_function f, unsigned grid, unsigned block, tc_stream s, tc_ptr p, float v,
                         long long n);
tc_result tc_launch_bias_act(tc_function f, unsigned grid, unsigned block, tc_stream s, tc_ptr y, tc_ptr bias,
                             long long rows, int C, int act);
tc_result tc_launch_layernorm(tc_function f, unsigned grid, unsigned block, tc_stream s, tc_ptr out, tc_ptr in,
                              tc_ptr bias, tc_ptr res, tc_ptr w, tc_ptr b, long long rows, int C, int act);
tc_result tc_launch_lstm_step(tc_function f, unsigned grid, unsigned block, tc_stream s, tc_ptr gin, tc_ptr rec,
                              tc_ptr bias, tc_ptr h, tc_ptr c, tc_ptr out, tc_ptr order, tc_ptr len, int B,
                              int Tp, int H, int dirs, int step);
tc_result tc_launch_qkv_split(tc_function f, unsigned grid, unsigned block, tc_stream s, tc_ptr qkv, tc_ptr bias,
                              tc_ptr q, tc_ptr k, tc_ptr v, int B, int Tp, int D, int heads, float sqrt_hd);
tc_result tc_launch_attn_softmax(tc_function f, unsigned grid, unsigned block, tc_stream s, tc_ptr S,
                                 tc_ptr len, int B, int heads, int Tp, int masked);
tc_result tc_launch_merge_heads(tc_function f, unsigned grid, unsigned block, tc_stream s, tc_ptr ctxh,
                                tc_ptr ctx, int B, int Tp, int D, int heads);
tc_result tc_launch_pool_softmax(tc_function f, unsigned grid, unsigned block, tc_stream s, tc_ptr score,
                                 tc_ptr b4, tc_ptr w, tc_ptr len, int B, int Tp, int masked);
tc_result tc_launch_pool_sum(tc_function f, unsigned grid, unsigned block, tc_stream s, tc_ptr w, tc_ptr x,
                             tc_ptr pooled, tc_ptr len, int B, int Tp, int D, int masked);

#endif
