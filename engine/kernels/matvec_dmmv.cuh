// dmmv (float activations, weights dequantized in registers: the path below cc 6.1), the
// dequantize-to-f16 kernel and the embedding row lookup, on matvec_tiles.cuh's CTA pipeline.
#pragma once
#include "common.cuh"
#include "matvec_tiles.cuh"

// dmmv, 1 column: the 32 floats of x of the thread's chunk k (x[32*chunk .. +32): 8 float4 loads).
QL_DEV void ql_load_x32(const float4* __restrict__ xp, float (&xv)[32]) {
#pragma unroll
    for (int i = 0; i < 8; ++i) {
        const float4 v = xp[i];
        xv[4 * i] = v.x, xv[4 * i + 1] = v.y, xv[4 * i + 2] = v.z, xv[4 * i + 3] = v.w;
    }
}

// Where a thread's chunk starts every 64 bytes (the float pseudo-blocks), group g of all lanes
// falls in the same few banks: 4- to 16-way conflicts. Lane pairs then start at group
// (lane / 2) % 4 instead, so a quarter warp's 16-byte loads cover all 32 banks (F16, BF16; F32
// halves its conflicts to 2-way).
template <class T>
struct QlRotateGroups { static constexpr bool YES = QlTile<T>::CHUNKS_PER_BLOCK == 1 && T::BYTES % 64 == 0; };

// dmmv, one group of 8 elements (group g of chunk c of block blk) of each of the R rows,
// dequantized once and dotted with every column's xv (x[col][the same 8 elements]).
template <class T, int NCOLS, int R>
__device__ __forceinline__ void ql_dmmv_group_rows(const u8* tables, u8 (*tile)[QlTile<T>::BYTES], int blk, int c,
                                                   int g, const float (&xv)[NCOLS][8], float (&acc)[NCOLS][R]) {
    float xsum = 0.0f;  // sum of the group's x, for the offset term (dequant_offset): once for all R rows
    if constexpr (NCOLS == 1 && QlDequantOffset<T>::HAS) xsum = ql_sum_f32(xv[0], 8);
#pragma unroll
    for (int r = 0; r < R; ++r) {
        float wv[8];  // elements 32c + 8g .. +8 of row r's block
        if constexpr (NCOLS == 1 && QlDequantRaw<T>::HAS) {  // unscaled values, the scale once per group
            const u8* b = tile[r] + blk * T::BYTES;
            const float scale = ql_dequant_split<T>(tables, b, 4 * c + g, wv);
            float dot = 0.0f;
#pragma unroll
            for (int e = 0; e < 8; ++e) dot = fmaf(wv[e], xv[0][e], dot);
            acc[0][r] = fmaf(dot, scale, acc[0][r]);
            if constexpr (QlDequantOffset<T>::HAS) acc[0][r] = fmaf(ql_dequant_offset<T>(b, 4 * c + g), xsum, acc[0][r]);
        } else {
            ql_dequant<T>(tables, tile[r] + blk * T::BYTES, 4 * c + g, wv);
#pragma unroll
            for (int col = 0; col < NCOLS; ++col) {
#pragma unroll
                for (int e = 0; e < 8; ++e) acc[col][r] = fmaf(wv[e], xv[col][e], acc[col][r]);
            }
        }
    }
}

// dmmv, one column, the four dequant groups of 8 of the thread's chunk per row; load_x(g, xv)
// fills xv with x[0][32*chunk + 8g .. +8] (from memory, or from registers).
template <class T, int R, class LoadX>
__device__ __forceinline__ void ql_dmmv_groups(const u8* tables, u8 (*tile)[QlTile<T>::BYTES], int blk, int c,
                                               LoadX load_x, float (&acc)[1][R]) {
#pragma unroll
    for (int step = 0; step < 4; ++step) {
        const int g = QlRotateGroups<T>::YES ? (step + (threadIdx.x >> 1)) & 3 : step;  // the group of 8 elements
        float xv[1][8];  // x[0][32*chunk + 8g .. +8], reused for all R rows
        load_x(g, xv[0]);
        ql_dmmv_group_rows<T, 1, R>(tables, tile, blk, c, g, xv, acc);
    }
}

// x[col][8 elements] at xp (two 16-byte loads) into group.
QL_DEV void ql_load_x8(const float4* __restrict__ xp, float (&group)[8]) {
    const float4 a = xp[0], b = xp[1];
    group[0] = a.x, group[1] = a.y, group[2] = a.z, group[3] = a.w;
    group[4] = b.x, group[5] = b.y, group[6] = b.z, group[7] = b.w;
}

