// QuantLaunch: the small per-layer ops of the llama graph (norm, rope, KV store,
// attention, SwiGLU). Mat-vecs live in engine/kernels. Positions come from a device
// buffer (pos[0] = position of token 0 of the step) so a captured CUDA graph is reusable.
// Activations are float32, row-major (T, width) with an explicit row stride.
// Decode fusions: RMSNorm (+ q8_1; the residual adds happen in the mat-vecs), rope + KV
// store, attention (+ q8_1), SwiGLU (+ q8_1). The q8_1 outputs have the layout of engine.kernels'
// quantize_q8_1: xq int8 (T, width/32, 32), xds float2 (T, width/32) = (d, d * sum(q)). Header-free (NVRTC).

#define QL_BLOCK 256

// Programmatic dependent launch (as engine/kernels/common.cuh): every kernel lets the next one
// start early and waits for the previous one before touching global memory. No-ops below
// sm_90 and for ordinary launches.
__device__ __forceinline__ void ql_pdl_allow_next() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

__device__ __forceinline__ void ql_pdl_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}

__device__ __forceinline__ void ql_pdl_begin() {
    ql_pdl_allow_next();
    ql_pdl_wait();
}
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

// Lanes 0..31 of the calling warp hold the 32 values of q8_1 chunk `chunk` (value of lane l
// at position l). Same arithmetic as engine.kernels ql_quantize_q8_1: d = amax / 127,
// q = round(v / d), xds[chunk] = (d, d * sum(q)). All 32 lanes must call it together.
__device__ __forceinline__ void ql_store_q8_1(float v, long long chunk, int lane, signed char* __restrict__ xq,
                                              float2* __restrict__ xds) {
    float amax = fabsf(v);
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, o));
    const float d = amax / 127.0f;
    const int q = amax == 0.0f ? 0 : __float2int_rn(v / d);
    int sum = q;
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o);
    xq[chunk * 32 + lane] = (signed char)q;  // xq (n_chunks, 32): value `lane` of the chunk
    if (lane == 0) xds[chunk] = make_float2(d, d * (float)sum);
}

// RMSNorm of row t of x (read only): grid (T, ceil(n / blockDim)), blockDim QL_BLOCK. Every
// CTA reduces the whole row (n floats, L2-resident: re-reading them is cheaper than a second
// launch), in the same order, so all CTAs get the same scale; CTA (t, s) then writes elements
// [s * blockDim, (s + 1) * blockDim) of out[t] = x[t] / sqrt(mean(x[t]^2) + eps) * w and, if
// want_q (needs n % 32 == 0), their q8_1 into xq/xds: each warp holds one 32-aligned chunk.
extern "C" __global__ void __launch_bounds__(QL_BLOCK)
ql_rms_norm(const float* __restrict__ x, const float* __restrict__ w, float* __restrict__ out,
            signed char* __restrict__ xq, float2* __restrict__ xds, int n, float eps, int want_q) {
    ql_pdl_begin();
    const float* row = x + (size_t)blockIdx.x * n;  // (n,) row t of x
    float sq = 0.0f;
    if ((n & 3) == 0) {
        const float4* row4 = (const float4*)row;  // (n / 4,) float4: n % 4 == 0 keeps rows 16-B aligned
        for (int i = threadIdx.x; i < n / 4; i += blockDim.x) {
            const float4 v = row4[i];
            sq += v.x * v.x + v.y * v.y + v.z * v.z + v.w * v.w;
        }
    } else {
        for (int i = threadIdx.x; i < n; i += blockDim.x) sq += row[i] * row[i];
    }
    const float inv = rsqrtf(ql_block_reduce(sq, false) / n + eps);
    const int i = blockIdx.y * blockDim.x + threadIdx.x;  // this thread's element of row t
    if (i >= n) return;  // with want_q, n % 32 == 0: whole warps leave together
    const float o = row[i] * inv * w[i];
    out[(size_t)blockIdx.x * n + i] = o;
    if (want_q) ql_store_q8_1(o, ((long long)blockIdx.x * n + i) >> 5, threadIdx.x & 31, xq, xds);  // chunk of (t, i)
}

