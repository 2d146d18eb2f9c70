/* cuda/kernels.cu run on the CPU (emu.cpp): one function per kernel, host pointers, the launch
 * shape as on the device. Tests only. */
void kemu_fill(unsigned grid, unsigned block, float *p, float v, long long n);
void kemu_bias_act(unsigned grid, unsigned block, float *y, const float *bias, long long rows, int C, int act);
void kemu_layernorm(unsigned grid, unsigned block, float *out, const float *in, const float *bias, const float *res,
                    const float *w, const float *b, long long rows, int C, int act);
void kemu_lstm_step(unsigned grid, unsigned block, const float *gin, const float *rec, const float *bias, float *h,
                    float *c, float *out, const int *order, const int *len, int B, int Tp, int H, int dirs, int s);
void kemu_qkv_split(unsigned grid, unsigned block, const float *qkv, const float *bias, float *q, float *k, float *v,
                    int B, int Tp, int D, int heads, float sqrt_hd);
void kemu_attn_softmax(unsigned grid, unsigned block, float *S, const int *len, int B, int heads, int Tp, int masked);
void kemu_merge_heads(unsigned grid, unsigned block, const float *ctxh, float *ctx, int B, int Tp, int D, int heads);
void kemu_pool_softmax(unsigned grid, unsigned block, const float *score, const float *b4, float *w, const int *len,
                       int B, int Tp, int masked);
void kemu_pool_sum(unsigned grid, unsigned block, const float *w, const float *x, float *pooled, const int *len, int B,
                   int Tp, int D, int masked);