// dmmv with x from memory, the tile's groups of 8 dealt out across the CTA: thread t takes
// groups t + QL_THREADS j (j = 0..3) of the tile, group G being element group G % 4 of chunk
// G / 4. A warp's x loads for one j are then 32 consecutive 32-byte runs (coalesced: 1 KB, 8 L1
// wavefronts per column) instead of 32 runs 128 bytes apart (32 wavefronts); each thread still
// dequantizes four groups per row. tile_chunks: the tile's chunks (nb blocks), chunk0 its first.
template <class T, int NCOLS, int R>
__device__ __forceinline__ void ql_dmmv_spread_groups(const u8* tables, u8 (*tile)[QlTile<T>::BYTES],
                                                      int tile_chunks, const float4* __restrict__ x,
                                                      long long chunk0, int nchunks, float (&acc)[NCOLS][R]) {
#pragma unroll
    for (int j = 0; j < 4; ++j) {
        const int group = threadIdx.x + QL_THREADS * j;  // of the tile's 4 * QL_THREADS groups
        const int k = group >> 2, g = group & 3;         // chunk within the tile, group within the chunk
        if (k < tile_chunks) {
            const int blk = k / QlTile<T>::CHUNKS_PER_BLOCK, c = k % QlTile<T>::CHUNKS_PER_BLOCK;
            float xv[NCOLS][8];  // x[col][32 (chunk0 + k) + 8g .. +8], reused for all R rows
#pragma unroll
            for (int col = 0; col < NCOLS; ++col) ql_load_x8(x + (col * nchunks + chunk0 + k) * 8 + 2 * g, xv[col]);
            ql_dmmv_group_rows<T, NCOLS, R>(tables, tile, blk, c, g, xv, acc);
        }
    }
}

// dmmv, one thread's chunk of a tile, 1 column, x in registers: one ql_dot_f32 per row where
// T has a whole-chunk dot_f32 (scales decoded once per chunk, min terms through sum(x)), else
// the four dequant groups.
template <class T, int R>
__device__ __forceinline__ void ql_dmmv_chunk_1col(const u8* tables, u8 (*tile)[QlTile<T>::BYTES], int blk, int c,
                                                   const float (&xv)[32], float (&acc)[1][R]) {
    if constexpr (QlDotF32<T>::HAS) {
#pragma unroll
        for (int r = 0; r < R; ++r) acc[0][r] += ql_dot_f32<T>(tables, tile[r] + blk * T::BYTES, c, xv);  // row r's block
    } else {
        auto from_registers = [&](int g, float (&group)[8]) {
#pragma unroll
            for (int e = 0; e < 8; ++e) group[e] = xv[8 * g + e];
        };
        ql_dmmv_groups<T, R>(tables, tile, blk, c, from_registers, acc);
    }
}

// dmmv, one column of a type without dot_f32 for this kernel (not spread: no dot_f32, or one
// for x in registers only, QlDotF32Plain): the four dequant groups of the thread's chunk, x from memory.
template <class T, int R>
__device__ __forceinline__ void ql_dmmv_chunk_groups(const u8* tables, u8 (*tile)[QlTile<T>::BYTES], int blk, int c,
                                                     const float4* __restrict__ x, long long chunk, float (&acc)[1][R]) {
    auto from_memory = [&](int g, float (&group)[8]) { ql_load_x8(x + chunk * 8 + 2 * g, group); };  // x[0][32 chunk + 8g ..]
    ql_dmmv_groups<T, R>(tables, tile, blk, c, from_memory, acc);
}

