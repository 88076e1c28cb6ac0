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

#define QL_THREADS 128
#define QL_WARPS (QL_THREADS / 32)

// Lookup tables in shared memory: the QlTables hooks are described in common.cuh.
// Shared bytes reserved for T's table (16 when it has none: zero-length arrays are not C++).
template <class T>
struct QlTableSmem { static constexpr int BYTES = QlTables<T>::BYTES > 0 ? QlTables<T>::BYTES : 16; };

// Every thread copies its share of T's table (u32 words, coalesced); the caller's next
// __syncthreads (the first tile's, in ql_rowgroups) publishes it before any lookup.
template <class T>
__device__ __forceinline__ void ql_stage_tables(u8* __restrict__ smem) {
    if constexpr (QlTables<T>::BYTES > 0) {
        const u32* src = (const u32*)T::table_source();  // (BYTES / 4,) words of the global table
        u32* dst = (u32*)smem;                            // (BYTES / 4,) words in shared memory
        for (int i = threadIdx.x; i < QlTables<T>::BYTES / 4; i += QL_THREADS) dst[i] = src[i];
    }
}

template <class T>
struct QlTile {
    static constexpr int CHUNKS_PER_BLOCK = T::QK / 32;
    static constexpr int BLOCKS = QL_THREADS / CHUNKS_PER_BLOCK;  // multiple of 16: tiles stay 16-B aligned
    static constexpr int BYTES = BLOCKS * T::BYTES;
    static constexpr int COPIES_PER_THREAD = ((BYTES + 15) / 16 + QL_THREADS - 1) / QL_THREADS;  // 16-byte words, at most
    static_assert(BLOCKS % 16 == 0, "a tile must hold a multiple of 16 blocks");
};

// Where one thread's staged words go: the same place as a generic pointer (plain copies before
// sm_80) and as a shared-window address (cp.async), computed once per tile, not per copy.
struct QlSharedDst {
    u8* generic;
    u32 shared;
    QL_DEV QlSharedDst(u8* p) : generic(p), shared((u32)__cvta_generic_to_shared(p)) {}
    QL_DEV QlSharedDst(u8* p, u32 s) : generic(p), shared(s) {}
    QL_DEV QlSharedDst operator+(int bytes) const { return QlSharedDst(generic + bytes, shared + bytes); }
};

// One 16-byte word global -> shared: src + OFF to dst + OFF (OFF in bytes, compile-time: an
// immediate of the instruction, not a 64-bit add per copy). sm_80+: cp.async (no registers;
// complete after ql_async_commit + ql_async_wait); older archs: a streamed load and a store.
template <int OFF>
__device__ __forceinline__ void ql_copy16_async(QlSharedDst dst, const u8* src) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    asm volatile("cp.async.cg.shared.global [%0+%2], [%1+%2], 16;\n" ::"r"(dst.shared), "l"(src), "n"(OFF));
#else
    *(uint4*)(dst.generic + OFF) = __ldcs((const uint4*)(src + OFF));  // streamed once
#endif
}

// Copies of one row: words k + STRIDE j (J <= j < COPIES, k + STRIDE j < n16) from src to dst,
// both already at word k (k: this thread's index among the STRIDE copying threads). A fixed
// count, predicated (no loop per row); j is a template argument for the immediates.
template <int COPIES, int STRIDE, int J = 0>
__device__ __forceinline__ void ql_copy_row_words(QlSharedDst dst, const u8* src, int k, int n16) {
    if constexpr (J < COPIES) {
        if (k + STRIDE * J < n16) ql_copy16_async<16 * STRIDE * J>(dst, src);
        ql_copy_row_words<COPIES, STRIDE, J + 1>(dst, src, k, n16);
    }
}

// Copies of R rows (rows past the end re-read the last row): row r's words from first + (row0 +
// r) * row_stride to dst + r * DST_ROW_BYTES, both already at this thread's word k of row 0.
template <int R, int COPIES, int STRIDE, int DST_ROW_BYTES>
__device__ __forceinline__ void ql_copy_rows(QlSharedDst dst, const u8* first, long long row_stride, int row0,
                                             int rows, int k, int n16) {
#pragma unroll
    for (int r = 0; r < R; ++r) {
        const u8* src = first + (unsigned long long)(u32)min(row0 + r, rows - 1) * (unsigned long long)row_stride;
        ql_copy_row_words<COPIES, STRIDE>(dst + r * DST_ROW_BYTES, src, k, n16);
    }
}

// Closes this thread's group of ql_copy16_async copies (the unit ql_async_wait counts).
__device__ __forceinline__ void ql_async_commit() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    asm volatile("cp.async.commit_group;\n" ::);
#endif
}

