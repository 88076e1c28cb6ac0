// Float weights as pseudo-blocks of 32 elements, so the dmmv kernel doubles as the float
// mat-vec. Only dequant is defined (float weights never take the q8_1 path).
// Rows are zero-padded to a multiple of 32 elements by upload_weight.
#pragma once
#include "common.cuh"

struct F32 {
    static constexpr int QK = 32, BYTES = 128;  // f32[32]
    static QL_DEV void dequant(const u8* __restrict__ blk, int g, float out[8]) {
        const float* v = (const float*)(blk + 32 * g);  // elements 8g..8g+8, 16-byte aligned
        for (int e = 0; e < 8; ++e) out[e] = v[e];
    }
};

struct F16 {
    static constexpr int QK = 32, BYTES = 64;  // f16[32]
    static QL_DEV void dequant(const u8* __restrict__ blk, int g, float out[8]) {
        for (int i = 0; i < 4; ++i) {
            const u32 pair = load_u32_a4(blk + 16 * g + 4 * i);  // elements 8g+2i, 8g+2i+1
            out[2 * i] = f16_to_f32((u16)(pair & 0xFFFFu));
            out[2 * i + 1] = f16_to_f32((u16)(pair >> 16));
        }
    }
};

struct BF16 {
    static constexpr int QK = 32, BYTES = 64;  // bf16[32]
    static QL_DEV void dequant(const u8* __restrict__ blk, int g, float out[8]) {
        for (int i = 0; i < 4; ++i) {
            const u32 pair = load_u32_a4(blk + 16 * g + 4 * i);  // elements 8g+2i, 8g+2i+1
            out[2 * i] = ql_bits_to_f32(pair << 16);
            out[2 * i + 1] = ql_bits_to_f32(pair & 0xFFFF0000u);
        }
    }
};
