// Legacy 32-element block types: dequant + vec_dot (interface: see common.cuh).
#pragma once
#include "common.cuh"

// Bit 4 of each byte of the result = bit (first + byte) of qh, for the 4 bytes.
// One carry-free multiply: bit k of the nibble goes to bits 4 + k + 7i (i = 0..3, all distinct), of
// which bit 8k + 4 (i = k) is kept.
QL_DEV u32 ql_qh_bit4(u32 qh, int first) { return (((qh >> first) & 15u) * 0x02040810u) & 0x10101010u; }

struct Q4_0 : QlDequantFromRaw<Q4_0> {
    static constexpr int QK = 32, BYTES = 18;  // d f16 @0 | qs[16] @2
    static QL_DEV float dequant_raw(const u8* __restrict__ blk, int g, float out[8]) {
        const u8* qs = blk + 2 + 8 * (g & 1);  // qs[8(g%2) .. +8): low nibbles for g < 2, high after
        const int shift = (g >> 1) * 4;
        ql_bytes_to_f32x4((load_u32_a2(qs) >> shift) & 0x0F0F0F0Fu, 8.0f, out);
        ql_bytes_to_f32x4((load_u32_a2(qs + 4) >> shift) & 0x0F0F0F0Fu, 8.0f, out + 4);
        return f16_to_f32(load_u16(blk));
    }
    static QL_DEV float vec_dot(const u8* __restrict__ blk, int, const int* __restrict__ q, float d, float s) {
        u32 qs[4];
        load_u32s_a2<4>(blk + 2, qs);  // qs[4i..4i+4) in word i: elements 4i.. and 16+4i..
        int sum_lo = 0, sum_hi16 = 0;  // high nibbles stay in place: 16 x their dot
        for (int i = 0; i < 4; ++i) {
            sum_lo = dp4a((int)(qs[i] & 0x0F0F0F0Fu), q[i], sum_lo);
            sum_hi16 = dp4a_us(qs[i] & 0xF0F0F0F0u, q[i + 4], sum_hi16);
        }
        const int sumi = sum_lo + (sum_hi16 >> 4);  // exact: sum_hi16 is a multiple of 16
        return f16_to_f32(load_u16(blk)) * (d * (float)sumi - 8.0f * s);
    }
};

struct Q4_1 : QlDequantFromRaw<Q4_1> {
    static constexpr int QK = 32, BYTES = 20;  // d f16 @0 | m f16 @2 | qs[16] @4
    static QL_DEV float dequant_raw(const u8* __restrict__ blk, int g, float out[8]) {  // q; value = d q + m
        const u8* qs = blk + 4 + 8 * (g & 1);  // qs[8(g%2) .. +8)
        const int shift = (g >> 1) * 4;
        ql_bytes_to_f32x4((load_u32_a4(qs) >> shift) & 0x0F0F0F0Fu, 0.0f, out);
        ql_bytes_to_f32x4((load_u32_a4(qs + 4) >> shift) & 0x0F0F0F0Fu, 0.0f, out + 4);
        return f16_to_f32(load_u16(blk));
    }
    static QL_DEV float dequant_offset(const u8* __restrict__ blk, int) { return f16_to_f32(load_u16(blk + 2)); }
    static QL_DEV float vec_dot(const u8* __restrict__ blk, int, const int* __restrict__ q, float d, float s) {
        int sum_lo = 0, sum_hi16 = 0;  // high nibbles stay in place: 16 x their dot
        for (int i = 0; i < 4; ++i) {
            const u32 v = load_u32_a4(blk + 4 + 4 * i);  // qs[4i..4i+4)
            sum_lo = dp4a((int)(v & 0x0F0F0F0Fu), q[i], sum_lo);
            sum_hi16 = dp4a_us(v & 0xF0F0F0F0u, q[i + 4], sum_hi16);
        }
        const int sumi = sum_lo + (sum_hi16 >> 4);  // exact: sum_hi16 is a multiple of 16
        return f16_to_f32(load_u16(blk)) * d * (float)sumi + f16_to_f32(load_u16(blk + 2)) * s;
    }
};