// In-place rotary embedding of x (T, n_heads * head_dim) with row stride `stride`.
// Pair i of a head: (2i, 2i+1) for the normal (GGUF-permuted llama) layout, (i, i+dim/2) for neox.
// theta = (pos / scale) * base^(-2i/dim). One thread per (t, head, pair).
extern "C" __global__ void ql_rope(float* __restrict__ x, int stride, const int* __restrict__ pos,
                                   int n_tokens, int n_heads, int head_dim, int rope_dim, int neox,
                                   float log2_base, float inv_scale) {
    ql_pdl_begin();
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
    ql_pdl_begin();
    const int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= n_tokens * kv_width) return;
    const int t = idx / kv_width, d = idx % kv_width;
    const size_t row = (size_t)(pos[0] + t) * kv_width;  // cache row of token t
    cache_k[row + d] = k[(size_t)t * stride + d];
    cache_v[row + d] = v[(size_t)t * stride + d];
}

// Pair p of a head of head_dim values: (a, b) = the rotated pair (2p, 2p+1), or (p, p + rope_dim/2)
// for neox, when p < rope_dim / 2; beyond, the unrotated tail (rope_dim + 2(p - rope_dim/2), +1).
__device__ __forceinline__ bool ql_rope_pair(int p, int rope_dim, int neox, int& a, int& b) {
    const int half = rope_dim / 2;
    const bool rotated = p < half;
    a = rotated ? (neox ? p : 2 * p) : rope_dim + 2 * (p - half);
    b = rotated ? (neox ? p + half : 2 * p + 1) : a + 1;
    return rotated;
}

// (x0, x1) of rotated pair p at position ps (already divided by the scale), in place.
__device__ __forceinline__ void ql_rope_rotate(float& x0, float& x1, float ps, int p, int rope_dim, float log2_base) {
    const float theta = ps * exp2f(-2.0f * p / rope_dim * log2_base);  // as ql_rope
    float s, c;
    sincosf(theta, &s, &c);
    const float r0 = x0 * c - x1 * s, r1 = x0 * s + x1 * c;
    x0 = r0;
    x1 = r1;
}

// Decode-time fusion of rope and the KV store. qkv (T, (n_head + 2 n_head_kv) * head_dim),
// row stride `stride`: [q heads | k heads | v heads]. q heads are rotated in place; k heads
// rotated and v heads copied into cache rows pos[0] + t (cache_k/v (n_ctx, n_head_kv * head_dim)).
// One thread per (t, head, pair p < head_dim / 2); pair p < rope_dim / 2 is the rotated pair
// (2p, 2p+1) or (p, p + rope_dim/2) for neox, pairs beyond are the unrotated tail (2 values each).
extern "C" __global__ void ql_rope_kv_store(float* __restrict__ qkv, int stride, float* __restrict__ cache_k,
                                            float* __restrict__ cache_v, const int* __restrict__ pos,
                                            int n_tokens, int n_head, int n_head_kv, int head_dim, int rope_dim,
                                            int neox, float log2_base, float inv_scale) {
    ql_pdl_begin();
    const int pairs = head_dim / 2, n_all = n_head + 2 * n_head_kv;
    const int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= n_tokens * n_all * pairs) return;
    const int p = idx % pairs, head = (idx / pairs) % n_all, t = idx / (pairs * n_all);
    float* v = qkv + (size_t)t * stride + head * head_dim;  // (head_dim,) one head of token t
    int a, b;
    const bool rotated = ql_rope_pair(p, rope_dim, neox, a, b);
    float x0 = v[a], x1 = v[b];
    if (rotated && head < n_head + n_head_kv) ql_rope_rotate(x0, x1, (float)(pos[0] + t) * inv_scale, p, rope_dim, log2_base);
    if (head < n_head) {
        v[a] = x0;
        v[b] = x1;
        return;
    }
    const bool is_k = head < n_head + n_head_kv;
    const int kv_head = is_k ? head - n_head : head - n_head - n_head_kv;
    const int kv_width = n_head_kv * head_dim;
    float* dst = (is_k ? cache_k : cache_v) + (size_t)(pos[0] + t) * kv_width + kv_head * head_dim;  // (head_dim,)
    dst[a] = x0;
    dst[b] = x1;
}

