/* dlopen-based access to the CUDA driver and cuBLAS. See shim.h. */
#define _GNU_SOURCE
#include "shim.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* ---- symbol tables ------------------------------------------------------------------------ */

/* The driver symbols, in the order of the driver_fn table below. cuDevicePrimaryCtxRelease and
 * cuStreamDestroy are the _v2 entry points that cuda.h has mapped those names to since CUDA 11
 * and 4; cuModuleUnload and cuStreamDestroy_v2 let a device's module and stream go when its last
 * model is freed (the primary context may live on in the host, e.g. PyTorch's). */
#define TC_DRIVER_SYMBOLS(X)                                                                          \
    X(cuInit, (unsigned))                                                                \
    X(cuDeviceGet, (tc_device *, int))                                                   \
    X(cuDeviceGetCount, (int *))                                                         \
    X(cuDeviceGetName, (char *, int, tc_device))                                         \
    X(cuMemGetInfo_v2, (size_t *, size_t *))                                             \
    X(cuDevicePrimaryCtxRetain, (tc_context *, tc_device))                               \
    X(cuDevicePrimaryCtxRelease_v2, (tc_device))                                         \
    X(cuCtxSetCurrent, (tc_context))                                                     \
    X(cuModuleLoadDataEx, (tc_module *, const void *, unsigned, int *, void **))         \
    X(cuModuleUnload, (tc_module))                                                       \
    X(cuModuleGetFunction, (tc_function *, tc_module, const char *))                     \
    X(cuMemAlloc_v2, (tc_ptr *, size_t))                                                 \
    X(cuMemFree_v2, (tc_ptr))                                                            \
    X(cuMemcpyHtoD_v2, (tc_ptr, const void *, size_t))                                   \
    X(cuMemcpyDtoH_v2, (void *, tc_ptr, size_t))                                        \
    X(cuLaunchKernel, (tc_function, unsigned, unsigned, unsigned, unsigned, unsigned,    \
                                    unsigned, unsigned, tc_stream, void **, void **))                 \
    X(cuStreamCreate, (tc_stream *, unsigned))                                           \
    X(cuStreamDestroy_v2, (tc_stream))                                                   \
    X(cuStreamSynchronize, (tc_stream))

#define TC_CUBLAS_SYMBOLS(X)                                                                          \
    X(cublasCreate_v2, (tc_blas *))                                                      \
    X(cublasDestroy_v2, (tc_blas))                                                       \
    X(cublasSetStream_v2, (tc_blas, tc_stream))                                          \
    X(cublasSetMathMode, (tc_blas, int))                                                 \
    X(cublasSgemm_v2, (tc_blas, int, int, int, int, int, const float *, const float *,   \
                                    int, const float *, int, const float *, float *, int))            \
    X(cublasSgemmStridedBatched,                                                                      \
      (tc_blas, int, int, int, int, int, const float *, const float *, int, long long,   \
                    const float *, int, long long, const float *, float *, int, long long, int))

#define TC_NAME(sym, args) #sym,
const char *const tc_driver_symbols[] = {TC_DRIVER_SYMBOLS(TC_NAME) NULL};
const char *const tc_cublas_symbols[] = {TC_CUBLAS_SYMBOLS(TC_NAME) NULL};

#define TC_FIELD(sym, args) tc_result(*sym) args;
static struct { TC_DRIVER_SYMBOLS(TC_FIELD) } drv;
static struct { TC_CUBLAS_SYMBOLS(TC_FIELD) } blas;

static pthread_mutex_t load_mu = PTHREAD_MUTEX_INITIALIZER;
static void *drv_lib, *blas_lib;
static char blas_from[4096];

/* Resolves every symbol of table names into the struct at fns (an array of function pointers
 * in the same order). On a missing symbol writes its name and returns -1. */