struct Q5_0 : QlDequantFromRaw<Q5_0> {
    static constexpr int QK = 32, BYTES = 22;  // d f16 @0 | qh u32 @2 | qs[16] @6
    static QL_DEV float dequant_raw(const u8* __restrict__ blk, int g, float out[8]) {
        const u32 qh = load_u32_a2(blk + 2);
        const u8* qs = blk + 6 + 8 * (g & 1);  // qs[8(g%2) .. +8)
        const int shift = (g >> 1) * 4;
        ql_bytes_to_f32x4_h(((load_u32_a2(qs) >> shift) & 0x0F0F0F0Fu) | ql_qh_bit4(qh, 8 * g), 16.0f, out);
        ql_bytes_to_f32x4_h(((load_u32_a2(qs + 4) >> shift) & 0x0F0F0F0Fu) | ql_qh_bit4(qh, 8 * g + 4), 16.0f, out + 4);
        return f16_to_f32(load_u16(blk));
    }
    static QL_DEV float vec_dot(const u8* __restrict__ blk, int, const int* __restrict__ q, float d, float s) {
        const u32 qh = load_u32_a2(blk + 2);
        int sumi = 0;
        for (int i = 0; i < 4; ++i) {
            const u32 v = load_u32_a2(blk + 6 + 4 * i);  // qs[4i..4i+4)
            sumi = dp4a((int)((v & 0x0F0F0F0Fu) | ql_qh_bit4(qh, 4 * i)), q[i], sumi);
            sumi = dp4a((int)(((v >> 4) & 0x0F0F0F0Fu) | ql_qh_bit4(qh, 16 + 4 * i)), q[i + 4], sumi);
        }
        return f16_to_f32(load_u16(blk)) * (d * (float)sumi - 16.0f * s);
    }
};

struct Q5_1 {
    static constexpr int QK = 32, BYTES = 24;  // d f16 @0 | m f16 @2 | qh u32 @4 | qs[16] @8
    static QL_DEV void dequant(const u8* __restrict__ blk, int g, float out[8]) {
        const u32 qh = load_u32_a4(blk + 4);
        const u8* qs = blk + 8 + 8 * (g & 1);  // qs[8(g%2) .. +8)
        const int shift = (g >> 1) * 4;
        ql_bytes_to_f32x4(((load_u32_a4(qs) >> shift) & 0x0F0F0F0Fu) | ql_qh_bit4(qh, 8 * g), 0.0f, out);
        ql_bytes_to_f32x4(((load_u32_a4(qs + 4) >> shift) & 0x0F0F0F0Fu) | ql_qh_bit4(qh, 8 * g + 4), 0.0f, out + 4);
        const float d = f16_to_f32(load_u16(blk)), m = f16_to_f32(load_u16(blk + 2));
        for (int e = 0; e < 8; ++e) out[e] = d * out[e] + m;
    }
    static QL_DEV float vec_dot(const u8* __restrict__ blk, int, const int* __restrict__ q, float d, float s) {
        const u32 qh = load_u32_a4(blk + 4);
        int sumi = 0;
        for (int i = 0; i < 4; ++i) {
            const u32 v = load_u32_a4(blk + 8 + 4 * i);  // qs[4i..4i+4)
            sumi = dp4a((int)((v & 0x0F0F0F0Fu) | ql_qh_bit4(qh, 4 * i)), q[i], sumi);
            sumi = dp4a((int)(((v >> 4) & 0x0F0F0F0Fu) | ql_qh_bit4(qh, 16 + 4 * i)), q[i + 4], sumi);
        }
        return f16_to_f32(load_u16(blk)) * d * (float)sumi + f16_to_f32(load_u16(blk + 2)) * s;
    }
};

struct Q8_0 : QlDequantFromRaw<Q8_0> {
    static constexpr int QK = 32, BYTES = 34;  // d f16 @0 | qs int8[32] @2
    static QL_DEV float dequant_raw(const u8* __restrict__ blk, int g, float out[8]) {
        const u8* qs = blk + 2 + 8 * g;  // int8 elements 8g..8g+8; ^0x80 makes them unsigned (+128)
        ql_bytes_to_f32x4_h(load_u32_a2(qs) ^ 0x80808080u, 128.0f, out);
        ql_bytes_to_f32x4_h(load_u32_a2(qs + 4) ^ 0x80808080u, 128.0f, out + 4);
        return f16_to_f32(load_u16(blk));
    }
    static QL_DEV float vec_dot(const u8* __restrict__ blk, int, const int* __restrict__ q, float d, float) {
        u32 qs[8];
        load_u32s_a2<8>(blk + 2, qs);  // qs[4i..4i+4) in word i
        int sumi = 0;
        for (int i = 0; i < 8; ++i) sumi = dp4a((int)qs[i], q[i], sumi);
        return f16_to_f32(load_u16(blk)) * d * (float)sumi;
    }
};