// Causal attention for token t and head h: grid (n_head, T), block exactly QL_BLOCK threads
// (head_dim <= 256). q (T, n_head*head_dim) with row stride q_stride; cache (n_ctx, kv_width);
// head h reads kv head h / group. scores: scratch (T, n_head, score_stride). out (T,
// n_head*head_dim) contiguous; if want_q (needs head_dim % 32 == 0) also as q8_1 into xq/xds.
// Scores of keys [j0, j1) for one head: warp w takes keys j0 + w, j0 + w + n_warps, ...
__device__ __forceinline__ void ql_attention_scores(const float* __restrict__ q_sh, const float* __restrict__ cache_k,
                                                    float* __restrict__ sc, int j0, int j1, int kv_width,
                                                    int kv_off, int head_dim) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, n_warps = blockDim.x >> 5;
    for (int j = j0 + warp; j < j1; j += n_warps) {
        const float* kr = cache_k + (size_t)j * kv_width + kv_off;  // (head_dim,) key j
        float dot = 0.0f;
        for (int d = lane; d < head_dim; d += 32) dot += q_sh[d] * kr[d];
        dot = ql_warp_sum(dot);
        if (lane == 0) sc[j] = dot;
    }
}

// Weighted sum of values [j0, j1) with weights sc: warp w takes keys j0 + w, j0 + w + n_warps, ...;
// lane owns dims lane + 32 i; each warp's partial sum lands in part[warp] (n_warps, head_dim).
__device__ __forceinline__ void ql_attention_values(const float* __restrict__ sc, const float* __restrict__ cache_v,
                                                    float (*part)[256], int j0, int j1, int kv_width,
                                                    int kv_off, int head_dim) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, n_warps = blockDim.x >> 5;
    float acc[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
    for (int j = j0 + warp; j < j1; j += n_warps) {
        const float pj = sc[j];
        const float* vr = cache_v + (size_t)j * kv_width + kv_off;  // (head_dim,) value j
#pragma unroll
        for (int i = 0; i < 8; ++i) {
            const int d = lane + 32 * i;
            if (d < head_dim) acc[i] += pj * vr[d];
        }
    }
#pragma unroll
    for (int i = 0; i < 8; ++i) {
        const int d = lane + 32 * i;
        if (d < head_dim) part[warp][d] = acc[i];
    }
}

extern "C" __global__ void ql_attention(const float* __restrict__ q, int q_stride,
                                        const float* __restrict__ cache_k, const float* __restrict__ cache_v,
                                        float* __restrict__ out, float* __restrict__ scores, int score_stride,
                                        const int* __restrict__ pos, int group, int head_dim, int kv_width,
                                        float scale, signed char* __restrict__ xq, float2* __restrict__ xds,
                                        int want_q) {
    ql_pdl_begin();
    __shared__ float q_sh[256];  // (head_dim,) scaled query
    __shared__ float part[QL_BLOCK / 32][256];  // (n_warps, head_dim) per-warp partial outputs
    const int h = blockIdx.x, t = blockIdx.y, n_head = gridDim.x;
    const int n_kv = pos[0] + t + 1;  // keys 0..pos of this token (causal)
    const int kv_off = (h / group) * head_dim;
    const float* qv = q + (size_t)t * q_stride + h * head_dim;  // (head_dim,)
    float* sc = scores + ((size_t)t * n_head + h) * score_stride;  // (n_kv,)
    for (int d = threadIdx.x; d < head_dim; d += blockDim.x) q_sh[d] = qv[d] * scale;
    __syncthreads();
    const int lane = threadIdx.x & 31, n_warps = blockDim.x >> 5;
    ql_attention_scores(q_sh, cache_k, sc, 0, n_kv, kv_width, kv_off, head_dim);
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
    total = ql_block_reduce(total, false);
    __syncthreads();  // every sc[j] = e written above is visible to every warp below
    const float inv = 1.0f / total;
    // Weighted sum of values into part (n_warps, head_dim), then the sum over warps.
    ql_attention_values(sc, cache_v, part, 0, n_kv, kv_width, kv_off, head_dim);
    __syncthreads();
    float* dst = out + (size_t)t * n_head * head_dim + h * head_dim;  // (head_dim,)
    for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
        float sum = 0.0f;
        for (int w = 0; w < n_warps; ++w) sum += part[w][d];
        const float o = sum * inv;
        dst[d] = o;
        if (want_q) ql_store_q8_1(o, (((long long)t * n_head + h) * head_dim + d) >> 5, lane, xq, xds);  // chunk of (t, h, d)
    }
}