static int resolve(void *lib, const char *libname, const char *const *names, void **fns, char *err, size_t cap) {
    for (int i = 0; names[i]; i++) {
        dlerror();
        void *p = dlsym(lib, names[i]);
        if (!p) {
            const char *e = dlerror();
            snprintf(err, cap, "%s has no symbol %s (%s)", libname, names[i], e ? e : "NULL");
            return -1;
        }
        fns[i] = p;
    }
    return 0;
}

static char driver_name[256] = "libcuda.so.1";

void tc_set_driver_name(const char *name) { snprintf(driver_name, sizeof driver_name, "%s", name); }

int tc_load_driver(char *err, size_t cap) {
    pthread_mutex_lock(&load_mu);
    int rc = 0;
    if (!drv_lib) {
        void *lib = dlopen(driver_name, RTLD_NOW | RTLD_LOCAL);
        if (!lib) {
            const char *e = dlerror();
            snprintf(err, cap, "%s", e ? e : "dlopen of the CUDA driver failed");
            rc = -1;
        } else if (resolve(lib, driver_name, tc_driver_symbols, (void **)&drv, err, cap) != 0) {
            memset(&drv, 0, sizeof drv);
            dlclose(lib);
            rc = -1;
        } else {
            drv_lib = lib;
        }
    }
    pthread_mutex_unlock(&load_mu);
    return rc;
}

static int try_cublas(const char *name, char *err, size_t cap) {
    void *lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        const char *e = dlerror();
        snprintf(err, cap, "%s", e ? e : "dlopen failed");
        return -1;
    }
    if (resolve(lib, name, tc_cublas_symbols, (void **)&blas, err, cap) != 0) {
        memset(&blas, 0, sizeof blas);
        dlclose(lib);
        return -1;
    }
    blas_lib = lib;
    snprintf(blas_from, sizeof blas_from, "%s", name);
    return 0;
}

int tc_load_cublas(const char *path, char *err, size_t cap) {
    pthread_mutex_lock(&load_mu);
    int rc = 0;
    if (!blas_lib) {
        if (path && path[0]) {
            rc = try_cublas(path, err, cap); /* an explicit path is used alone */
        } else {
            static const char *const names[] = {"libcublas.so.13", "libcublas.so.12", "libcublas.so.11"};
            char one[3][512];
            rc = -1;
            for (int i = 0; i < 3 && rc != 0; i++) rc = try_cublas(names[i], one[i], sizeof one[i]);
            if (rc != 0)
                snprintf(err, cap, "no cuBLAS found (set TEMPORAL_CUBLAS to its path): %s; %s; %s", one[0], one[1],
                         one[2]);
        }
    }
    pthread_mutex_unlock(&load_mu);
    return rc;
}

const char *tc_cublas_loaded_from(void) { return blas_from; }

const char *tc_driver_symbol(int i) {
    return i >= 0 && i < (int)(sizeof tc_driver_symbols / sizeof *tc_driver_symbols) ? tc_driver_symbols[i] : NULL;
}
const char *tc_cublas_symbol(int i) {
    return i >= 0 && i < (int)(sizeof tc_cublas_symbols / sizeof *tc_cublas_symbols) ? tc_cublas_symbols[i] : NULL;
}

int tc_driver_symbol_resolved(int i) { return drv_lib && ((void **)&drv)[i] != NULL; }
int tc_cublas_symbol_resolved(int i) { return blas_lib && ((void **)&blas)[i] != NULL; }

/* ---- driver ------------------------------------------------------------------------------- */

/* Not loaded: CUDA_ERROR_NOT_INITIALIZED (3). The Go side loads before calling anything. */
#define DRV(call) return drv_lib ? drv.call : 3

