// Float weights as pseudo-blocks of 32 elements, so the dmmv kernel doubles as the float
// mat-vec. Only dequant is defined (float weights never take the q8_1 path).
// Rows are zero-padded to a multiple of 32 elements by upload_weight.
#pragma once
#include "common.cuh"

struct F32 {
    static constexpr int QK = 32, BYTES = 128;  // f32[32]
    static QL_DEV void dequant(const u8* __restrict__ blk, int g, float out[8]) {
        u32 bits[8];  // elements 8g..8g+8: two 16-byte loads (aligned)
        ql_load_u32x4_a16(blk + 32 * g, bits);
        ql_load_u32x4_a16(blk + 32 * g + 16, bits + 4);
        for (int e = 0; e < 8; ++e) out[e] = ql_bits_to_f32(bits[e]);
    }
};

struct F16 {
    static constexpr int QK = 32, BYTES = 64;  // f16[32]
    static QL_DEV void dequant(const u8* __restrict__ blk, int g, float out[8]) {
        u32 words[4];  // elements 8g..8g+8: one 16-byte load (aligned)
        ql_load_u32x4_a16(blk + 16 * g, words);
        for (int i = 0; i < 4; ++i) {
            const u32 pair = words[i];  // elements 8g+2i, 8g+2i+1
            out[2 * i] = f16_to_f32((u16)(pair & 0xFFFFu));
            out[2 * i + 1] = f16_to_f32((u16)(pair >> 16));
        }
    }
};

struct BF16 {
    static constexpr int QK = 32, BYTES = 64;  // bf16[32]
    static QL_DEV void dequant(const u8* __restrict__ blk, int g, float out[8]) {
        u32 words[4];  // elements 8g..8g+8: one 16-byte load (aligned)
        ql_load_u32x4_a16(blk + 16 * g, words);
        for (int i = 0; i < 4; ++i) {
            const u32 pair = words[i];  // elements 8g+2i, 8g+2i+1
            out[2 * i] = ql_bits_to_f32(pair << 16);
            out[2 * i + 1] = ql_bits_to_f32(pair & 0xFFFF0000u);
        }
    }
};