// out (T, n_ff) = silu(gate) * up, gate = gu[t, :n_ff], up = gu[t, n_ff:] (gu row stride 2*n_ff);
// if want_q (needs n_ff % 32 == 0, blockDim a multiple of 32), out also as q8_1 into xq/xds.
extern "C" __global__ void ql_swiglu(const float* __restrict__ gu, float* __restrict__ out, int n_tokens, int n_ff,
                                     signed char* __restrict__ xq, float2* __restrict__ xds, int want_q) {
    ql_pdl_begin();
    const long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long long)n_tokens * n_ff) return;  // with want_q the total is a multiple of 32: whole warps leave
    const long long t = idx / n_ff, i = idx % n_ff;
    const float g = gu[t * 2 * n_ff + i], u = gu[t * 2 * n_ff + n_ff + i];  // gate[t, i], up[t, i]
    const float o = g / (1.0f + __expf(-g)) * u;
    out[idx] = o;  // out (T, n_ff) flat
    if (want_q) ql_store_q8_1(o, idx >> 5, threadIdx.x & 31, xq, xds);  // flat chunk of (t, i)
}

// Split s of n_split takes keys [j0, j1) = [s * chunk, (s + 1) * chunk) clipped to n_kv,
// chunk = ceil(n_kv / n_split); split 0 is never empty (n_kv >= 1).
__device__ __forceinline__ void ql_split_range(int n_kv, int s, int n_split, int& j0, int& j1) {
    const int chunk = (n_kv + n_split - 1) / n_split;
    j0 = min(n_kv, s * chunk);
    j1 = min(n_kv, s * chunk + chunk);
}

// Prefetch into L2 the cache rows [j0, j1) of one kv head (head_dim floats at kv_off): they were
// written by earlier steps, so this may run before griddepcontrol.wait, while the kernel before drains.
__device__ __forceinline__ void ql_prefetch_rows(const float* __restrict__ cache, int j0, int j1, int kv_width,
                                                 int kv_off, int head_dim) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    const int lines = (head_dim * 4 + 127) / 128;  // 128-byte lines per row (rows start 128-B aligned or not: + 1 at most)
    for (int i = threadIdx.x; i < (j1 - j0) * (lines + 1); i += blockDim.x) {
        const float* row = cache + (size_t)(j0 + i / (lines + 1)) * kv_width + kv_off;  // (head_dim,) row j
        const char* line = (const char*)row + 128 * (i % (lines + 1));
        if (line < (const char*)(row + head_dim)) asm volatile("prefetch.global.L2 [%0];" ::"l"(line));
    }
#endif
}

// Split-KV helpers. A warp takes QL_KEYS_AT_ONCE keys at a time (key base + u * n_warps) and
// loads all their rows before any sum, so their L2 round trips overlap instead of queueing one
// key after another (a split holds a few dozen keys at decode lengths). Lane l holds dims
// l + 32 i (i < 8: head_dim <= 256). sc points at the split's first key (shared memory when
// the split fits QL_SPLIT_SC_SHARED keys, else the global scores row).
#define QL_KEYS_AT_ONCE 4
#define QL_SPLIT_SC_SHARED 1024

// Row j of one kv head: the step's own row (new_j, from shared memory) or the cache row.
__device__ __forceinline__ const float* ql_kv_row(const float* __restrict__ cache, int j, int kv_width, int kv_off,
                                                  const float* new_row, int new_j) {
    return j == new_j ? new_row : cache + (size_t)j * kv_width + kv_off;  // (head_dim,) row j
}

// sc[j - j0] = q . key j for keys [j0, j1).
__device__ __forceinline__ void ql_split_scores(const float* q_sh, const float* __restrict__ cache_k, float* sc,
                                                int j0, int j1, int kv_width, int kv_off, int head_dim,
                                                const float* new_k, int new_j) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, n_warps = blockDim.x >> 5;
    float qv[8];  // q dims lane + 32 i