tc_result tc_init(void) { DRV(cuInit(0)); }
tc_result tc_device_get(tc_device *dev, int ordinal) { DRV(cuDeviceGet(dev, ordinal)); }
tc_result tc_device_get_count(int *n) { DRV(cuDeviceGetCount(n)); }
tc_result tc_device_get_name(char *name, int len, tc_device dev) { DRV(cuDeviceGetName(name, len, dev)); }
tc_result tc_mem_get_info(size_t *f, size_t *t) { DRV(cuMemGetInfo_v2(f, t)); }
tc_result tc_primary_ctx_retain(tc_context *ctx, tc_device dev) { DRV(cuDevicePrimaryCtxRetain(ctx, dev)); }
tc_result tc_primary_ctx_release(tc_device dev) { DRV(cuDevicePrimaryCtxRelease_v2(dev)); }
tc_result tc_ctx_set_current(tc_context ctx) { DRV(cuCtxSetCurrent(ctx)); }
tc_result tc_module_unload(tc_module mod) { DRV(cuModuleUnload(mod)); }
tc_result tc_module_get_function(tc_function *fn, tc_module mod, const char *name) {
    DRV(cuModuleGetFunction(fn, mod, name));
}
tc_result tc_mem_alloc(tc_ptr *p, size_t bytes) { DRV(cuMemAlloc_v2(p, bytes)); }
tc_result tc_mem_free(tc_ptr p) { DRV(cuMemFree_v2(p)); }
tc_result tc_memcpy_htod(tc_ptr dst, const void *src, size_t bytes) { DRV(cuMemcpyHtoD_v2(dst, src, bytes)); }
tc_result tc_memcpy_dtoh(void *dst, tc_ptr src, size_t bytes) { DRV(cuMemcpyDtoH_v2(dst, src, bytes)); }
/* Flags 0 (CU_STREAM_DEFAULT, a blocking stream): work on it waits for earlier work on the legacy
 * stream, where cuMemcpyHtoD_v2 runs; from pageable memory that copy may return before its DMA
 * has landed, so a non-blocking stream could read the features too early. */
tc_result tc_stream_create(tc_stream *s) { DRV(cuStreamCreate(s, 0)); }
tc_result tc_stream_destroy(tc_stream s) { DRV(cuStreamDestroy_v2(s)); }
tc_result tc_stream_synchronize(tc_stream s) { DRV(cuStreamSynchronize(s)); }

tc_result tc_module_load(tc_module *mod, const void *image, char *log, size_t cap) {
    if (!drv_lib) return 3;
    /* CUjit_option values from cuda.h: CU_JIT_ERROR_LOG_BUFFER = 5,
     * CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6. */
    int opts[2] = {5, 6};
    void *vals[2] = {log, (void *)(uintptr_t)cap};
    if (cap) log[0] = 0;
    tc_result r = drv.cuModuleLoadDataEx(mod, image, 2, opts, vals);
    if (cap) log[cap - 1] = 0;
    return r;
}

/* ---- cuBLAS ------------------------------------------------------------------------------- */

/* Not loaded: CUBLAS_STATUS_NOT_INITIALIZED (1). */
#define BLAS(call) return blas_lib ? blas.call : 1

tc_result tc_blas_create(tc_blas *h) { BLAS(cublasCreate_v2(h)); }
tc_result tc_blas_destroy(tc_blas h) { BLAS(cublasDestroy_v2(h)); }
tc_result tc_blas_set_stream(tc_blas h, tc_stream s) { BLAS(cublasSetStream_v2(h, s)); }
tc_result tc_blas_set_math_mode(tc_blas h, int mode) { BLAS(cublasSetMathMode(h, mode)); }

#define F32(p) ((float *)(uintptr_t)(p))

tc_result tc_sgemm(tc_blas h, int transa, int transb, int m, int n, int k, float alpha, tc_ptr A, int lda,
                   tc_ptr B, int ldb, float beta, tc_ptr C, int ldc) {
    BLAS(cublasSgemm_v2(h, transa, transb, m, n, k, &alpha, F32(A), lda, F32(B), ldb, &beta, F32(C), ldc));
}

tc_result tc_sgemm_strided_batched(tc_blas h, int transa, int transb, int m, int n, int k, float alpha,
                                   tc_ptr A, int lda, long long sA, tc_ptr B, int ldb, long long sB, float beta,
                                   tc_ptr C, int ldc, long long sC, int batch) {
    BLAS(cublasSgemmStridedBatched(h, transa, transb, m, n, k, &alpha, F32(A), lda, sA, F32(B), ldb, sB, &beta,
                                   F32(C), ldc, sC, batch));
}