// Start copying blocks [block0, block0 + nblocks) of rows row0..row0+R-1 into tile (rows past
// the end re-read the last row; their results are never stored). sm_80+: cp.async (global ->
// shared without registers, completion by ql_async_wait); older archs: plain copies.
template <class T, int R>
__device__ __forceinline__ void ql_stage_tile(u8 (*tile)[QlTile<T>::BYTES], const u8* __restrict__ w,
                                              long long row_stride, int row0, int rows, int block0, int nblocks) {
    const int n16 = (nblocks * T::BYTES + 15) >> 4;  // 16-byte words; the row padding keeps the last in bounds
    const u8* first = w + (long long)block0 * T::BYTES + 16 * threadIdx.x;  // this thread's first word, row 0
    const QlSharedDst dst(tile[0] + 16 * threadIdx.x);                        // its place in row 0's tile
    ql_copy_rows<R, QlTile<T>::COPIES_PER_THREAD, QL_THREADS, QlTile<T>::BYTES>(dst, first, row_stride, row0, rows,
                                                                              threadIdx.x, n16);
    ql_async_commit();
}

// Wait until at most PENDING staged tiles are still in flight (this thread's copies).
template <int PENDING>
__device__ __forceinline__ void ql_async_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    asm volatile("cp.async.wait_group %0;\n" ::"n"(PENDING));
#endif
}

// Smallest power of two >= n (n >= 1).
__host__ __device__ constexpr int ql_pow2_ceil(int n) { return n <= 1 ? 1 : 2 * ql_pow2_ceil((n + 1) / 2); }

// Warp sums of P values per lane (P a power of two <= 32) with P - 1 + log2(32 / P) shuffles
// instead of 5 P: each halving step a lane keeps one half of its values (the upper half when
// its lane bit `offset` is set) and adds its partner's copy of that half. Afterwards every lane
// holds the warp's sum of value index lane >> log2(32 / P).
template <int P>
QL_DEV float ql_warp_sum_halving(float (&v)[P]) {
    static_assert(P >= 1 && P <= 32 && (P & (P - 1)) == 0, "P must be a power of two <= 32");
    const int lane = threadIdx.x & 31;
#pragma unroll
    for (int half = P / 2, offset = 16; half >= 1; half >>= 1, offset >>= 1) {
        const bool upper = lane & offset;
#pragma unroll
        for (int i = 0; i < half; ++i) {
            const float send = upper ? v[i] : v[i + half], keep = upper ? v[i + half] : v[i];
            v[i] = keep + __shfl_xor_sync(0xFFFFFFFFu, send, offset);
        }
    }
    float sum = v[0];
#pragma unroll
    for (int offset = 16 / P; offset > 0; offset >>= 1) sum += __shfl_xor_sync(0xFFFFFFFFu, sum, offset);
    return sum;
}

// out[c][row0 + r] = the CTA's sum for (c, r), or out + sum when `accumulate` (each output
// element belongs to exactly one CTA, so the read-modify-write is race-free: residual adds).
// Ends with a __syncthreads after which no thread reads acc's tile any more.
template <int NCOLS, int R>
__device__ __forceinline__ void ql_reduce_store(float (&acc)[NCOLS][R], float* __restrict__ out, int rows,
                                                int row0, int accumulate) {
    constexpr int V = NCOLS * R, P = ql_pow2_ceil(V), LANES_PER_VALUE = 32 / P;
    __shared__ float partial[QL_WARPS][V];  // warp sums, value i = (column i / R, row i % R)
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    float v[P];  // acc flattened, zero-padded to P
#pragma unroll
    for (int i = 0; i < P; ++i) v[i] = i < V ? acc[i / R][i % R] : 0.0f;
    const float warp_sum = ql_warp_sum_halving<P>(v);
    const int index = lane / LANES_PER_VALUE;  // the value this lane now holds
    if (lane % LANES_PER_VALUE == 0 && index < V) partial[warp][index] = warp_sum;
    __syncthreads();
    for (int i = threadIdx.x; i < V; i += QL_THREADS) {
        const int c = i / R, r = i % R;
        float sum = 0.0f;
#pragma unroll
        for (int k = 0; k < QL_WARPS; ++k) sum += partial[k][i];
        if (row0 + r < rows) {
            float* dst = out + (long long)c * rows + row0 + r;  // out[c][row0 + r]
            *dst = accumulate ? *dst + sum : sum;
        }
    }
}

