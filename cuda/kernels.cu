// libtemporal's CUDA kernels: everything of the inference forward that cuBLAS does not do.
// Built into kernels.fatbin by scripts/build-fatbin.sh (SASS sm_80 and sm_90, PTX compute_90)
// and launched from cuda/cu/shim.c, which declares each kernel's parameters once more: keep
// the two in step (cuda/cu/shim_test.go checks the names).
//
// Layout conventions (row-major, as the CPU code in core/): a batch of B clips padded to Tp
// steps is [B*Tp, width], clip b owning rows b*Tp .. b*Tp+Tp-1. `order` lists clips by
// decreasing length (ties by index), `len` holds each clip's own length n_b (by clip index).
//
// Every kernel loops grid-stride over its work, so any grid size is correct; indices are 64-bit.
// No fast math: expf, tanhf and sqrt are the accurate ones, for CPU parity (DESIGN §8: 1e-5).

#include <stdint.h>

typedef long long i64;

#define GRID_STRIDE(i, n) \
    for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (i64)gridDim.x * blockDim.x)

__device__ __forceinline__ float sigmoidf_(float x) { return 1.0f / (1.0f + expf(-x)); }

// Block-wide sum of one double per thread; blockDim.x is a multiple of 32, at most 1024.
// Every thread gets the result. `sh` holds 32 doubles.
__device__ double block_sum(double v, double *sh) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
    __syncthreads(); // sh may still be read from the previous call
    if (lane == 0) sh[warp] = v;
    __syncthreads();
    v = lane < nw ? sh[lane] : 0.0;
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

extern "C" {

// p[0..n) = v.
__global__ void tk_fill(float *p, float v, i64 n) {
    GRID_STRIDE(i, n) p[i] = v;
}

// y[r, c] = act(y[r, c] + bias[c]) for rows × C (act: 0 none, 1 ReLU, 2 tanh).
__global__ void tk_bias_act(float *y, const float *bias, i64 rows, int C, int act) {
    GRID_STRIDE(i, rows * C) {
        float v = y[i] + bias[i % C];
        if (act == 1) v = v > 0.0f ? v : 0.0f;
        else if (act == 2) v = tanhf(v);
        y[i] = v;
    }
}

// LayerNorm over rows of width C, one block per row (grid-stride over rows):
//   v = in[r] + bias (if not NULL) + res[r] (if not NULL)
//   out[r] = act((v − mean)/√(var + 1e-5)·w + b)     (biased variance, as PyTorch)
// Statistics in double, as core/layernorm.go. out may equal in (each thread reads and writes
// only its own columns).
__global__ void tk_layernorm(float *out, const float *in, const float *bias, const float *res,
                             const float *w, const float *b, i64 rows, int C, int act) {
    __shared__ double sh[32];
    for (i64 r = blockIdx.x; r < rows; r += gridDim.x) {
        const float *x = in + r * C;
        const float *rs = res ? res + r * C : 0;
        double s = 0.0;
        for (int c = threadIdx.x; c < C; c += blockDim.x) {
            float v = x[c];
            if (bias) v += bias[c];
            if (rs) v += rs[c];
            s += v;
        }
        double mu = block_sum(s, sh) / C;
        double ss = 0.0;
        for (int c = threadIdx.x; c < C; c += blockDim.x) {
            float v = x[c];
            if (bias) v += bias[c];
            if (rs) v += rs[c];
            double d = v - mu;
            ss += d * d;
        }
        double rstd = 1.0 / sqrt(block_sum(ss, sh) / C + 1e-5);
        float *y = out + r * C;
        for (int c = threadIdx.x; c < C; c += blockDim.x) {
            float v = x[c];
            if (bias) v += bias[c];
            if (rs) v += rs[c];
            float o = (float)((v - mu) * rstd) * w[c] + b[c];
            if (act == 1) o = o > 0.0f ? o : 0.0f;
            else if (act == 2) o = tanhf(o);
            y[c] = o;
        }
    }
}

// One time step of every direction of one LSTM layer, packed semantics (DESIGN §2).
// Direction d (0 forward, 1 reverse) is at step t = s (forward) or Tp−1−s (reverse); clip
// b = order[r] takes part when t < len[b], so a reverse clip starts at its own n−1 from the
// zero state and a forward clip stops after n steps; other clips' state is left alone.
//   gin  [B*Tp, dirs*4H]  x·W_ihᵀ of both directions (no bias), gate order i, f, g, o
//   rec  [dirs][B, 4H]    h·W_hhᵀ for rows in sorted order (rows ≥ the active count unread)
//   bias [dirs][4H]       bias_ih + bias_hh
//   h, c [dirs][B, H]     state in sorted order
//   out  [B*Tp, dirs*H]   h_t written at columns d*H .. d*H+H of row b*Tp+t
__global__ void tk_lstm_step(const float *gin, const float *rec, const float *bias, float *h, float *c,
                             float *out, const int *order, const int *len, int B, int Tp, int H, int dirs,
                             int s) {
    i64 G = 4 * (i64)H;
    GRID_STRIDE(i, (i64)dirs * B * H) {
        int j = (int)(i % H);
        i64 rd = i / H;
        int r = (int)(rd % B), d = (int)(rd / B);
        int b = order[r];
        int t = d == 0 ? s : Tp - 1 - s;
        if (t >= len[b]) continue;
        i64 row = (i64)b * Tp + t;
        const float *gi = gin + row * dirs * G + d * G;
        const float *gr = rec + ((i64)d * B + r) * G;
        const float *bb = bias + d * G;
        float ig = sigmoidf_(gi[j] + gr[j] + bb[j]);
        float fg = sigmoidf_(gi[H + j] + gr[H + j] + bb[H + j]);
        float gg = tanhf(gi[2 * H + j] + gr[2 * H + j] + bb[2 * H + j]);
        float og = sigmoidf_(gi[3 * H + j] + gr[3 * H + j] + bb[3 * H + j]);
        i64 si = ((i64)d * B + r) * H + j;
        float cj = fg * c[si] + ig * gg;
        float hj = og * tanhf(cj);
        c[si] = cj;
        h[si] = hj;
        out[row * dirs * H + (i64)d * H + j] = hj;
    }
}

// Splits attention's packed projection qkv [B*Tp, 3D] (no bias yet) into per-head q, k, v
// [B*heads, Tp, hd] with in_proj_bias added, q divided by √hd after its bias (PyTorch's order).
__global__ void tk_qkv_split(const float *qkv, const float *bias, float *q, float *k, float *v, int B, int Tp,
                             int D, int heads, float sqrt_hd) {
    int hd = D / heads;
    GRID_STRIDE(i, (i64)B * Tp * 3 * D) {
        int col = (int)(i % (3 * D));
        i64 bt = i / (3 * D);
        int t = (int)(bt % Tp);
        i64 b = bt / Tp;
        int which = col / D, w = col % D, hh = w / hd, e = w % hd;
        float val = qkv[i] + bias[col];
        i64 dst = ((b * heads + hh) * Tp + t) * hd + e;
        if (which == 0) q[dst] = val / sqrt_hd;
        else if (which == 1) k[dst] = val;
        else v[dst] = val;
    }
}

// Softmax over keys of scores [B*heads*Tp, Tp], one warp per row. masked: keys t ≥ len[b] are
// excluded (weight 0) — PyTorch's key_padding_mask; otherwise all Tp keys count (reference).
__global__ void tk_attn_softmax(float *S, const int *len, int B, int heads, int Tp, int masked) {
    int lane = threadIdx.x & 31;
    i64 warps = (i64)gridDim.x * (blockDim.x >> 5);
    i64 rows = (i64)B * heads * Tp;
    for (i64 r = (i64)blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5); r < rows; r += warps) {
        int b = (int)(r / ((i64)heads * Tp));
        int nk = masked ? len[b] : Tp;
        float *x = S + r * Tp;
        float mx = -3.402823466e38f;
        for (int c = lane; c < nk; c += 32) mx = fmaxf(mx, x[c]);
        for (int o = 16; o > 0; o >>= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
        double sum = 0.0;
        for (int c = lane; c < nk; c += 32) {
            float e = expf(x[c] - mx);
            x[c] = e;
            sum += e;
        }
        for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o);
        double inv = 1.0 / sum;
        for (int c = lane; c < Tp; c += 32) x[c] = c < nk ? (float)(x[c] * inv) : 0.0f;
    }
}

