// QuantLaunch: decode and prefill attention of the llama graph (one-kernel attention, split-KV
// attention with rope + KV store inside, the split merge; the clustered split + merge is in
// cuda_attention_cluster.cu). Compiled as one module with cuda_ops.cu, after it
// (engine/backends/cuda.py: LAYER_SOURCES): its helpers (PDL, block reductions, q8_1 stores,
// rope pairs) are defined there.

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
    const int n_kv = ql_step_pos(pos) + t + 1;  // keys 0..pos of this token (causal)
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

// Rows of a warp's batch of keys base + u * n_warps (u < QL_KEYS_AT_ONCE) of the key or value
// cache: rows[u][i] = dim lane + 32 i of row j (0 past j1 or head_dim; row new_j from new_row).
__device__ __forceinline__ void ql_load_kv_batch(const float* __restrict__ cache, int base, int j1, int kv_width,
                                                 int kv_off, int head_dim, const float* new_row, int new_j,
                                                 float (&rows)[QL_KEYS_AT_ONCE][8]) {
    const int lane = threadIdx.x & 31, n_warps = blockDim.x >> 5;
#pragma unroll
    for (int u = 0; u < QL_KEYS_AT_ONCE; ++u) {
        const int j = base + u * n_warps;
        const float* row = ql_kv_row(cache, min(j, j1 - 1), kv_width, kv_off, new_row, new_j);
#pragma unroll
        for (int i = 0; i < 8; ++i) rows[u][i] = j < j1 && lane + 32 * i < head_dim ? row[lane + 32 * i] : 0.0f;
    }
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
        ql_load_kv_batch(cache_k, base, j1, kv_width, kv_off, head_dim, new_k, new_j, kv);
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
        ql_load_kv_batch(cache_v, base, j1, kv_width, kv_off, head_dim, new_v, new_j, vv);
#pragma unroll
        for (int u = 0; u < QL_KEYS_AT_ONCE; ++u) p[u] = base + u * n_warps < j1 ? sc[base + u * n_warps - j0] : 0.0f;
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
    ql_split_range(ql_step_pos(pos) + t + 1, s, n_split, j0, j1);  // keys 0..pos of this token (causal)
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
// The body of ql_attention_split_rope (below) for CTA (h, 0, s): its partial (o_s, m_s, l_s) goes
// to o_dst (head_dim,) and ml_dst (2,), in global or in shared memory.
__device__ __forceinline__ void ql_split_rope_partials(const float* __restrict__ qkv, float* __restrict__ cache_k,
                                                       float* __restrict__ cache_v, float* __restrict__ scores,
                                                       int score_stride, const int* __restrict__ pos, int group,
                                                       int head_dim, int kv_width, float scale, int rope_dim,
                                                       int neox, float log2_base, float inv_scale, float* o_dst,
                                                       float* ml_dst) {
    __shared__ float q_sh[256], k_sh[256], v_sh[256];  // (head_dim,) scaled query, the new key and value
    const int h = blockIdx.x, s = blockIdx.z, n_head = gridDim.x, n_split = gridDim.z;
    // Before the wait the position may still be the last step's (in a graph of chained steps
    // argmax_chain, a few kernels back, writes it): a guess, good for the prefetch only.
    const int guess = ql_step_pos(pos);
    int j0, j1;
    ql_split_range(guess + 1, s, n_split, j0, j1);
    const int kv_head = h / group, kv_off = kv_head * head_dim, n_head_kv = kv_width / head_dim;
    ql_prefetch_rows(cache_k, j0, min(j1, guess), kv_width, kv_off, head_dim);
    ql_prefetch_rows(cache_v, j0, min(j1, guess), kv_width, kv_off, head_dim);
    ql_pdl_wait();
    // This thread's rope pair p (head_dim / 2 <= 128 < blockDim: at most one) of the query, key
    // and value heads, loaded before the position so that all of them share one L2 round trip.
    // Volatile loads, as the position's: ptxas keeps volatile loads in program order (and after
    // the wait); plain ones it scheduled after the position's arithmetic, a second round trip.
    const int p = threadIdx.x;
    const bool has_pair = p < head_dim / 2;
    int a = 0, b = 0;
    const bool rotated = has_pair && ql_rope_pair(p, rope_dim, neox, a, b);
    const float* q_in = qkv + h * head_dim;                             // (head_dim,) query head h
    const float* k_in = qkv + (n_head + kv_head) * head_dim;            // (head_dim,) key head
    const float* v_in = qkv + (n_head + n_head_kv + kv_head) * head_dim;  // (head_dim,) value head
    float q0 = 0.0f, q1 = 0.0f, k0 = 0.0f, k1 = 0.0f, v0 = 0.0f, v1 = 0.0f;
    if (has_pair) {
        q0 = ql_load_in_order(q_in + a), q1 = ql_load_in_order(q_in + b);
        k0 = ql_load_in_order(k_in + a), k1 = ql_load_in_order(k_in + b);
        v0 = ql_load_in_order(v_in + a), v1 = ql_load_in_order(v_in + b);
    }
    const int now = ql_step_pos(pos);  // this step's position: read after the wait
    ql_split_range(now + 1, s, n_split, j0, j1);
    const bool has_new = j0 <= now && now < j1;  // the (one) split that holds the new position
    const float ps = (float)now * inv_scale;
    float* k_row = cache_k + (size_t)now * kv_width + kv_off;           // (head_dim,) cache row `now`
    float* v_row = cache_v + (size_t)now * kv_width + kv_off;
    if (has_pair) {
        if (rotated) ql_rope_rotate(q0, q1, ps, p, rope_dim, log2_base);
        q_sh[a] = q0 * scale;
        q_sh[b] = q1 * scale;
        if (has_new) {
            if (rotated) ql_rope_rotate(k0, k1, ps, p, rope_dim, log2_base);
            k_sh[a] = k0, k_sh[b] = k1, v_sh[a] = v0, v_sh[b] = v1;
            if (h % group == 0) k_row[a] = k0, k_row[b] = k1, v_row[a] = v0, v_row[b] = v1;
        }
    }
    __syncthreads();
    ql_split_partials(q_sh, cache_k, cache_v, scores + (size_t)h * score_stride + j0, j0, j1, kv_width, kv_off,
                      head_dim, k_sh, v_sh, has_new ? now : -1, o_dst, ml_dst);
}

extern "C" __global__ void ql_attention_split_rope(const float* __restrict__ qkv, float* __restrict__ cache_k,
                                                   float* __restrict__ cache_v, float* __restrict__ scores,
                                                   int score_stride, const int* __restrict__ pos, int group, int head_dim,
                                                   int kv_width, float scale, int rope_dim, int neox,
                                                   float log2_base, float inv_scale, float* __restrict__ part_o,
                                                   float* __restrict__ part_ml) {
    ql_pdl_allow_next();
    const size_t slot = (size_t)blockIdx.x * gridDim.z + blockIdx.z;  // (0, h, s)
    ql_split_rope_partials(qkv, cache_k, cache_v, scores, score_stride, pos, group, head_dim, kv_width, scale,
                           rope_dim, neox, log2_base, inv_scale, part_o + slot * head_dim, part_ml + slot * 2);
}
