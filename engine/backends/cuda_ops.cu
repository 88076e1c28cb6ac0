// QuantLaunch: the small per-layer ops of the llama graph (norm, rope, KV store,
// attention, SwiGLU). Mat-vecs live in engine/kernels. Positions come from a device
// buffer (pos[0] = position of token 0 of the step) so a captured CUDA graph is reusable.
// Activations are float32, row-major (T, width) with an explicit row stride.

#define QL_BLOCK 256
#define QL_NEG_INF __int_as_float(0xff800000)

__device__ __forceinline__ float ql_warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float ql_warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// Block-wide sum or max (blockDim.x a multiple of 32, <= 1024); every thread gets the result.
__device__ float ql_block_reduce(float v, bool is_max) {
    __shared__ float partial[32];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, n_warps = blockDim.x >> 5;
    v = is_max ? ql_warp_max(v) : ql_warp_sum(v);
    __syncthreads();
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    float r = lane < n_warps ? partial[lane] : (is_max ? QL_NEG_INF : 0.0f);
    r = is_max ? ql_warp_max(r) : ql_warp_sum(r);
    return r;
}

// out[t, :] = x[t, :] / sqrt(mean(x[t, :]^2) + eps) * w ; grid (T), block QL_BLOCK.
extern "C" __global__ void ql_rms_norm(const float* __restrict__ x, const float* __restrict__ w,
                                       float* __restrict__ out, int n, float eps) {
    const float* row = x + (size_t)blockIdx.x * n;  // (n,) row t
    float* dst = out + (size_t)blockIdx.x * n;
    float sq = 0.0f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) sq += row[i] * row[i];
    const float inv = rsqrtf(ql_block_reduce(sq, false) / n + eps);
    for (int i = threadIdx.x; i < n; i += blockDim.x) dst[i] = row[i] * inv * w[i];
}

// In-place rotary embedding of x (T, n_heads * head_dim) with row stride `stride`.
// Pair i of a head: (2i, 2i+1) for the normal (GGUF-permuted llama) layout, (i, i+dim/2) for neox.
// theta = (pos / scale) * base^(-2i/dim). One thread per (t, head, pair).
extern "C" __global__ void ql_rope(float* __restrict__ x, int stride, const int* __restrict__ pos,
                                   int n_tokens, int n_heads, int head_dim, int rope_dim, int neox,
                                   float log2_base, float inv_scale) {
    const int half = rope_dim / 2;
    const int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= n_tokens * n_heads * half) return;
    const int i = idx % half, head = (idx / half) % n_heads, t = idx / (half * n_heads);
    float* v = x + (size_t)t * stride + head * head_dim;  // (head_dim,) one head of token t
    const float p = (float)(pos[0] + t) * inv_scale;
    const float theta = p * exp2f(-2.0f * i / rope_dim * log2_base);
    float s, c;
    sincosf(theta, &s, &c);
    const int a = neox ? i : 2 * i, b = neox ? i + half : 2 * i + 1;
    const float x0 = v[a], x1 = v[b];
    v[a] = x0 * c - x1 * s;
    v[b] = x0 * s + x1 * c;
}

// cache_k/v (n_ctx, kv_width) of one layer: rows pos[0]+t <- k/v[t] (strided rows).
extern "C" __global__ void ql_kv_store(const float* __restrict__ k, const float* __restrict__ v, int stride,
                                       float* __restrict__ cache_k, float* __restrict__ cache_v,
                                       const int* __restrict__ pos, int n_tokens, int kv_width) {
    const int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= n_tokens * kv_width) return;
    const int t = idx / kv_width, d = idx % kv_width;
    const size_t row = (size_t)(pos[0] + t) * kv_width;  // cache row of token t
    cache_k[row + d] = k[(size_t)t * stride + d];
    cache_v[row + d] = v[(size_t)t * stride + d];
}

// Causal attention for token t and head h: grid (n_head, T), block QL_BLOCK (head_dim <= 256).
// q (T, n_head*head_dim) with row stride q_stride; cache (n_ctx, kv_width); head h reads
// kv head h / group. scores: scratch (T, n_head, score_stride). out (T, n_head*head_dim).
extern "C" __global__ void ql_attention(const float* __restrict__ q, int q_stride,
                                        const float* __restrict__ cache_k, const float* __restrict__ cache_v,
                                        float* __restrict__ out, float* __restrict__ scores, int score_stride,
                                        const int* __restrict__ pos, int group, int head_dim, int kv_width,
                                        float scale) {
    __shared__ float q_sh[256];
    const int h = blockIdx.x, t = blockIdx.y, n_head = gridDim.x;
    const int n_kv = pos[0] + t + 1;  // keys 0..pos of this token (causal)
    const int kv_off = (h / group) * head_dim;
    const float* qv = q + (size_t)t * q_stride + h * head_dim;  // (head_dim,)
    float* sc = scores + ((size_t)t * n_head + h) * score_stride;  // (n_kv,)
    for (int d = threadIdx.x; d < head_dim; d += blockDim.x) q_sh[d] = qv[d] * scale;
    __syncthreads();
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, n_warps = blockDim.x >> 5;
    for (int j = warp; j < n_kv; j += n_warps) {
        const float* kr = cache_k + (size_t)j * kv_width + kv_off;  // (head_dim,) key j
        float s = 0.0f;
        for (int d = lane; d < head_dim; d += 32) s += q_sh[d] * kr[d];
        s = ql_warp_sum(s);
        if (lane == 0) sc[j] = s;
    }
    __syncthreads();
    float m = QL_NEG_INF;
    for (int j = threadIdx.x; j < n_kv; j += blockDim.x) m = fmaxf(m, sc[j]);
    m = ql_block_reduce(m, true);
    float total = 0.0f;
    for (int j = threadIdx.x; j < n_kv; j += blockDim.x) {
        const float e = __expf(sc[j] - m);
        sc[j] = e;
        total += e;
    }
    total = ql_block_reduce(total, false);  // its internal __syncthreads orders the sc writes
    __syncthreads();
    const float inv = 1.0f / total;
    float* dst = out + (size_t)t * n_head * head_dim + h * head_dim;  // (head_dim,)
    for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
        float acc = 0.0f;
        for (int j = 0; j < n_kv; ++j) acc += sc[j] * cache_v[(size_t)j * kv_width + kv_off + d];
        dst[d] = acc * inv;
    }
}

// out (T, n_ff) = silu(gate) * up, gate = gu[t, :n_ff], up = gu[t, n_ff:] (gu row stride 2*n_ff).
extern "C" __global__ void ql_swiglu(const float* __restrict__ gu, float* __restrict__ out, int n_tokens, int n_ff) {
    const int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= n_tokens * n_ff) return;
    const int t = idx / n_ff, i = idx % n_ff;
    const float g = gu[(size_t)t * 2 * n_ff + i], u = gu[(size_t)t * 2 * n_ff + n_ff + i];
    out[idx] = g / (1.0f + __expf(-g)) * u;
}