// Concatenates heads: ctxh [B*heads, Tp, hd] → ctx [B*Tp, D].
__global__ void tk_merge_heads(const float *ctxh, float *ctx, int B, int Tp, int D, int heads) {
    int hd = D / heads;
    GRID_STRIDE(i, (i64)B * Tp * D) {
        int col = (int)(i % D);
        i64 bt = i / D;
        int t = (int)(bt % Tp);
        i64 b = bt / Tp;
        int hh = col / hd, e = col % hd;
        ctx[i] = ctxh[((b * heads + hh) * Tp + t) * hd + e];
    }
}

// Attention pooling's softmax over time, one block per clip: w[b, t] = softmax_t(score[b, t] +
// b4[0]) over the clip's rows (masked: t < len[b]; reference: t < Tp), 0 elsewhere.
__global__ void tk_pool_softmax(const float *score, const float *b4, float *w, const int *len, int B, int Tp,
                                int masked) {
    __shared__ double sh[32];
    __shared__ float shm[32];
    for (int b = blockIdx.x; b < B; b += gridDim.x) {
        int n = masked ? len[b] : Tp;
        const float *x = score + (i64)b * Tp;
        float *y = w + (i64)b * Tp;
        float bias = b4[0];
        float mx = -3.402823466e38f;
        for (int t = threadIdx.x; t < n; t += blockDim.x) mx = fmaxf(mx, x[t] + bias);
        for (int o = 16; o > 0; o >>= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
        int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
        __syncthreads();
        if (lane == 0) shm[warp] = mx;
        __syncthreads();
        mx = lane < nw ? shm[lane] : -3.402823466e38f;
        for (int o = 16; o > 0; o >>= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
        double s = 0.0;
        for (int t = threadIdx.x; t < n; t += blockDim.x) s += expf(x[t] + bias - mx);
        double inv = 1.0 / block_sum(s, sh);
        for (int t = threadIdx.x; t < Tp; t += blockDim.x)
            y[t] = t < n ? (float)(expf(x[t] + bias - mx) * inv) : 0.0f;
    }
}

// pooled[b, j] = Σ_t w[b, t] · x[b*Tp+t, j] over the clip's rows (as tk_pool_softmax).
__global__ void tk_pool_sum(const float *w, const float *x, float *pooled, const int *len, int B, int Tp, int D,
                            int masked) {
    GRID_STRIDE(i, (i64)B * D) {
        int j = (int)(i % D);
        i64 b = i / D;
        int n = masked ? len[b] : Tp;
        const float *wb = w + b * Tp;
        const float *xb = x + b * Tp * D + j;
        float acc = 0.0f;
        for (int t = 0; t < n; t++) acc += wb[t] * xb[(i64)t * D];
        pooled[i] = acc;
    }
}

} // extern "C"
