// QuantLaunch kernels: shared definitions for every type header and the generic kernels.
//
// ============================ THE DEVICE-FUNCTION INTERFACE ============================
// common.cuh provides: u8, i8, u16, i16, i32, u32, u64 typedefs; QL_DEV (= __device__
// __forceinline__ under NVRTC/nvcc, = inline on a host compiler, so `static QL_DEV` works in a struct); f16_to_f32(u16),
// bf16_to_f32(u16), e8m0_to_f32(u8), ql_i2f(int) (fast exact int->float for |v| < 2^22),
// ql_bytes_to_f32x4(u32 v, float bias, float out[4]) (4 bytes -> floats minus bias, 2 ops each; _h: halves.cuh); load_u16(p), load_u32_a1(p) (byte loads),
// load_u32_a2(p) (2-byte aligned: two u16 loads), load_u32_a4(p) (4-byte aligned), load_u32s_a2<N>(p, out)
// (N words from a 2-byte aligned tile address: N + 1 aligned loads), load_u32s_a1<N>(p, out) (the same
// from any tile address);
// dp4a(a, b, c) (native __dp4a unless QL_SOFT_DP4A or __CUDA_ARCH__ < 610, else software;
// also on a host compiler) and dp4a_us(a, b, c) (the same with a's bytes unsigned); host fallbacks
// for __byte_perm and __popc so a type header compiles unchanged with g++ (the CPU test harness).
//
// Each quantized type is a struct named exactly as its row of engine/quant/table.py:
//   struct Q4_0 {
//     static constexpr int QK = 32, BYTES = 18;   // must equal the Python table: the
//                                                 // generated wrappers static_assert it
//     // Dequantize the 8 elements [8*g, 8*g+8) of one block (0 <= g < QK/8) into out[0..8).
//     static QL_DEV void dequant(const u8* __restrict__ blk, int g, float out[8]);
//     // Dot product of the 32 elements [32*c, 32*c+32) of one block (0 <= c < QK/32) with
//     // one q8_1 block: q = its 32 int8 packed as 8 ints (q[i] holds elements 4i..4i+3,
//     // element 4i in the low byte), d = its scale (float), s = d * (sum of its 32 q).
//     static QL_DEV float vec_dot(const u8* __restrict__ blk, int c, const int* __restrict__ q,
//                                 float d, float s);
//   };
// Notes for implementers:
//  * s is the sum of the q8_1-ROUNDED activations (d * sum(q)), not of the raw floats.
//    Using s for an offset or a min (Q4_0's -8, Q4_1's m, TQ2_0's -1) is therefore exact:
//    vec_dot must equal sum_j dequant(w)_j * d * q_j up to float rounding; the GPU test
//    checks exactly that with a tight tolerance.
//  * blk is the block's address with the same alignment it has in the GGUF tensor
//    (rows are padded to 16 bytes, tiles are 16-byte aligned): a block of BYTES bytes at
//    index b sits at offset b*BYTES from a 16-byte aligned base. It may point to shared
//    memory (the mat-vec kernels stage weight tiles there) or global memory.
//  * g and c are in range; no bounds checks needed. Keep functions branch-light.
//  * Lookup tables: __device__ arrays declared in tables.cuh (plain arrays on the host). A type
//    whose lookups are scattered per lane also exposes SMEM_TABLE_BYTES, table_source(),
//    dequant_t and vec_dot_t (see "lookup tables in shared memory" below); the mat-vec
//    kernels then read a per-CTA shared-memory copy of the table.
//  * Headers must start with #pragma once and include only "common.cuh"/"tables.cuh".
// ========================================================================================
#pragma once

typedef unsigned char u8;
typedef signed char i8;
typedef unsigned short u16;
typedef short i16;
typedef int i32;
typedef unsigned int u32;
typedef unsigned long long u64;

#if defined(__CUDACC__) || defined(__CUDACC_RTC__)
#define QL_ON_DEVICE 1
#define QL_DEV __device__ __forceinline__
#else
#include <math.h>  // fmaf
#define QL_ON_DEVICE 0
#define QL_DEV inline
#define __device__
#define __restrict__ __restrict
#endif

#if QL_ON_DEVICE && !defined(QL_SOFT_DP4A) && defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 610
#define QL_SOFT_DP4A 1
#endif

