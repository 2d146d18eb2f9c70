// Runs cuda/kernels.cu itself on the CPU, for tests without a GPU: the CUDA built-ins the
// kernels use are defined here and the source is included as C++. Each launch starts blockDim
// OS threads that run the blocks one after another (a barrier between blocks, so __shared__
// variables, plain statics here, belong to one block at a time; the threads are a pool reused
// across launches); __syncthreads is a block
// barrier and __shfl_xor_sync a per-warp exchange through memory between two warp barriers.
// Only as faithful as that: no memory model, no warp divergence rules beyond the barriers.
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

struct dim3 {
    unsigned x, y, z;
};

namespace {
thread_local dim3 tl_threadIdx, tl_blockIdx;
dim3 g_blockDim, g_gridDim;
pthread_barrier_t g_block_barrier;
std::vector<pthread_barrier_t> g_warp_barriers;
std::vector<double> g_exchange;
}  // namespace

#define threadIdx tl_threadIdx
#define blockIdx tl_blockIdx
#define blockDim g_blockDim
#define gridDim g_gridDim
#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static

static void __syncthreads() { pthread_barrier_wait(&g_block_barrier); }

template <typename T>
static T __shfl_xor_sync(unsigned, T v, int lane_mask) {
    unsigned t = threadIdx.x, warp = t / 32;
    g_exchange[t] = (double)v;
    pthread_barrier_wait(&g_warp_barriers[warp]);
    T r = (T)g_exchange[(t & ~31u) | ((t & 31u) ^ (unsigned)lane_mask)];
    pthread_barrier_wait(&g_warp_barriers[warp]);
    return r;
}

#include "kernels_cu.h" /* a link to ../kernels.cu, so that Go rebuilds this package when it changes */

#undef threadIdx
#undef blockIdx
#undef blockDim
#undef gridDim

namespace {
// A pool of worker threads, one per emulated thread of a block, reused across launches (a
// launch used to start a thread per CUDA thread: most of the tests' time).
struct Pool {
    std::mutex mu;
    std::condition_variable start, done;
    unsigned long gen = 0;
    unsigned running = 0, grid = 0, block = 0;
    std::function<void()> body;
    unsigned started = 0;

    void ensure(unsigned n) {
        while (started < n) {
            unsigned t = started++;
            std::thread([this, t] { worker(t); }).detach();
        }
    }
    void worker(unsigned t) {
        unsigned long seen = 0;
        std::unique_lock<std::mutex> l(mu);
        for (;;) {
            start.wait(l, [&] { return gen != seen; });
            seen = gen;
            if (t >= block) continue;
            unsigned g = grid;
            std::function<void()> f = body;
            l.unlock();
            tl_threadIdx = {t, 0, 0};
            for (unsigned b = 0; b < g; b++) {
                tl_blockIdx = {b, 0, 0};
                f();
                pthread_barrier_wait(&g_block_barrier);
            }
            l.lock();
            if (--running == 0) done.notify_all();
        }
    }
    void run(unsigned g, unsigned blk, std::function<void()> f) {
        ensure(blk);
        std::unique_lock<std::mutex> l(mu);
        grid = g;
        block = blk;
        body = std::move(f);
        running = blk;
        gen++;
        start.notify_all();
        done.wait(l, [&] { return running == 0; });
    }
};
// Never destroyed: the workers wait on its condition variable for the life of the process, and
// glibc's pthread_cond_destroy would block at exit (seen under go test -race, whose exit runs
// static destructors).
Pool &pool = *new Pool;

// serial runs a kernel without __syncthreads or shuffles: every (block, thread) in turn on the
// calling thread, which is exactly its semantics (no thread reads what another writes).
template <typename F>
void serial(unsigned grid, unsigned block, F body) {
    g_gridDim = {grid, 1, 1};
    g_blockDim = {block, 1, 1};
    for (unsigned b = 0; b < grid; b++) {
        for (unsigned t = 0; t < block; t++) {
            tl_blockIdx = {b, 0, 0};
            tl_threadIdx = {t, 0, 0};
            body();
        }
    }
}

template <typename F>
void launch(unsigned grid, unsigned block, F body) {
    g_gridDim = {grid, 1, 1};
    g_blockDim = {block, 1, 1};
    pthread_barrier_init(&g_block_barrier, nullptr, block);
    g_warp_barriers.assign((block + 31) / 32, pthread_barrier_t{});
    for (auto &b : g_warp_barriers) pthread_barrier_init(&b, nullptr, 32);
    g_exchange.assign(block, 0.0);
    pool.run(grid, block, body);
    for (auto &b : g_warp_barriers) pthread_barrier_destroy(&b);
    pthread_barrier_destroy(&g_block_barrier);
}
}  // namespace

extern "C" {
#include "emu.h"

void kemu_fill(unsigned grid, unsigned block, float *p, float v, long long n) {
    serial(grid, block, [=] { tk_fill(p, v, n); });
}
void kemu_bias_act(unsigned grid, unsigned block, float *y, const float *bias, long long rows, int C, int act) {
    serial(grid, block, [=] { tk_bias_act(y, bias, rows, C, act); });
}
void kemu_layernorm(unsigned grid, unsigned block, float *out, const float *in, const float *bias, const float *res,
                    const float *w, const float *b, long long rows, int C, int act) {
    launch(grid, block, [=] { tk_layernorm(out, in, bias, res, w, b, rows, C, act); });
}
void kemu_lstm_step(unsigned grid, unsigned block, const float *gin, const float *rec, const float *bias, float *h,
                    float *c, float *out, const int *order, const int *len, int B, int Tp, int H, int dirs, int s) {
    serial(grid, block, [=] { tk_lstm_step(gin, rec, bias, h, c, out, order, len, B, Tp, H, dirs, s); });
}
void kemu_qkv_split(unsigned grid, unsigned block, const float *qkv, const float *bias, float *q, float *k, float *v,
                    int B, int Tp, int D, int heads, float sqrt_hd) {
    serial(grid, block, [=] { tk_qkv_split(qkv, bias, q, k, v, B, Tp, D, heads, sqrt_hd); });
}
void kemu_attn_softmax(unsigned grid, unsigned block, float *S, const int *len, int B, int heads, int Tp, int masked) {
    launch(grid, block, [=] { tk_attn_softmax(S, len, B, heads, Tp, masked); });
}
void kemu_merge_heads(unsigned grid, unsigned block, const float *ctxh, float *ctx, int B, int Tp, int D, int heads) {
    serial(grid, block, [=] { tk_merge_heads(ctxh, ctx, B, Tp, D, heads); });
}
void kemu_pool_softmax(unsigned grid, unsigned block, const float *score, const float *b4, float *w, const int *len,
                       int B, int Tp, int masked) {
    launch(grid, block, [=] { tk_pool_softmax(score, b4, w, len, B, Tp, masked); });
}
void kemu_pool_sum(unsigned grid, unsigned block, const float *w, const float *x, float *pooled, const int *len, int B,
                   int Tp, int D, int masked) {
    serial(grid, block, [=] { tk_pool_sum(w, x, pooled, len, B, Tp, D, masked); });
}
}
