// Device functions of MXFP4 (docs/ggml-quant-formats.md §2.1): 32 elements, an E8M0 exponent
// and 16 bytes of E2M1 nibbles (byte aligned: 17-byte blocks) looked up in kvalues_fp4
// (doubled values, hence the half scale).
#pragma once
#include "common.cuh"
#include "tables.cuh"

// 2^(e - 128) as float (E8M0 times 0.5): e >= 2 is a normal float, e < 2 a subnormal.
// Exact bit patterns, no multiply (so no flush-to-zero question for e < 2).
QL_DEV float fp4_e8m0_half(u32 e) { return ql_bits_to_f32(e < 2u ? 0x00200000u << e : (e - 1u) << 23); }

struct MXFP4 : QlDequantFromRaw<MXFP4> {
  // e u8 @0 | qs[16] @1: element j = kvalues_fp4[low nibble of qs[j]], element 16+j = high nibble
  static constexpr int QK = 32, BYTES = 17;
  static QL_DEV float dequant_raw(const u8* __restrict__ blk, int g, float out[8]) {
    const u8* bytes = blk + 1 + 8 * (g & 1);  // (8,) bytes holding elements 8g..8g+7 (any alignment)
    ql_kv16_dequant8<64>(load_u32_a1(bytes), load_u32_a1(bytes + 4), g >> 1, kvalues_fp4_biased, out);
    return fp4_e8m0_half(blk[0]);
  }
  static QL_DEV float vec_dot(const u8* __restrict__ blk, int c, const int* __restrict__ q, float d, float s) {
    (void)c, (void)s;
    u32 words[4];
    load_u32s_a1<4>(blk + 1, words);  // qs[0..16) as 4 words (blk: any alignment, in a padded tile)
    const int sumi = ql_kv16_dot32_ordered(words, kvalues_fp4_dot, q);
    return fp4_e8m0_half(blk[0]) * d * (float)sumi;
  }
  static QL_DEV void order_q(const int* q, int* out) { ql_kv16_order_q(q, out); }
  // dmmv's whole-chunk float dot: the 16 bytes as 4 aligned-load words (not 16 byte loads), the
  // table looked up straight from their nibbles (no selector), the scale once per chunk.
  static QL_DEV float dot_f32(const u8* __restrict__ blk, int c, const float* __restrict__ x) {
    (void)c;
    u32 qs[4];
    load_u32s_a1<4>(blk + 1, qs);  // qs[0..16): word i byte k = elements 4i + k (low nibble), 16 + 4i + k (high)
    float sums[2] = {0.0f, 0.0f};  // two float chains
    for (int i = 0; i < 4; ++i) {
      u32 t[2];  // t[h] = 2 e + 64 of nibbles 4h..4h+3 of qs[i]
      ql_kv16_lookup8<true>(qs[i], kvalues_fp4_biased, t);
      for (int h = 0; h < 2; ++h) {
        const int j = 4 * i + 2 * h;
        const float xs[4] = {x[j], x[16 + j], x[j + 1], x[17 + j]};  // t[h]'s elements j, 16 + j, j + 1, 17 + j
        sums[h] = ql_dot_bytes4_h(t[h], 64.0f, xs, sums[h]);
      }
    }
    return fp4_e8m0_half(blk[0]) * (sums[0] + sums[1]);
  }
};