// The CTA walks its row groups (blockIdx.x, + gridDim.x, ...) tile by tile; while it computes
// one tile the next is already being copied (two shared buffers). body(tile, block0, nb, acc)
// accumulates one tile; after a row group's last tile the sums are reduced and stored.
// An item is (row group, tile); the position is advanced by counting, not by dividing.
template <class T, int NCOLS, int R, class Body>
__device__ __forceinline__ void ql_rowgroups(const u8* __restrict__ w, long long row_stride, int rows,
                                             int nchunks, float* __restrict__ out, int accumulate, Body body) {
    typedef QlTile<T> Tile;
    // Two stages of R rows; 16 spare bytes after them: load_u32s_a2 may read 2 bytes past a block.
    __shared__ __align__(16) u8 tiles[2 * R * Tile::BYTES + 16];
    u8(*tile)[R][Tile::BYTES] = reinterpret_cast<u8(*)[R][Tile::BYTES]>(tiles);  // tile[stage][row]
    const int nblocks = nchunks / Tile::CHUNKS_PER_BLOCK;
    const int tiles_per_row = (nblocks + Tile::BLOCKS - 1) / Tile::BLOCKS;
    const int groups = (rows + R - 1) / R;
    const int my_groups = blockIdx.x < groups ? (groups - blockIdx.x + gridDim.x - 1) / gridDim.x : 0;
    const int items = my_groups * tiles_per_row;
    const int row_step = gridDim.x * R;  // rows between this CTA's consecutive row groups
    auto stage = [&](int buffer, int row0, int block0) {
        ql_stage_tile<T, R>(tile[buffer], w, row_stride, row0, rows, block0, min(Tile::BLOCKS, nblocks - block0));
    };
    float acc[NCOLS][R] = {};
    int row0 = blockIdx.x * R, block0 = 0;  // the current item's row group and first block
    int next_row0 = row0, next_block0 = 0;  // the staged item's (advanced before each stage)
    auto advance = [&](int& r0, int& b0) {
        b0 += Tile::BLOCKS;
        if (b0 >= nblocks) b0 = 0, r0 += row_step;
    };
    ql_pdl_allow_next();
    if (items > 0) stage(0, row0, 0);  // weights only: they stream in while an earlier kernel drains
    ql_pdl_wait();  // activations and outputs from here on
    for (int item = 0; item < items; ++item) {
        if (item + 1 < items) {
            advance(next_row0, next_block0);
            stage((item + 1) & 1, next_row0, next_block0);
            ql_async_wait<1>();
        } else {
            ql_async_wait<0>();
        }
        __syncthreads();
        body(tile[item & 1], block0, min(Tile::BLOCKS, nblocks - block0), acc);
        if (block0 + Tile::BLOCKS >= nblocks) {  // the row group's last tile
            // its __syncthreads comes after every thread's reads of tile[item & 1], so the tile
            // may be refilled after it; the next reduce writes `partial` only after the next
            // item's top-of-loop __syncthreads, when every thread has read it
            ql_reduce_store<NCOLS, R>(acc, out, rows, row0, accumulate);
#pragma unroll
            for (int c = 0; c < NCOLS; ++c) {
#pragma unroll
                for (int r = 0; r < R; ++r) acc[c][r] = 0.0f;
            }
        } else {
            __syncthreads();  // everyone is done with tile[item & 1] before it is refilled
        }
        advance(row0, block0);
    }
}

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
        if (item + 1 < items) {
            advance(next_row0, next_tile);
            stage((item + 1) & 1, next_row0, next_tile);
            ql_async_wait<1>();
        } else {
            ql_async_wait<0>();
        }
        __syncwarp();
        const int chunk = tile * 32 + lane;
        if (chunk < nchunks) {
            const int4 lo = xq[chunk * 2], hi = xq[chunk * 2 + 1];
            const int stored[8] = {lo.x, lo.y, lo.z, lo.w, hi.x, hi.y, hi.z, hi.w};  // int8 elements 4i..4i+3
            int q[8];
            ql_order_q<T>(stored, q);
            const float2 ds = xds[chunk];
            const int offset = ((tile * WT::BLOCKS * T::BYTES) & 15) + (lane / WT::CHUNKS_PER_BLOCK) * T::BYTES;
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

template <class T, int NCOLS, int R>
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
            int q[8];
            ql_order_q<T>(stored, q);  // T's activation order, shared by the R rows
            const float2 ds = xds[col * nchunks + chunk];
#pragma unroll
            for (int r = 0; r < R; ++r) {
                acc[col][r] += ql_vec_dot<T>(tables, tile[r] + blk * T::BYTES, c, q, ds.x, ds.y);  // row r's block
            }
        }
    };
    ql_rowgroups<T, NCOLS, R>(w, row_stride, rows, nchunks, out, accumulate, body);
}

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
#pragma unroll
    for (int r = 0; r < R; ++r) {
        float wv[8];  // elements 32c + 8g .. +8 of row r's block
        if constexpr (NCOLS == 1 && QlDequantRaw<T>::HAS) {  // unscaled values, the scale once per group
            const float scale = ql_dequant_split<T>(tables, tile[r] + blk * T::BYTES, 4 * c + g, wv);
            float dot = 0.0f;
#pragma unroll
            for (int e = 0; e < 8; ++e) dot = fmaf(wv[e], xv[0][e], dot);
            acc[0][r] = fmaf(dot, scale, acc[0][r]);
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

// dmmv, one column of a type without dot_f32 (not spread): the four dequant groups of the
// thread's chunk, x from memory.
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
template <class T, int NCOLS, int R, bool X_IN_REGS = false, bool SPREAD = (NCOLS > 1)>
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
            } else if constexpr (QlDotF32<T>::HAS) {
                float xv[32];
                ql_load_x32(x + chunk * 8, xv);  // x[0][32*chunk ..]
                ql_dmmv_chunk_1col<T, R>(tables, tile, blk, c, xv, acc);
            } else {
                ql_dmmv_chunk_groups<T, R>(tables, tile, blk, c, x, chunk, acc);
            }
        }
    };
    ql_rowgroups<T, NCOLS, R>(w, row_stride, rows, nchunks, out, accumulate, body);
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
