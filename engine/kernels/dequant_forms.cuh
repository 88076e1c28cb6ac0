// Optional forms of a type's dequant that the dmmv kernels use where a type declares them
// (detected at compile time, like the hooks of common.cuh): the group unscaled plus its scale
// (and offset), and the whole-chunk float dot. Included at the end of common.cuh, so the type
// headers see it through common.cuh alone.
#pragma once
#include "common.cuh"

// Optional: a type whose group of 8 has one scale may declare
//   static QL_DEV float dequant_raw(const u8* __restrict__ blk, int g, float out[8]);
// writing the group unscaled and returning the scale: dequant's out[e] = out[e] * scale (the
// type then takes its dequant from QlDequantFromRaw<T>). The 1-column dmmv dots
// the unscaled values with x and applies the scale once per group (one multiply instead of 8).
template <class T, class = void>
struct QlDequantRaw { static constexpr bool HAS = false; };
template <class T>
struct QlDequantRaw<T, typename ql_void_type<decltype(T::dequant_raw((const u8*)0, 0, (float*)0))>::type> {
    static constexpr bool HAS = true;
};

// Optional with dequant_raw, for a group of the form scale * v + offset (Q4_1: d * q + m):
//   static QL_DEV float dequant_offset(const u8* __restrict__ blk, int g);
// The 1-column dmmv then adds offset * sum(x) once per group and row, sum(x) once per group.
template <class T, class = void>
struct QlDequantOffset { static constexpr bool HAS = false; };
template <class T>
struct QlDequantOffset<T, typename ql_void_type<decltype(T::dequant_offset((const u8*)0, 0))>::type> {
    static constexpr bool HAS = true;
};

// A type with dequant_raw gets its dequant by deriving from QlDequantFromRaw<T>: the
// group unscaled, then times its scale, plus its offset where it has one (fused: one rounding;
// the one place that rule is written).
template <class T>
struct QlDequantFromRaw {
    static QL_DEV void dequant(const u8* __restrict__ blk, int g, float out[8]) {
        const float scale = T::dequant_raw(blk, g, out);
        if constexpr (QlDequantOffset<T>::HAS) {
            const float offset = T::dequant_offset(blk, g);
            for (int e = 0; e < 8; ++e) out[e] = fmaf(out[e], scale, offset);
        } else {
            for (int e = 0; e < 8; ++e) out[e] *= scale;
        }
    }
};

// T's group offset where it declares dequant_offset, else 0.
template <class T>
QL_DEV float ql_dequant_offset(const u8* __restrict__ blk, int g) {
    if constexpr (QlDequantOffset<T>::HAS) {
        return T::dequant_offset(blk, g);
    } else {
        (void)blk, (void)g;
        return 0.0f;
    }
}

// T's group g unscaled and its scale where T declares dequant_raw, else dequant's values and 1.
template <class T>
QL_DEV float ql_dequant_split(const u8* tab, const u8* __restrict__ blk, int g, float out[8]) {
    if constexpr (QlDequantRaw<T>::HAS) {
        static_assert(QlTables<T>::BYTES == 0, "dequant_raw reads no staged table");
        (void)tab;
        return T::dequant_raw(blk, g, out);
    } else {
        ql_dequant<T>(tab, blk, g, out);
        return 1.0f;
    }
}

// Optional: a type may declare
//   static QL_DEV float dot_f32(const u8* __restrict__ blk, int c, const float* __restrict__ x);
// = sum_j dequant(w)_j * x[j] over the 32 elements [32c, 32c+32) of one block (x: those 32
// floats, in registers in dmmv), decoding scales once per chunk. The 1-column dmmv kernel uses
// it when T has one (else its four-dequant-group path). ql_dot_f32<T> = T::dot_f32 when T has
// it, else four dequant groups (the host harness checks both against float64). Declared only
// where it measured faster on an H100 (Q3_K, Q4_K, Q5_K, IQ4_NL, IQ4_XS, MXFP4); Q2_K, Q6_K
// and the legacy types were slower.
template <class T, class = void>
struct QlDotF32 { static constexpr bool HAS = false; };
template <class T>
struct QlDotF32<T, typename ql_void_type<decltype(T::dot_f32((const u8*)0, 0, (const float*)0))>::type> {
    static constexpr bool HAS = true;
};

// A type whose dot_f32 pays only with x in registers (rows of one tile) declares
//   static constexpr bool DOT_F32_X_IN_REGISTERS_ONLY = true;
// and its plain 1-column kernel (longer rows, x loaded per chunk) keeps the four dequant groups
// (IQ4_NL: 38.2 % of copy with them, 37.0 % with dot_f32 at 4096 x 14336 on an H100).
template <class T, class = void>
struct QlDotF32Plain { static constexpr bool HAS = QlDotF32<T>::HAS; };
template <class T>
struct QlDotF32Plain<T, typename ql_void_type<decltype(T::DOT_F32_X_IN_REGISTERS_ONLY)>::type> {
    static constexpr bool HAS = QlDotF32<T>::HAS && !T::DOT_F32_X_IN_REGISTERS_ONLY;
};

template <class T>
QL_DEV float ql_dot_f32(const u8* tab, const u8* __restrict__ blk, int c, const float* __restrict__ x) {
    if constexpr (QlDotF32<T>::HAS) {
        (void)tab;
        return T::dot_f32(blk, c, x);
    } else {
        float sum = 0.0f;
        for (int g = 0; g < 4; ++g) {
            float wv[8];  // elements 32c + 8g .. +8
            ql_dequant<T>(tab, blk, 4 * c + g, wv);
            for (int e = 0; e < 8; ++e) sum += wv[e] * x[8 * g + e];
        }
        return sum;
    }
}