// X_IN_REGS (1 column): the thread's 32 floats of x stay in registers until its chunk changes,
// which for rows of one tile (<= QL_THREADS chunks, the launcher's condition) means once per
// kernel instead of once per row group. Declared per type (engine/kernels/sources.py:
// DMMV_X_IN_REGISTERS) where it measured faster; the 32 live floats cost occupancy elsewhere.
// SPREAD: the groups of a tile dealt out across the CTA (ql_dmmv_spread_groups): always for
// several columns, for one column where declared (sources.py: DMMV_SPREAD_1COL).
// SMEM_STAGES: tile stages the shared memory is sized for (ql_rowgroups; sources.py:
// DMMV_SMEM_STAGES, one column only).
template <class T, int NCOLS, int R, bool X_IN_REGS = false, bool SPREAD = (NCOLS > 1), int SMEM_STAGES = 2>
__device__ __forceinline__ void ql_dmmv(const u8* __restrict__ w, long long row_stride, int rows, int nchunks,
                                        const float4* __restrict__ x, float* __restrict__ out, int accumulate) {
    static_assert(!X_IN_REGS || NCOLS == 1, "x in registers: one column");
    static_assert(!(X_IN_REGS && SPREAD), "x in registers keeps a chunk per thread");
    static_assert(SPREAD || NCOLS == 1, "several columns: the spread layout (coalesced x loads)");
    typedef QlTile<T> Tile;
    __shared__ __align__(16) u8 tables[QlTableSmem<T>::BYTES];
    ql_stage_tables<T>(tables);
    float x1[X_IN_REGS ? 32 : 1];  // X_IN_REGS: x[0][32*x1_chunk .. +32)
    long long x1_chunk = -1;
    auto body = [&](u8 (*tile)[Tile::BYTES], int block0, int nb, float (&acc)[NCOLS][R]) {
        if constexpr (SPREAD) {
            ql_dmmv_spread_groups<T, NCOLS, R>(tables, tile, nb * Tile::CHUNKS_PER_BLOCK, x,
                                               (long long)block0 * Tile::CHUNKS_PER_BLOCK, nchunks, acc);
        } else {  // one column, a chunk per thread
            const int k = threadIdx.x;
            if (k >= nb * Tile::CHUNKS_PER_BLOCK) return;
            const int blk = k / Tile::CHUNKS_PER_BLOCK, c = k % Tile::CHUNKS_PER_BLOCK;
            const long long chunk = (long long)block0 * Tile::CHUNKS_PER_BLOCK + k;
            if constexpr (X_IN_REGS) {
                if (chunk != x1_chunk) ql_load_x32(x + chunk * 8, x1), x1_chunk = chunk;  // x[0][32*chunk ..]
                ql_dmmv_chunk_1col<T, R>(tables, tile, blk, c, x1, acc);
            } else if constexpr (QlDotF32Plain<T>::HAS) {
                float xv[32];
                ql_load_x32(x + chunk * 8, xv);  // x[0][32*chunk ..]
                ql_dmmv_chunk_1col<T, R>(tables, tile, blk, c, xv, acc);
            } else {
                ql_dmmv_chunk_groups<T, R>(tables, tile, blk, c, x, chunk, acc);
            }
        }
    };
    ql_rowgroups<T, NCOLS, R, SMEM_STAGES>(w, row_stride, rows, nchunks, out, accumulate, body);
}

QL_DEV u16 ql_f32_to_f16(float f) {
    u16 h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
    return h;
}

// One thread per 8 outputs: out f16 (rows, row_len) from w (rows, row_stride).
template <class T>
__device__ __forceinline__ void ql_dequant_f16(const u8* __restrict__ w, long long row_stride, int rows, int row_len,
                                               uint4* __restrict__ out) {
    const long long groups_per_row = row_len / 8;
    const long long gid = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    ql_pdl_allow_next();
    ql_pdl_wait();
    if (gid >= rows * groups_per_row) return;
    const long long row = gid / groups_per_row;
    const int gi = (int)(gid % groups_per_row);
    const int blk = gi / (T::QK / 8), g = gi % (T::QK / 8);
    float v[8];
    T::dequant(w + row * row_stride + (long long)blk * T::BYTES, g, v);
    uint4 packed;  // 8 halfs, element 2i in the low half of word i
    packed.x = (u32)ql_f32_to_f16(v[0]) | ((u32)ql_f32_to_f16(v[1]) << 16);
    packed.y = (u32)ql_f32_to_f16(v[2]) | ((u32)ql_f32_to_f16(v[3]) << 16);
    packed.z = (u32)ql_f32_to_f16(v[4]) | ((u32)ql_f32_to_f16(v[5]) << 16);
    packed.w = (u32)ql_f32_to_f16(v[6]) | ((u32)ql_f32_to_f16(v[7]) << 16);
    out[gid] = packed;  // = out_f16[row][8*gi .. 8*gi+8)
}

// Embedding lookup: out f32 (n_ids, row_len) = rows ids[i] of w, dequantized; one thread per
// 8 outputs (row_len % 8 == 0). Ids outside [0, rows) read row 0 (the caller validates them).
template <class T>
__device__ __forceinline__ void ql_get_rows(const u8* __restrict__ w, long long row_stride, int rows, int row_len,
                                            const int* __restrict__ ids, int n_ids, float4* __restrict__ out) {
    const int groups_per_row = row_len / 8;
    const long long gid = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    ql_pdl_allow_next();
    ql_pdl_wait();
    if (gid >= (long long)n_ids * groups_per_row) return;
    const int i = (int)(gid / groups_per_row), gi = (int)(gid % groups_per_row);
    const int id = ids[i];
    const long long row = id >= 0 && id < rows ? id : 0;
    const int blk = gi / (T::QK / 8), g = gi % (T::QK / 8);
    float v[8];
    T::dequant(w + row * row_stride + (long long)blk * T::BYTES, g, v);  // elements [8 gi, 8 gi + 8) of the row
    out[2 * gid] = make_float4(v[0], v[1], v[2], v[3]);  // out[i][8 gi .. 8 gi + 4)
    out[2 * gid + 1] = make_float4(v[4], v[5], v[6], v[7]);  // out[i][8 gi + 4 .. 8 gi + 8)
}