#pragma unroll
    for (int i = 0; i < 8; ++i) qv[i] = lane + 32 * i < head_dim ? q_sh[lane + 32 * i] : 0.0f;
    for (int base = j0 + warp; base < j1; base += QL_KEYS_AT_ONCE * n_warps) {
        float kv[QL_KEYS_AT_ONCE][8];  // key base + u n_warps, dims lane + 32 i (0 past the end)
#pragma unroll
        for (int u = 0; u < QL_KEYS_AT_ONCE; ++u) {
            const int j = base + u * n_warps;
            const float* kr = ql_kv_row(cache_k, min(j, j1 - 1), kv_width, kv_off, new_k, new_j);
#pragma unroll
            for (int i = 0; i < 8; ++i) kv[u][i] = j < j1 && lane + 32 * i < head_dim ? kr[lane + 32 * i] : 0.0f;
        }
        float dot[QL_KEYS_AT_ONCE];
#pragma unroll
        for (int u = 0; u < QL_KEYS_AT_ONCE; ++u) {
            dot[u] = 0.0f;
#pragma unroll
            for (int i = 0; i < 8; ++i) dot[u] += qv[i] * kv[u][i];
        }
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) {
#pragma unroll
            for (int u = 0; u < QL_KEYS_AT_ONCE; ++u) dot[u] += __shfl_xor_sync(0xffffffffu, dot[u], o);
        }
#pragma unroll
        for (int u = 0; u < QL_KEYS_AT_ONCE; ++u) {
            const int j = base + u * n_warps;
            if (lane == u && j < j1) sc[j - j0] = dot[u];
        }
    }
}

// part[warp][d] = sum over the warp's keys j of p_j * value j (dims d < head_dim), p_j = sc[j - j0].
__device__ __forceinline__ void ql_split_values(const float* sc, const float* __restrict__ cache_v,
                                                float (*part)[256], int j0, int j1, int kv_width, int kv_off,
                                                int head_dim, const float* new_v, int new_j) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, n_warps = blockDim.x >> 5;
    float acc[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
    for (int base = j0 + warp; base < j1; base += QL_KEYS_AT_ONCE * n_warps) {
        float vv[QL_KEYS_AT_ONCE][8], p[QL_KEYS_AT_ONCE];  // values of key base + u n_warps, its weight
#pragma unroll
        for (int u = 0; u < QL_KEYS_AT_ONCE; ++u) {
            const int j = base + u * n_warps;
            const float* vr = ql_kv_row(cache_v, min(j, j1 - 1), kv_width, kv_off, new_v, new_j);
            p[u] = j < j1 ? sc[j - j0] : 0.0f;
#pragma unroll
            for (int i = 0; i < 8; ++i) vv[u][i] = j < j1 && lane + 32 * i < head_dim ? vr[lane + 32 * i] : 0.0f;
        }
#pragma unroll
        for (int u = 0; u < QL_KEYS_AT_ONCE; ++u) {
#pragma unroll
            for (int i = 0; i < 8; ++i) acc[i] += p[u] * vv[u][i];
        }
    }
#pragma unroll
    for (int i = 0; i < 8; ++i) {
        if (lane + 32 * i < head_dim) part[warp][lane + 32 * i] = acc[i];
    }
}

