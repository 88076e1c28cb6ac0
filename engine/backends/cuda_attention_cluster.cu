// QuantLaunch: the one-token split attention with its merge in one launch of clustered splits
// (sm_90+). Compiled as one module with cuda_ops.cu and cuda_attention.cu, after them
// (engine/backends/cuda.py: LAYER_SOURCES): it uses their helpers (ql_split_rope_partials, PDL,
// q8_1 stores).

// sm_90+: ql_attention_split_rope and ql_attention_merge in one launch. The QL_ATTN_CLUSTER
// splits of a head are one thread block cluster; each keeps its partial in shared memory and,
// after a cluster barrier, split 0 merges them through distributed shared memory (as
// ql_attention_merge) and writes the head's output and its q8_1. No partials in global memory,
// no merge launch. grid (n_head, 1, QL_ATTN_CLUSTER), block QL_BLOCK; out (1, n_head * head_dim).
#define QL_ATTN_CLUSTER 8
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
__device__ __forceinline__ float ql_cluster_load(const float* local, unsigned rank) {
    const unsigned address = (unsigned)__cvta_generic_to_shared(local);
    unsigned remote;
    float value;
    asm volatile("mapa.shared::cluster.u32 %0, %1, %2;" : "=r"(remote) : "r"(address), "r"(rank));
    asm volatile("ld.shared::cluster.f32 %0, [%1];" : "=f"(value) : "r"(remote) : "memory");
    return value;
}

__device__ __forceinline__ void ql_cluster_sync() {  // every thread of every CTA of the cluster
    asm volatile("barrier.cluster.arrive.release.aligned;\n\tbarrier.cluster.wait.acquire.aligned;" ::: "memory");
}

extern "C" __global__ void __cluster_dims__(1, 1, QL_ATTN_CLUSTER)
ql_attention_split_rope_merged(const float* __restrict__ qkv, float* __restrict__ cache_k, float* __restrict__ cache_v,
                               float* __restrict__ scores, int score_stride, const int* __restrict__ pos, int group,
                               int head_dim, int kv_width, float scale, int rope_dim, int neox, float log2_base,
                               float inv_scale, float* __restrict__ out, signed char* __restrict__ xq,
                               float2* __restrict__ xds, int want_q) {
    ql_pdl_allow_next();
    __shared__ float o_part[256], ml_part[2];  // this split's (head_dim,) o_s and (m_s, l_s)
    ql_split_rope_partials(qkv, cache_k, cache_v, scores, score_stride, pos, group, head_dim, kv_width, scale,
                           rope_dim, neox, log2_base, inv_scale, o_part, ml_part);
    ql_cluster_sync();  // every split's partial is in its shared memory
    if (blockIdx.z == 0) {  // cluster rank 0 (the cluster spans z)
        float m[QL_ATTN_CLUSTER], w[QL_ATTN_CLUSTER], big = QL_NEG_INF, denom = 0.0f;
        for (unsigned r = 0; r < QL_ATTN_CLUSTER; ++r) big = fmaxf(big, m[r] = ql_cluster_load(ml_part, r));
        for (unsigned r = 0; r < QL_ATTN_CLUSTER; ++r) {
            const float l = ql_cluster_load(ml_part + 1, r);
            w[r] = l > 0.0f ? __expf(m[r] - big) : 0.0f;  // 0 for an empty split
            denom += w[r] * l;
        }
        const float inv = 1.0f / denom;
        const int h = blockIdx.x;
        for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
            float acc = 0.0f;
            for (unsigned r = 0; r < QL_ATTN_CLUSTER; ++r) acc += w[r] * ql_cluster_load(o_part + d, r);
            const float o = acc * inv;
            out[h * head_dim + d] = o;  // out[0, h, d]
            if (want_q) ql_store_q8_1(o, ((long long)h * head_dim + d) >> 5, threadIdx.x & 31, xq, xds);
        }
    }
    ql_cluster_sync();  // split 0 is done reading the others' shared memory before they exit
}
#endif
