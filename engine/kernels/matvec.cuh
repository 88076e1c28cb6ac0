// Generic kernels, templated on a type struct (see common.cuh); the extern "C" wrappers
// that instantiate them are generated in Python from QUANT_TABLE (engine/kernels/sources.py).
//
// Layouts (all row-major, C-contiguous):
//   w     u8  (rows, row_stride)       GGUF blocks of one row, zero-padded to a multiple of 16 B
//   x     f32 (ncols, nchunks*32)      float activations (dmmv, quantize input)
//   xq    i8  (ncols, nchunks, 32)     q8_1 values; read as 2 int4 per chunk
//   xds   f32x2 (ncols, nchunks)       (d, s) per q8_1 block: d = amax/127, s = d * sum(q)
//   out   f32 (ncols, rows)
// Mat-vec CTA: QL_THREADS threads, persistent over row groups of R consecutive rows. Rows are
// walked in tiles of QL_THREADS 32-element chunks; each tile of R rows is copied into shared
// memory with coalesced 16-byte loads (cp.async on sm_80+, double-buffered so the next tile
// streams in while this one is computed; odd block sizes cost nothing at the memory), then
// every thread takes one chunk: one vec_dot (mmvq) or four dequant groups (dmmv) per row and
// column. grid = min(row groups, resident CTAs); launch with any grid size >= 1.
#pragma once
#include "common.cuh"
#include "matvec_tiles.cuh"  // the CTA pipeline (tiles, row groups, reductions)
#include "matvec_dmmv.cuh"   // dmmv, dequantize-to-f16, row lookup

// ---- mmvq, one column, warps on their own (no CTA barrier per item) ------------------------
// Each warp walks its own row groups (R rows) in warp tiles of 32 chunks (one per lane), with
// its own double-buffered cp.async stages and __syncwarp only; a row group's sums are reduced
// with shuffles and stored by the warp. The CTA syncs once, after staging T's table.
// For types with few instructions per byte the CTA pipeline's two barriers per item are what
// they wait on (ncu: barrier stalls), so on tall matrices this runs faster; a warp's share of
// rows is 4x coarser than a CTA's, so on short ones the tail loses (the launcher's choice:
// engine/kernels/sources.py, MMVQ_WARPS, mmvq_uses_warps). grid = ceil(row groups / QL_WARPS) or fewer.
template <class T>
struct QlWarpTile {
    static constexpr int CHUNKS_PER_BLOCK = T::QK / 32;
    static constexpr int BLOCKS = 32 / CHUNKS_PER_BLOCK;  // blocks per warp tile
    static constexpr int BYTES = BLOCKS * T::BYTES;
    // stage bytes: the tile may start mid 16-byte word (copies are whole words), + 16 spare
    // bytes (load_u32s_a2 may read 2 bytes past a block)
    static constexpr int STAGE_BYTES = (BYTES + 15 + 15) / 16 * 16 + 16;
    static constexpr int COPIES_PER_LANE = ((BYTES + 15 + 15) / 16 + 31) / 32;  // 16-byte words per lane, at most
    static_assert(32 % CHUNKS_PER_BLOCK == 0, "a warp tile holds whole blocks");
};