/* ---- kernel launches ---------------------------------------------------------------------- */

static tc_result launch(tc_function f, unsigned grid, unsigned block, tc_stream s, void **args) {
    if (!drv_lib) return 3;
    return drv.cuLaunchKernel(f, grid, 1, 1, block, 1, 1, 0, s, args, NULL);
}

tc_result tc_launch_fill(tc_function f, unsigned grid, unsigned block, tc_stream s, tc_ptr p, float v,
                         long long n) {
    void *a[] = {&p, &v, &n};
    return launch(f, grid, block, s, a);
}

tc_result tc_launch_bias_act(tc_function f, unsigned grid, unsigned block, tc_stream s, tc_ptr y, tc_ptr bias,
                             long long rows, int C, int act) {
    void *a[] = {&y, &bias, &rows, &C, &act};
    return launch(f, grid, block, s, a);
}

tc_result tc_launch_layernorm(tc_function f, unsigned grid, unsigned block, tc_stream s, tc_ptr out, tc_ptr in,
                              tc_ptr bias, tc_ptr res, tc_ptr w, tc_ptr b, long long rows, int C, int act) {
    void *a[] = {&out, &in, &bias, &res, &w, &b, &rows, &C, &act};
    return launch(f, grid, block, s, a);
}

tc_result tc_launch_lstm_step(tc_function f, unsigned grid, unsigned block, tc_stream s, tc_ptr gin, tc_ptr rec,
                              tc_ptr bias, tc_ptr h, tc_ptr c, tc_ptr out, tc_ptr order, tc_ptr len, int B,
                              int Tp, int H, int dirs, int step) {
    void *a[] = {&gin, &rec, &bias, &h, &c, &out, &order, &len, &B, &Tp, &H, &dirs, &step};
    return launch(f, grid, block, s, a);
}

tc_result tc_launch_qkv_split(tc_function f, unsigned grid, unsigned block, tc_stream s, tc_ptr qkv, tc_ptr bias,
                              tc_ptr q, tc_ptr k, tc_ptr v, int B, int Tp, int D, int heads, float sqrt_hd) {
    void *a[] = {&qkv, &bias, &q, &k, &v, &B, &Tp, &D, &heads, &sqrt_hd};
    return launch(f, grid, block, s, a);
}

tc_result tc_launch_attn_softmax(tc_function f, unsigned grid, unsigned block, tc_stream s, tc_ptr S,
                                 tc_ptr len, int B, int heads, int Tp, int masked) {
    void *a[] = {&S, &len, &B, &heads, &Tp, &masked};
    return launch(f, grid, block, s, a);
}

tc_result tc_launch_merge_heads(tc_function f, unsigned grid, unsigned block, tc_stream s, tc_ptr ctxh,
                                tc_ptr ctx, int B, int Tp, int D, int heads) {
    void *a[] = {&ctxh, &ctx, &B, &Tp, &D, &heads};
    return launch(f, grid, block, s, a);
}

tc_result tc_launch_pool_softmax(tc_function f, unsigned grid, unsigned block, tc_stream s, tc_ptr score,
                                 tc_ptr b4, tc_ptr w, tc_ptr len, int B, int Tp, int masked) {
    void *a[] = {&score, &b4, &w, &len, &B, &Tp, &masked};
    return launch(f, grid, block, s, a);
}

tc_result tc_launch_pool_sum(tc_function f, unsigned grid, unsigned block, tc_stream s, tc_ptr w, tc_ptr x,
                             tc_ptr pooled, tc_ptr len, int B, int Tp, int D, int masked) {
    void *a[] = {&w, &x, &pooled, &len, &B, &Tp, &D, &masked};
    return launch(f, grid, block, s, a);
}