// The split's softmax pieces from q_sh (scaled query, shared) over keys [j0, j1): shared by
// ql_attention_split and ql_attention_split_rope (key/value new_j from new_k/new_v, -1: none).
// sc_global: the split's scores row in global memory (key j0 first), used when the split has
// more than QL_SPLIT_SC_SHARED keys.
__device__ __forceinline__ void ql_split_partials(const float* q_sh, const float* __restrict__ cache_k,
                                                  const float* __restrict__ cache_v, float* __restrict__ sc_global,
                                                  int j0, int j1, int kv_width, int kv_off, int head_dim,
                                                  const float* new_k, const float* new_v, int new_j,
                                                  float* __restrict__ o_dst, float* __restrict__ ml_dst) {
    __shared__ float part[QL_BLOCK / 32][256];  // (n_warps, head_dim) per-warp partial outputs
    __shared__ float sc_shared[QL_SPLIT_SC_SHARED];  // (j1 - j0,) scores, then exp weights
    float* sc = j1 - j0 <= QL_SPLIT_SC_SHARED ? sc_shared : sc_global;  // sc[j - j0] for key j
    const int n_warps = blockDim.x >> 5;
    ql_split_scores(q_sh, cache_k, sc, j0, j1, kv_width, kv_off, head_dim, new_k, new_j);
    __syncthreads();
    float m = QL_NEG_INF;
    for (int j = threadIdx.x; j < j1 - j0; j += blockDim.x) m = fmaxf(m, sc[j]);
    m = ql_block_reduce(m, true);  // -inf for an empty split (then no exp below runs)
    float total = 0.0f;
    for (int j = threadIdx.x; j < j1 - j0; j += blockDim.x) {
        const float e = __expf(sc[j] - m);
        sc[j] = e;
        total += e;
    }
    total = ql_block_reduce(total, false);
    __syncthreads();  // every sc[j] = e written above is visible to every warp below
    ql_split_values(sc, cache_v, part, j0, j1, kv_width, kv_off, head_dim, new_v, new_j);
    __syncthreads();
    for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
        float sum = 0.0f;
        for (int w = 0; w < n_warps; ++w) sum += part[w][d];
        o_dst[d] = sum;  // part_o[t, h, s, d]
    }
    if (threadIdx.x == 0) {
        ml_dst[0] = m;  // part_ml[t, h, s, 0]
        ml_dst[1] = total;  // part_ml[t, h, s, 1]
    }
}

// Split-KV (flash-decoding) attention, part 1: grid (n_head, T, n_split), block exactly QL_BLOCK.
// Split s of token t takes keys [j0, j1) = [s * chunk, (s + 1) * chunk) clipped to n_kv, with
// chunk = ceil(n_kv / n_split), and writes its max score m_s, l_s = sum exp(score - m_s) and the
// unnormalised o_s = sum exp(score - m_s) * value: part_o (T, n_head, n_split, head_dim),
// part_ml (T, n_head, n_split, 2). An empty split writes m = -inf, l = 0, o = 0. Split 0 is
// never empty (n_kv >= 1). Arguments as ql_attention; scores rows are shared, ranges disjoint.
extern "C" __global__ void ql_attention_split(const float* __restrict__ q, int q_stride,
                                              const float* __restrict__ cache_k, const float* __restrict__ cache_v,
                                              float* __restrict__ scores, int score_stride, const int* __restrict__ pos,
                                              int group, int head_dim, int kv_width, float scale,
                                              float* __restrict__ part_o, float* __restrict__ part_ml) {
    ql_pdl_begin();
    __shared__ float q_sh[256];  // (head_dim,) scaled query
    const int h = blockIdx.x, t = blockIdx.y, s = blockIdx.z, n_head = gridDim.x, n_split = gridDim.z;
    int j0, j1;
    ql_split_range(pos[0] + t + 1, s, n_split, j0, j1);  // keys 0..pos of this token (causal)
    const int kv_off = (h / group) * head_dim;
    const float* qv = q + (size_t)t * q_stride + h * head_dim;  // (head_dim,)
    for (int d = threadIdx.x; d < head_dim; d += blockDim.x) q_sh[d] = qv[d] * scale;
    __syncthreads();
    const size_t slot = ((size_t)t * n_head + h) * n_split + s;  // (t, h, s)
    ql_split_partials(q_sh, cache_k, cache_v, scores + ((size_t)t * n_head + h) * score_stride + j0, j0, j1,
                      kv_width, kv_off, head_dim, nullptr, nullptr, -1, part_o + slot * head_dim, part_ml + slot * 2);
}