template <class T, int R>
__device__ __forceinline__ void ql_mmvq_warps_1col(const u8* __restrict__ w, long long row_stride, int rows,
                                                   int nchunks, const int4* __restrict__ xq,
                                                   const float2* __restrict__ xds, float* __restrict__ out,
                                                   int accumulate) {
    typedef QlWarpTile<T> WT;
    __shared__ __align__(16) u8 tables[QlTableSmem<T>::BYTES];
    __shared__ __align__(16) u8 stages[QL_WARPS][2][R][WT::STAGE_BYTES];  // [warp][buffer][row]
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int nblocks = nchunks / WT::CHUNKS_PER_BLOCK, tiles_per_row = (nchunks + 31) / 32;
    const int groups = (rows + R - 1) / R, n_warps = gridDim.x * QL_WARPS;
    const int my_warp = blockIdx.x * QL_WARPS + warp;
    const int items = my_warp < groups ? (groups - my_warp + n_warps - 1) / n_warps * tiles_per_row : 0;
    // Copy warp tile `tile` of rows row0.. into stages[warp][buffer]: whole 16-byte words from
    // the one holding the tile's first byte (rows are 16-byte aligned and padded).
    auto stage = [&](int buffer, int row0, int tile) {
        const int block0 = tile * WT::BLOCKS, nb = min(WT::BLOCKS, nblocks - block0);
        const int start = block0 * T::BYTES, first16 = start & ~15;
        const int n16 = ((start & 15) + nb * T::BYTES + 15) >> 4;
        const u8* first = w + first16 + 16 * lane;                    // this lane's first word, row 0
        const QlSharedDst dst(stages[warp][buffer][0] + 16 * lane);  // its place in row 0's stage
        ql_copy_rows<R, WT::COPIES_PER_LANE, 32, WT::STAGE_BYTES>(dst, first, row_stride, row0, rows, lane, n16);
        ql_async_commit();
    };
    float acc[R] = {};
    int row0 = my_warp * R, tile = 0, next_row0 = row0, next_tile = 0;
    auto advance = [&](int& r0, int& t) {
        if (++t == tiles_per_row) t = 0, r0 += n_warps * R;
    };
    ql_pdl_allow_next();
    if (items > 0) stage(0, row0, 0);
    ql_stage_tables<T>(tables);
    ql_pdl_wait();
    if constexpr (QlTables<T>::BYTES > 0) __syncthreads();  // the table, before any lookup
    for (int item = 0; item < items; ++item) {
        ql_stage_next_and_wait(item, items, next_row0, next_tile, advance, stage);
        __syncwarp();
        const int chunk = tile * 32 + lane;
        if (chunk < nchunks) {
            const int4 lo = xq[chunk * 2], hi = xq[chunk * 2 + 1];
            const int stored[8] = {lo.x, lo.y, lo.z, lo.w, hi.x, hi.y, hi.z, hi.w};  // int8 elements 4i..4i+3
            const int offset = ((tile * WT::BLOCKS * T::BYTES) & 15) + (lane / WT::CHUNKS_PER_BLOCK) * T::BYTES;
            int q[QlOrderQAt<T>::WORDS];
            ql_order_q_at<T>(stored, stages[warp][item & 1][0] + offset, q);  // rows' stages: 16-B aligned (STAGE_BYTES)
            const float2 ds = xds[chunk];
#pragma unroll
            for (int r = 0; r < R; ++r) {
                acc[r] += ql_vec_dot<T>(tables, stages[warp][item & 1][r] + offset, lane % WT::CHUNKS_PER_BLOCK, q,
                                        ds.x, ds.y);  // row r's block of this lane's chunk
            }
        }
        if (tile + 1 == tiles_per_row) {  // the row group's last tile: reduce and store
            constexpr int P = ql_pow2_ceil(R), LANES_PER_VALUE = 32 / P;
            float v[P];
#pragma unroll
            for (int i = 0; i < P; ++i) v[i] = i < R ? acc[i] : 0.0f;
            const float sum = ql_warp_sum_halving<P>(v);
            const int index = lane / LANES_PER_VALUE;  // the row this lane now holds
            if (lane % LANES_PER_VALUE == 0 && index < R && row0 + index < rows) {
                float* dst = out + row0 + index;
                *dst = accumulate ? *dst + sum : sum;
            }
#pragma unroll
            for (int r = 0; r < R; ++r) acc[r] = 0.0f;
        }
        __syncwarp();  // every lane is done with this buffer before it is refilled
        advance(row0, tile);
    }
}

template <class T, int NCOLS, int R, int SMEM_STAGES = 2>
__device__ __forceinline__ void ql_mmvq(const u8* __restrict__ w, long long row_stride, int rows, int nchunks,
                                        const int4* __restrict__ xq, const float2* __restrict__ xds,
                                        float* __restrict__ out, int accumulate) {
    typedef QlTile<T> Tile;
    __shared__ __align__(16) u8 tables[QlTableSmem<T>::BYTES];
    ql_stage_tables<T>(tables);
    auto body = [&](u8 (*tile)[Tile::BYTES], int block0, int nb, float (&acc)[NCOLS][R]) {
        const int k = threadIdx.x;  // this thread's chunk within the tile
        if (k >= nb * Tile::CHUNKS_PER_BLOCK) return;
        const int blk = k / Tile::CHUNKS_PER_BLOCK, c = k % Tile::CHUNKS_PER_BLOCK;
        const long long chunk = (long long)block0 * Tile::CHUNKS_PER_BLOCK + k;
#pragma unroll
        for (int col = 0; col < NCOLS; ++col) {
            const int4 lo = xq[(col * nchunks + chunk) * 2], hi = xq[(col * nchunks + chunk) * 2 + 1];
            const int stored[8] = {lo.x, lo.y, lo.z, lo.w, hi.x, hi.y, hi.z, hi.w};  // int8 elements 4i..4i+3
            int q[QlOrderQAt<T>::WORDS];
            ql_order_q_at<T>(stored, tile[0] + blk * T::BYTES, q);  // T's activation order, shared by the R rows
            const float2 ds = xds[col * nchunks + chunk];
#pragma unroll
            for (int r = 0; r < R; ++r) {
                acc[col][r] += ql_vec_dot<T>(tables, tile[r] + blk * T::BYTES, c, q, ds.x, ds.y);  // row r's block
            }
        }
    };
    ql_rowgroups<T, NCOLS, R, SMEM_STAGES>(w, row_stride, rows, nchunks, out, accumulate, body);
}

// One warp per q8_1 block: x f32 (ncols, nchunks*32) -> xq (ncols, nchunks, 32), xds (ncols, nchunks).
extern "C" __global__ void ql_quantize_q8_1(const float* __restrict__ x, int total_chunks, i8* __restrict__ xq,
                                            float2* __restrict__ xds) {
    const long long chunk = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    const int lane = threadIdx.x & 31;
    ql_pdl_allow_next();
    ql_pdl_wait();
    if (chunk >= total_chunks) return;  // whole warps leave together
    const float v = x[chunk * 32 + lane];
    float amax = fabsf(v);
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) amax = fmaxf(amax, __shfl_xor_sync(0xFFFFFFFFu, amax, offset));
    const float d = amax / 127.0f;
    const int q = amax == 0.0f ? 0 : __float2int_rn(v / d);
    int sum = q;
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) sum += __shfl_xor_sync(0xFFFFFFFFu, sum, offset);
    xq[chunk * 32 + lane] = (i8)q;
    if (lane == 0) xds[chunk] = make_float2(d, d * (float)sum);
}
