// QuantLaunch: the small per-layer ops of the llama graph (norm, rope, KV store, SwiGLU,
// greedy argmax); attention is in cuda_attention.cu, compiled after this file as one module
// (engine/backends/cuda.py: LAYER_SOURCES). Mat-vecs live in engine/kernels. Positions come from a device
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

// The step's position pos[0]. In a graph of chained decode steps it is written a few kernels
// before (argmax_chain), so it is read only after ql_pdl_wait, and through a volatile load:
// from a `const __restrict__` pointer the compiler may emit ld.global.nc, and ptxas moves such
// an "invariant" load above griddepcontrol.wait (seen in ql_attention's SASS, NVRTC 12.9 and 13).
__device__ __forceinline__ int ql_step_pos(const int* pos) {
    return *(const volatile int*)pos;
}

// A float loaded in program order with the volatile loads around it (such as ql_step_pos): to
// batch loads that ptxas would otherwise schedule apart; only after ql_pdl_wait.
__device__ __forceinline__ float ql_load_in_order(const float* p) {
    return *(const volatile float*)p;
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

// Loads in flight at once per thread in the small kernels' row scans (norm, argmax): a loop
// with one load per pass waits a full L2 round trip each pass (ptxas does not batch them),
// so these scans load a batch first (clamped indices: unpredicated loads, which ptxas issues
// together) and then use it, in the loop's order. 4 float4 per thread cover a row of 4096
// with QL_BLOCK threads in one batch; 16 floats per thread cover 32000 logits in two.
#define QL_SCAN_LOADS4 4
#define QL_SCAN_LOADS 16

__device__ __forceinline__ float ql_square(float v) { return v * v; }
__device__ __forceinline__ float ql_square(float4 v) { return v.x * v.x + v.y * v.y + v.z * v.z + v.w * v.w; }

// Sum over this thread's share (elements i, i + blockDim, ...) of v (n elements: floats or
// float4) of ql_square, LOADS elements loaded at a time, in the order of a plain loop over that
// share: bit-identical to it.
template <int LOADS, class T>
__device__ __forceinline__ float ql_sum_squares_of(const T* __restrict__ v, int n) {
    float sq = 0.0f;
    for (int base = threadIdx.x; base < n; base += LOADS * blockDim.x) {
        T batch[LOADS];  // element base + k * blockDim (clamped)
#pragma unroll
        for (int k = 0; k < LOADS; ++k) batch[k] = v[min(base + k * (int)blockDim.x, n - 1)];
#pragma unroll
        for (int k = 0; k < LOADS; ++k) {
            if (base + k * (int)blockDim.x < n) sq += ql_square(batch[k]);
        }
    }
    return sq;
}

// Sum of squares of row (n floats) over this thread's share: float4 when n % 4 == 0 (rows
// then stay 16-B aligned), else floats.
__device__ __forceinline__ float ql_sum_squares(const float* __restrict__ row, int n) {
    if ((n & 3) == 0) return ql_sum_squares_of<QL_SCAN_LOADS4>((const float4*)row, n >> 2);  // (n / 4,) float4
    return ql_sum_squares_of<QL_SCAN_LOADS>(row, n);
}

// RMSNorm of row t of x (read only): grid (T, ceil(n / blockDim)), blockDim QL_BLOCK. Every
// CTA reduces the whole row (n floats, L2-resident: re-reading them is cheaper than a second
// launch), in the same order, so all CTAs get the same scale; CTA (t, s) then writes elements
// [s * blockDim, (s + 1) * blockDim) of out[t] = x[t] / sqrt(mean(x[t]^2) + eps) * w and, if
// want_q (needs n % 32 == 0), their q8_1 into xq/xds: each warp holds one 32-aligned chunk.
// The thread's own element and weight are loaded with the row, before the reduction: one L2
// round trip after the wait instead of one per pass plus one after the reduction.
extern "C" __global__ void __launch_bounds__(QL_BLOCK)
ql_rms_norm(const float* __restrict__ x, const float* __restrict__ w, float* __restrict__ out,
            signed char* __restrict__ xq, float2* __restrict__ xds, int n, float eps, int want_q) {
    ql_pdl_begin();
    const float* row = x + (size_t)blockIdx.x * n;  // (n,) row t of x
    const int i = blockIdx.y * blockDim.x + threadIdx.x;  // this thread's element of row t
    const float xi = i < n ? row[i] : 0.0f, wi = i < n ? w[i] : 0.0f;
    const float inv = rsqrtf(ql_block_reduce(ql_sum_squares(row, n), false) / n + eps);
    if (i >= n) return;  // with want_q, n % 32 == 0: whole warps leave together
    const float o = xi * inv * wi;
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
    const float p = (float)(ql_step_pos(pos) + t) * inv_scale;
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
    const size_t row = (size_t)(ql_step_pos(pos) + t) * kv_width;  // cache row of token t
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
    const int at = ql_step_pos(pos) + t;  // position of token t
    int a, b;
    const bool rotated = ql_rope_pair(p, rope_dim, neox, a, b);
    float x0 = v[a], x1 = v[b];
    if (rotated && head < n_head + n_head_kv) ql_rope_rotate(x0, x1, (float)at * inv_scale, p, rope_dim, log2_base);
    if (head < n_head) {
        v[a] = x0;
        v[b] = x1;
        return;
    }
    const bool is_k = head < n_head + n_head_kv;
    const int kv_head = is_k ? head - n_head : head - n_head - n_head_kv;
    const int kv_width = n_head_kv * head_dim;
    float* dst = (is_k ? cache_k : cache_v) + (size_t)at * kv_width + kv_head * head_dim;  // (head_dim,) row `at`
    dst[a] = x0;
    dst[b] = x1;
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

// Greedy sampling on the device: out[0] = the index np.argmax gives for x (n,): the first index of
// the largest value, a NaN counting as larger than any number (the first NaN wins); or
// QL_NOT_FINITE where that winner is not a finite number (a NaN or +inf anywhere, or every value
// -inf: damaged weights, which the host reports; engine/sampling.py greedy_token is the same rule).
// One CTA of blockDim threads (a multiple of 32, <= 1024); a decode step then copies 4 bytes, not
// the logits.
#define QL_NOT_FINITE (-1)
__device__ __forceinline__ bool ql_argmax_better(float a, int ia, float b, int ib) {
    const bool a_nan = a != a, b_nan = b != b;
    if (a_nan || b_nan) return a_nan && (!b_nan || ia < ib);
    return a > b || (a == b && ia < ib);
}

// np.argmax of x (n,) over the CTA and its value (best); both are valid in thread 0.
__device__ int ql_argmax_block(const float* __restrict__ x, int n, float& best) {
    __shared__ float best_v[32];
    __shared__ int best_i[32];
    float v = QL_NEG_INF;
    int i = 0x7fffffff;  // no index yet: any element is better (ties go to the lower index)
    for (int base = threadIdx.x; base < n; base += QL_SCAN_LOADS * blockDim.x) {
        float xv[QL_SCAN_LOADS];  // x[base + k * blockDim] (clamped: unpredicated loads, all issued first)
#pragma unroll
        for (int k = 0; k < QL_SCAN_LOADS; ++k) xv[k] = x[min(base + k * (int)blockDim.x, n - 1)];
#pragma unroll
        for (int k = 0; k < QL_SCAN_LOADS; ++k) {
            const int j = base + k * (int)blockDim.x;
            if (j < n && ql_argmax_better(xv[k], j, v, i)) v = xv[k], i = j;
        }
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
    best = v;
    return i;
}

extern "C" __global__ void ql_argmax(const float* __restrict__ x, int n, int* __restrict__ out) {
    ql_pdl_begin();
    float best;
    const int i = ql_argmax_block(x, n, best);
    if (threadIdx.x == 0) out[0] = isfinite(best) ? i : QL_NOT_FINITE;
}

// Chained greedy decoding: the step just computed the logits x (n,) of token step[0] at
// position step[1]; its greedy token becomes the next step's input, step = [token, pos + 1],
// so the next step (the same graph) can run without the host, and ring[pos % ring_size] =
// token (QL_NOT_FINITE where the logits were not finite; the step buffer keeps the index, so a
// step queued ahead still reads a valid id): page-locked host memory (mapped), which the host
// reads after the step's event.
extern "C" __global__ void ql_argmax_chain(const float* __restrict__ x, int n, int* __restrict__ step,
                                           int* __restrict__ ring, int ring_size) {
    ql_pdl_begin();
    const int pos = threadIdx.x == 0 ? step[1] : 0;  // loaded with the logits, not after the scan
    float best;
    const int i = ql_argmax_block(x, n, best);
    if (threadIdx.x == 0) {
        ring[pos % ring_size] = isfinite(best) ? i : QL_NOT_FINITE;
        step[0] = i;
        step[1] = pos + 1;
    }
}