// One-token decode: rope + KV store + split attention part 1 in one launch (replaces
// ql_rope_kv_store + ql_attention_split). qkv (1, (n_head + 2 n_head_kv) * head_dim) =
// [q heads | k heads | v heads], read only. Every CTA rotates its own query head; the CTAs of
// the split holding the new position pos[0] also rotate its key (kv head h / group) into shared
// memory and use it and the value from there for that position, and the first head of each
// group (h % group == 0) writes them into cache row pos[0]; no CTA reads that row from the
// cache in this launch. Earlier rows are prefetched into L2 before waiting for the qkv
// projection. grid (n_head, 1, n_split), block QL_BLOCK; rope arguments as ql_rope_kv_store.
extern "C" __global__ void ql_attention_split_rope(const float* __restrict__ qkv, float* __restrict__ cache_k,
                                                   float* __restrict__ cache_v, float* __restrict__ scores,
                                                   int score_stride, const int* __restrict__ pos, int group, int head_dim,
                                                   int kv_width, float scale, int rope_dim, int neox,
                                                   float log2_base, float inv_scale, float* __restrict__ part_o,
                                                   float* __restrict__ part_ml) {
    ql_pdl_allow_next();
    __shared__ float q_sh[256], k_sh[256], v_sh[256];  // (head_dim,) scaled query, the new key and value
    const int h = blockIdx.x, s = blockIdx.z, n_head = gridDim.x, n_split = gridDim.z;
    const int now = pos[0];  // set by the host before the graph started: readable before the wait
    int j0, j1;
    ql_split_range(now + 1, s, n_split, j0, j1);
    const int kv_head = h / group, kv_off = kv_head * head_dim, n_head_kv = kv_width / head_dim;
    ql_prefetch_rows(cache_k, j0, min(j1, now), kv_width, kv_off, head_dim);
    ql_prefetch_rows(cache_v, j0, min(j1, now), kv_width, kv_off, head_dim);
    ql_pdl_wait();
    const bool has_new = j0 <= now && now < j1;  // the (one) split that holds the new position
    const float ps = (float)now * inv_scale;
    const float* q_in = qkv + h * head_dim;                             // (head_dim,) query head h
    const float* k_in = qkv + (n_head + kv_head) * head_dim;            // (head_dim,) key head
    const float* v_in = qkv + (n_head + n_head_kv + kv_head) * head_dim;  // (head_dim,) value head
    float* k_row = cache_k + (size_t)now * kv_width + kv_off;           // (head_dim,) cache row `now`
    float* v_row = cache_v + (size_t)now * kv_width + kv_off;
    for (int p = threadIdx.x; p < head_dim / 2; p += blockDim.x) {
        int a, b;
        const bool rotated = ql_rope_pair(p, rope_dim, neox, a, b);
        float q0 = q_in[a], q1 = q_in[b];
        if (rotated) ql_rope_rotate(q0, q1, ps, p, rope_dim, log2_base);
        q_sh[a] = q0 * scale;
        q_sh[b] = q1 * scale;
        if (has_new) {
            float k0 = k_in[a], k1 = k_in[b];
            if (rotated) ql_rope_rotate(k0, k1, ps, p, rope_dim, log2_base);
            k_sh[a] = k0, k_sh[b] = k1, v_sh[a] = v_in[a], v_sh[b] = v_in[b];
            if (h % group == 0) k_row[a] = k0, k_row[b] = k1, v_row[a] = v_in[a], v_row[b] = v_in[b];
        }
    }
    __syncthreads();
    const size_t slot = (size_t)h * n_split + s;  // (0, h, s)
    ql_split_partials(q_sh, cache_k, cache_v, scores + (size_t)h * score_stride + j0, j0, j1, kv_width, kv_off,
                      head_dim, k_sh, v_sh, has_new ? now : -1, part_o + slot * head_dim, part_ml + slot * 2);
}