// ---- programmatic dependent launch (sm_90+) --------------------------------------------
// Kernels may be launched with programmatic stream serialization (engine/kernels/launch.py):
// then the next kernel's CTAs can start while this one drains. Each kernel calls
// ql_pdl_allow_next() early, and ql_pdl_wait() before it touches any global memory that an
// earlier kernel writes or reads (activations, outputs, scratch); only immutable data
// (weights, lookup tables) may be read before the wait. Both are no-ops below sm_90 and for
// ordinary launches. ptxas may move an ld.global.nc (a `const __restrict__` load) above the wait:
// it did with the layer ops' step position (engine/backends/cuda_ops.cu: ql_step_pos).
// tests/kernels/test_pdl_prewait_sass.py checks every kernel's loads before its wait in SASS.
QL_DEV void ql_pdl_wait() {
#if QL_ON_DEVICE && defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}

QL_DEV void ql_pdl_allow_next() {
#if QL_ON_DEVICE && defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

// ---- byte permute ----------------------------------------------------------------------
// prmt.b32 as the hardware does it: selector nibble k (of the low 16 bits of s) picks byte
// (nibble & 7) of the 8-byte pool y:x, and with bit 3 set it replicates that byte's sign bit
// over the output byte (0x00 or 0xFF). __byte_perm masks a variable selector to 3 bits first
// (one LOP per call); callers of ql_prmt either pass nibbles < 8 or want the sign replicate.
QL_DEV u32 ql_prmt(u32 x, u32 y, u32 s) {
#if QL_ON_DEVICE
    u32 r;
    asm("prmt.b32 %0, %1, %2, %3;" : "=r"(r) : "r"(x), "r"(y), "r"(s));
    return r;
#else
    const u64 pool = (u64)x | ((u64)y << 32);  // byte n of the 8-byte pool = selector n
    u32 r = 0;
    for (int k = 0; k < 4; ++k) {
        const u32 nibble = (s >> (4 * k)) & 15u;
        u32 byte = (u32)(pool >> (8 * (nibble & 7u))) & 0xFFu;
        if (nibble & 8u) byte = (byte & 0x80u) ? 0xFFu : 0u;  // sign replicate
        r |= byte << (8 * k);
    }
    return r;
#endif
}

// ---- conversions --------------------------------------------------------------------
QL_DEV float ql_bits_to_f32(u32 bits) {
#if QL_ON_DEVICE
    return __uint_as_float(bits);
#else
    float f;
    __builtin_memcpy(&f, &bits, 4);
    return f;
#endif
}

QL_DEV u32 ql_f32_to_bits(float f) {
#if QL_ON_DEVICE
    return __float_as_uint(f);
#else
    u32 bits;
    __builtin_memcpy(&bits, &f, 4);
    return bits;
#endif
}

QL_DEV float f16_to_f32(u16 h) {
#if QL_ON_DEVICE
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
    return f;
#else
    const u32 sign = (u32)(h & 0x8000u) << 16;
    const u32 exponent = (h >> 10) & 0x1Fu;
    const u32 mantissa = h & 0x3FFu;
    if (exponent == 0x1Fu) return ql_bits_to_f32(sign | 0x7F800000u | (mantissa << 13));
    if (exponent != 0) return ql_bits_to_f32(sign | ((exponent + 112u) << 23) | (mantissa << 13));
    const float magnitude = (float)mantissa * 5.9604644775390625e-8f;  // mantissa * 2^-24
    return sign ? -magnitude : magnitude;
#endif
}

// Exact int -> float for |v| < 2^22 with two full-rate ops (integer add into the mantissa of
// 1.5*2^23, then a float subtract) instead of the quarter-rate I2F conversion.
QL_DEV float ql_i2f(int v) { return ql_bits_to_f32(0x4B400000u + (u32)v) - 12582912.0f; }

QL_DEV float bf16_to_f32(u16 h) { return ql_bits_to_f32((u32)h << 16); }

// E8M0 scale: 2^(e-127); e = 0 gives 2^-127 (a subnormal float).
QL_DEV float e8m0_to_f32(u8 e) {
    return e == 0 ? ql_bits_to_f32(0x00400000u) : ql_bits_to_f32((u32)e << 23);
}

// ---- loads ---------------------------------------------------------------------------
QL_DEV u16 load_u16(const u8* p) { return *(const u16*)p; }  // p: 2-byte aligned
QL_DEV u32 load_u32_a1(const u8* p) {  // any alignment: 4 byte loads, little-endian
    return (u32)p[0] | ((u32)p[1] << 8) | ((u32)p[2] << 16) | ((u32)p[3] << 24);
}
QL_DEV u32 load_u32_a2(const u8* p) {  // p: 2-byte aligned, two u16 loads
    return (u32)((const u16*)p)[0] | ((u32)((const u16*)p)[1] << 16);
}
QL_DEV u32 load_u32_a4(const u8* p) { return *(const u32*)p; }  // p: 4-byte aligned

// The 32 bits at bit offset shift (0..31) of the 64-bit value hi:lo.
QL_DEV u32 ql_funnel_r(u32 lo, u32 hi, u32 shift) {
#if QL_ON_DEVICE
    return __funnelshift_r(lo, hi, shift);
#else
    return (u32)((((u64)hi << 32) | lo) >> shift);
#endif
}

// The high word of (hi:lo) << shift (0..31): hi << shift | lo's top shift bits. One SHF.L.W.
QL_DEV u32 ql_funnel_l(u32 lo, u32 hi, u32 shift) {
#if QL_ON_DEVICE
    return __funnelshift_l(lo, hi, shift);
#else
    return (u32)(((((u64)hi << 32) | lo) << shift) >> 32);
#endif
}

// x rotated right by n (0..31) bits: one funnel shift.
QL_DEV u32 ql_rotr(u32 x, u32 n) { return ql_funnel_r(x, x, n); }

// N little-endian words from p with the low address bits MISALIGN_BITS (2: p 2-byte aligned;
// 3: any p) unknown: N + 1 aligned 4-byte loads and a funnel shift each, instead of 2N u16 or 4N
// byte loads. Reads up to 3 bytes before p (never before p's aligned word) and up to 4 after
// p + 4N: use it on blocks in the mat-vec tiles (padded by 16 bytes).
template <int N, u32 MISALIGN_BITS>
QL_DEV void ql_load_u32s_known(const u8* p, u32 misalign, u32 (&out)[N]) {
    const u32* w = (const u32*)(p - misalign);  // (N + 1,) aligned words from p's first byte on
    u32 lo = w[0];
    for (int i = 0; i < N; ++i) {
        // 2-byte aligned: the last word w[N] only when p is 2 mod 4
        const int next = MISALIGN_BITS == 2u && i + 1 == N ? N - 1 + (int)(misalign >> 1) : i + 1;
        const u32 hi = w[next];
        out[i] = ql_funnel_r(lo, hi, misalign * 8);
        lo = hi;
    }
}
template <int N, u32 MISALIGN_BITS>
QL_DEV void ql_load_u32s(const u8* p, u32 (&out)[N]) {
    ql_load_u32s_known<N, MISALIGN_BITS>(p, (u32)(unsigned long long)p & MISALIGN_BITS, out);
}

// N consecutive u32 from a 2-byte aligned p (fewer shared-memory instructions in the mmvq inner
// loop than load_u32_a2; measured faster for Q8_0 and Q4_0, slower for Q5_0 and IQ4_NL, which
// keep load_u32_a2). p at least 2 bytes into its block when the block may sit at 2 mod 4.
template <int N>
QL_DEV void load_u32s_a2(const u8* p, u32 (&out)[N]) { ql_load_u32s<N, 2u>(p, out); }

// The same with p's misalignment given (p mod 4: 0 or 2), e.g. from the type's order_q_at, which
// the mat-vec kernels run once per chunk: every row's block then shares it, and the loads of R
// rows sit at fixed offsets from one address instead of each row recomputing its alignment.
template <int N>
QL_DEV void load_u32s_at2(const u8* p, u32 misalign, u32 (&out)[N]) { ql_load_u32s_known<N, 2u>(p, misalign, out); }

// N little-endian words from any byte address p in a tile.
template <int N>
QL_DEV void load_u32s_a1(const u8* p, u32 (&out)[N]) { ql_load_u32s<N, 3u>(p, out); }

// ---- host fallbacks for the SIMD intrinsics -------------------------------------------
#if !QL_ON_DEVICE
// __byte_perm: prmt with 3 of each selector nibble's bits (no sign replicate)
static inline u32 __byte_perm(u32 x, u32 y, u32 s) { return ql_prmt(x, y, s & 0x7777u); }
static inline int __popc(u32 x) { return __builtin_popcount(x); }
#endif

// The 4 bytes of v (values 0..255) as floats minus bias, exactly: __byte_perm builds the bits
// 0x4B0000vv (= 2^23 + vv), one float subtract removes 2^23 + bias. 2 ops per element.
QL_DEV void ql_bytes_to_f32x4(u32 v, float bias, float* out) {
    out[0] = ql_bits_to_f32(__byte_perm(v, 0x4B000000u, 0x7440u)) - (8388608.0f + bias);
    out[1] = ql_bits_to_f32(__byte_perm(v, 0x4B000000u, 0x7441u)) - (8388608.0f + bias);
    out[2] = ql_bits_to_f32(__byte_perm(v, 0x4B000000u, 0x7442u)) - (8388608.0f + bias);
    out[3] = ql_bits_to_f32(__byte_perm(v, 0x4B000000u, 0x7443u)) - (8388608.0f + bias);
}

// ---- whole-chunk float dot (the dmmv fast path) -----------------------------------------
// 16 bytes at p (16-byte aligned) as 4 words, word i = bytes 4i..4i+3, little-endian.
QL_DEV void ql_load_u32x4_a16(const u8* p, u32* out) {
#if QL_ON_DEVICE
    const uint4 v = *(const uint4*)p;  // one 16-byte load
    out[0] = v.x, out[1] = v.y, out[2] = v.z, out[3] = v.w;
#else
    __builtin_memcpy(out, p, 16);
#endif
}

#include "halves.cuh"  // ql_bytes_to_f32x4_h, ql_dot_bytes4_h: the same floats through f16x2 halves

// acc + sum_i f_i x[i], f_i = (1 + u_i / 128) / 2, for a word m whose byte i is u_i < 128: one
// permute builds the bits 0x3F00_0000 | u_i << 16 of f_i (exponent 2^-1, u_i the top 7 mantissa
// bits), so an element costs a permute and a multiply-add, no subtract (ql_bytes_to_f32x4 needs
// one), and the caller's masking of u needs one constant (no exponent bit to set). The caller
// takes sum(x) off once per chunk: sum(u x) = 128 (2 acc - sum(x)). With u = v << s
// (v < 2^(7 - s)) the float is (1 + v / 2^(7 - s)) / 2, and the subtraction cancels about
// log2(2^(7 - s) / mean v) bits (1 to 2 for the types using it).
QL_DEV float ql_dot_unit4(u32 m, const float* x, float acc) {
    acc = fmaf(ql_bits_to_f32(__byte_perm(m, 0x3F000000u, 0x7044u)), x[0], acc);  // bytes 0, 0, m.0, 0x3F
    acc = fmaf(ql_bits_to_f32(__byte_perm(m, 0x3F000000u, 0x7144u)), x[1], acc);
    acc = fmaf(ql_bits_to_f32(__byte_perm(m, 0x3F000000u, 0x7244u)), x[2], acc);
    return fmaf(ql_bits_to_f32(__byte_perm(m, 0x3F000000u, 0x7344u)), x[3], acc);
}

// Sum of n floats (n a multiple of 4), pairwise by 4-element partial sums.
QL_DEV float ql_sum_f32(const float* x, int n) {
    float sum = 0.0f;
    for (int i = 0; i < n; i += 4) sum += (x[i] + x[i + 1]) + (x[i + 2] + x[i + 3]);
    return sum;
}

// ---- dp4a: native where the arch has it, software below sm_61 or when asked ----------
QL_DEV int dp4a(int a, int b, int c) {
#if QL_ON_DEVICE && !defined(QL_SOFT_DP4A)
    return __dp4a(a, b, c);
#else
    return c + (int)(i8)a * (int)(i8)b + (int)(i8)(a >> 8) * (int)(i8)(b >> 8)
             + (int)(i8)(a >> 16) * (int)(i8)(b >> 16) + (int)(i8)(a >> 24) * (int)(i8)(b >> 24);
#endif
}

// The same with a's 4 bytes unsigned (0..255), b's signed: for weights left in place in the high
// nibble of a byte (16 x 0..15), so no shift is needed per word.
QL_DEV int dp4a_us(u32 a, int b, int c) {
#if QL_ON_DEVICE && !defined(QL_SOFT_DP4A)
    int d;
    asm("dp4a.u32.s32 %0, %1, %2, %3;" : "=r"(d) : "r"(a), "r"(b), "r"(c));
    return d;
#else
    return c + (int)(u8)a * (int)(i8)b + (int)(u8)(a >> 8) * (int)(i8)(b >> 8)
             + (int)(u8)(a >> 16) * (int)(i8)(b >> 16) + (int)(u8)(a >> 24) * (int)(i8)(b >> 24);
#endif
}

// ---- activation order (used by matvec.cuh and the host harness) -------------------------
// A type may declare `static void order_q(const int* q, int* out)`: its vec_dot then receives
// the q8_1 words in that order (out = order_q(q)), computed once per chunk and shared by every
// row of a CTA, so that per-row byte shuffles of the weights can be dropped. Without it vec_dot
// gets q as stored (q[i] = elements 4i..4i+3).
template <class...>
struct ql_void_type { typedef void type; };
template <class T, class = void>
struct QlOrderQ { static constexpr bool HAS = false; };
template <class T>
struct QlOrderQ<T, typename ql_void_type<decltype(T::order_q((const int*)0, (int*)0))>::type> {
    static constexpr bool HAS = true;
};
template <class T>
QL_DEV void ql_order_q(const int* q, int* out) {
    if constexpr (QlOrderQ<T>::HAS) {
        T::order_q(q, out);
    } else {
        for (int i = 0; i < 8; ++i) out[i] = q[i];
    }
}

// A type whose vec_dot reads its weights as aligned words may instead declare `static constexpr
// int Q_WORDS` and `static void order_q_at(const int* q, u32 misalign, int* out)` (Q_WORDS words
// out): activations realigned to a block that sits `misalign` bytes past a 4-byte boundary. Its
// vec_dot(blk, ...) then requires q from order_q_at with blk's own misalignment. The mat-vec
// kernels call it once per chunk with row 0's block: every row of a stage or tile sits on a
// 16-byte aligned base at the same offset, so all rows' blocks share that alignment.
template <class T, class = void>
struct QlOrderQAt {
    static constexpr bool HAS = false;
    static constexpr int WORDS = 8;
};
template <class T>
struct QlOrderQAt<T, typename ql_void_type<decltype(T::Q_WORDS)>::type> {
    static constexpr bool HAS = true;
    static constexpr int WORDS = T::Q_WORDS;
};
template <class T>
QL_DEV void ql_order_q_at(const int* q, const u8* blk, int* out) {
    if constexpr (QlOrderQAt<T>::HAS) {
        T::order_q_at(q, (u32)(unsigned long long)blk & 3u, out);
    } else {
        ql_order_q<T>(q, out);
    }
}

// ---- lookup tables in shared memory (used by matvec.cuh) --------------------------------
// A type with lookup tables may declare `static constexpr int SMEM_TABLE_BYTES` (a multiple
// of 4), `static const u8* table_source()` (its global table, 4-byte aligned) and table-taking
// variants `dequant_t(tab, blk, g, out)` / `vec_dot_t(tab, blk, c, q, d, s)`. The mat-vec
// kernels then copy the table into shared memory once per CTA and pass that copy as `tab`
// (scattered per-lane lookups cost bank conflicts there instead of one L1 line each).
template <class T, class = void>
struct QlTables { static constexpr int BYTES = 0; };
template <class T>
struct QlTables<T, typename ql_void_type<decltype(T::SMEM_TABLE_BYTES)>::type> {
    static constexpr int BYTES = T::SMEM_TABLE_BYTES;
    static_assert(BYTES % 4 == 0, "SMEM_TABLE_BYTES must be a multiple of 4");
};
// T's dot / dequant reading its table at tab (ignored by a type without tables).
template <class T>
QL_DEV float ql_vec_dot(const u8* tab, const u8* __restrict__ blk, int c, const int* __restrict__ q, float d,
                        float s) {
    if constexpr (QlTables<T>::BYTES > 0) {
        return T::vec_dot_t(tab, blk, c, q, d, s);
    } else {
        (void)tab;
        return T::vec_dot(blk, c, q, d, s);
    }
}

template <class T>
QL_DEV void ql_dequant(const u8* tab, const u8* __restrict__ blk, int g, float out[8]) {
    if constexpr (QlTables<T>::BYTES > 0) {
        T::dequant_t(tab, blk, g, out);
    } else {
        (void)tab;
        T::dequant(blk, g, out);
    }
}

// The optional forms of dequant (unscaled group + scale, offset, whole-chunk float dot).
#include "dequant_forms.cuh"
