// The mat-vec CTA pipeline shared by mmvq and dmmv (matvec.cuh): lookup tables staged in shared
// memory, weight tiles copied with cp.async into two stages, the CTA's walk over its row groups
// (ql_rowgroups) and the reduction of its sums. Layouts and the CTA scheme: matvec.cuh.
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
    if (row0 + R <= rows) {  // every row exists (the same for the whole CTA or warp): one add per row
        const u8* src = first + (unsigned long long)(u32)row0 * (unsigned long long)row_stride;
#pragma unroll
        for (int r = 0; r < R; ++r, src += row_stride) ql_copy_row_words<COPIES, STRIDE>(dst + r * DST_ROW_BYTES, src, k, n16);
        return;
    }
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

// The double-buffered walk's step before computing item `item` of `items`: the next item's
// position is advanced (advance(next_a, next_b)) and its copies started into the other buffer
// (stage(buffer, next_a, next_b)), then this thread waits until the current item's copies have
// landed (the caller's barrier publishes them to the CTA or warp).
template <class Advance, class Stage>
__device__ __forceinline__ void ql_stage_next_and_wait(int item, int items, int& next_a, int& next_b,
                                                       Advance advance, Stage stage) {
    if (item + 1 < items) {
        advance(next_a, next_b);
        stage((item + 1) & 1, next_a, next_b);
        ql_async_wait<1>();
    } else {
        ql_async_wait<0>();
    }
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
// SMEM_STAGES >= 2: the tile array is sized for that many stages, two of them used; the rest only
// lowers how many CTAs share an SM (a tuning knob: engine/kernels/sources.py, MMVQ_SMEM_STAGES and
// DMMV_SMEM_STAGES).
// Only on sm_90 and sm_10x (228 KB of shared memory per SM; measured on sm_90): SMs of 64-164 KB
// (sm_5x-sm_89, and sm_12x's 100 KB) keep two stages, so a reservation cannot cut their CTAs per
// SM to a few (Pascal: 2 instead of 5); so does sm_11x (not known here).
template <class T, int NCOLS, int R, int SMEM_STAGES = 2, class Body>
__device__ __forceinline__ void ql_rowgroups(const u8* __restrict__ w, long long row_stride, int rows,
                                             int nchunks, float* __restrict__ out, int accumulate, Body body) {
    static_assert(SMEM_STAGES >= 2, "the walk uses two stages");
#if defined(__CUDA_ARCH__) && (__CUDA_ARCH__ < 900 || __CUDA_ARCH__ >= 1100)
    constexpr int RESERVED = 2;
#else
    constexpr int RESERVED = SMEM_STAGES;
#endif
    typedef QlTile<T> Tile;
    // RESERVED stages of R rows (two used); 16 spare bytes after them: load_u32s_a2 may read
    // 2 bytes past a block.
    // 128-byte aligned (a shared-memory row of the 32 banks): with 16, ptxas may place the tiles
    // after `partial` at offset 64; the 8B decode shapes, chain-timed on an H100, then ran slower
    // (Q8_0 4096 x 14336: 23.6 -> 22.5 us aligned, 6144 x 4096: 10.2 -> 9.8; 8B Q8_0 decode 308 ->
    // 315 t/s; bench/results/raw-2026-12-06-sixth/, bench/results/experiments-2026-12-06.md).
    __shared__ __align__(128) u8 tiles[RESERVED * R * Tile::BYTES + 16];
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
        ql_stage_next_and_wait(item, items, next_row0, next_block0, advance, stage);
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