// Split-KV attention, part 2: grid (n_head, T), block QL_BLOCK (>= head_dim). With M = max_s m_s
// and w_s = exp(m_s - M) (0 for an empty split): out[t, h, :] = sum_s w_s o_s / sum_s w_s l_s.
// out (T, n_head * head_dim) contiguous; if want_q (head_dim % 32 == 0) also as q8_1.
extern "C" __global__ void ql_attention_merge(const float* __restrict__ part_o, const float* __restrict__ part_ml,
                                              float* __restrict__ out, int head_dim, int n_split,
                                              signed char* __restrict__ xq, float2* __restrict__ xds, int want_q) {
    ql_pdl_begin();
    const int h = blockIdx.x, t = blockIdx.y, n_head = gridDim.x;
    const size_t first = ((size_t)t * n_head + h) * n_split;  // slot of split 0 of (t, h)
    const float* ml = part_ml + first * 2;  // (n_split, 2): (m_s, l_s)
    float big = QL_NEG_INF;
    for (int s = 0; s < n_split; ++s) big = fmaxf(big, ml[2 * s]);  // finite: split 0 has a key
    float denom = 0.0f;
    for (int s = 0; s < n_split; ++s) denom += ml[2 * s + 1] > 0.0f ? __expf(ml[2 * s] - big) * ml[2 * s + 1] : 0.0f;
    const float inv = 1.0f / denom;
    float* dst = out + ((size_t)t * n_head + h) * head_dim;  // (head_dim,)
    for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
        float acc = 0.0f;
        for (int s = 0; s < n_split; ++s) {
            const float w = ml[2 * s + 1] > 0.0f ? __expf(ml[2 * s] - big) : 0.0f;
            acc += w * part_o[(first + s) * head_dim + d];  // part_o[t, h, s, d]
        }
        const float o = acc * inv;
        dst[d] = o;
        if (want_q) ql_store_q8_1(o, (((long long)t * n_head + h) * head_dim + d) >> 5, threadIdx.x & 31, xq, xds);
    }
}

// Greedy sampling on the device: out[0] = the index np.argmax gives for x (n,): the first index of
// the largest value, a NaN counting as larger than any number (the first NaN wins). One CTA of
// blockDim threads (a multiple of 32, <= 1024); a decode step then copies 4 bytes, not the logits.
__device__ __forceinline__ bool ql_argmax_better(float a, int ia, float b, int ib) {
    const bool a_nan = a != a, b_nan = b != b;
    if (a_nan || b_nan) return a_nan && (!b_nan || ia < ib);
    return a > b || (a == b && ia < ib);
}

// np.argmax of x (n,) over the CTA; the result is valid in thread 0.
__device__ int ql_argmax_block(const float* __restrict__ x, int n) {
    __shared__ float best_v[32];
    __shared__ int best_i[32];
    float v = QL_NEG_INF;
    int i = 0x7fffffff;  // no index yet: any element is better (ties go to the lower index)
    for (int j = threadIdx.x; j < n; j += blockDim.x) {
        if (ql_argmax_better(x[j], j, v, i)) v = x[j], i = j;
    }
    for (int o = 16; o > 0; o >>= 1) {
        const float ov = __shfl_xor_sync(0xffffffffu, v, o);
        const int oi = __shfl_xor_sync(0xffffffffu, i, o);
        if (ql_argmax_better(ov, oi, v, i)) v = ov, i = oi;
    }
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) best_v[warp] = v, best_i[warp] = i;
    __syncthreads();
    if (warp == 0) {
        v = lane < (blockDim.x >> 5) ? best_v[lane] : QL_NEG_INF;
        i = lane < (blockDim.x >> 5) ? best_i[lane] : 0x7fffffff;
        for (int o = 16; o > 0; o >>= 1) {
            const float ov = __shfl_xor_sync(0xffffffffu, v, o);
            const int oi = __shfl_xor_sync(0xffffffffu, i, o);
            if (ql_argmax_better(ov, oi, v, i)) v = ov, i = oi;
        }
    }
    return i;
}

extern "C" __global__ void ql_argmax(const float* __restrict__ x, int n, int* __restrict__ out) {
    ql_pdl_begin();
    const int i = ql_argmax_block(x, n);
    if (threadIdx.x == 0) out[0] = i;
}

// Chained greedy decoding: the step just computed the logits x (n,) of token step[0] at
// position step[1]; its greedy token becomes the next step's input, step = [token, pos + 1],
// so the next step (the same graph) can run without the host, and ring[pos % ring_size] =
// token: page-locked host memory (mapped), which the host reads after the step's event.
extern "C" __global__ void ql_argmax_chain(const float* __restrict__ x, int n, int* __restrict__ step,
                                           int* __restrict__ ring, int ring_size) {
    ql_pdl_begin();
    const int i = ql_argmax_block(x, n);
    if (threadIdx.x == 0) {
        const int pos = step[1];
        ring[pos % ring_size] = i;
        step[0] = i;
        step[1] = pos + 1;
    }
}
