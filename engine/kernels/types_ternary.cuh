// Device functions of the ternary types TQ1_0 and TQ2_0 (docs/ggml-quant-formats.md §2.4).
// ggml's CUDA backend never had them; the design is ours. Weights are t - 1 with t in
// {0, 1, 2} (TQ2_0 also decodes a stored 3 as 2, like gguf); vec_dot takes sum(t*q) with
// dp4a and removes the -1 through s = d * sum(q) (exact: s sums the rounded activations).
#pragma once
#include "common.cuh"

// 3^k for k = 0..4 (the multiplier that brings trit k of a TQ1_0 byte to the top).
QL_DEV u32 tq_pow3(int k) { return (u32)((0x51'1B'09'03'01ull >> (8 * k)) & 0xFFu); }

// Trit k of each of the 4 bytes of w, one per byte, with m = 3^k: ((u8)(b * m) * 3) >> 8.
// Bytes 0, 2 and bytes 1, 3 are multiplied in separate 16-bit lanes so no product spills over.
QL_DEV u32 tq1_trits4(u32 w, u32 m) {
  const u32 even = ((w & 0x00FF00FFu) * m) & 0x00FF00FFu;         // bytes 0, 2 times m, mod 256
  const u32 odd = (((w >> 8) & 0x00FF00FFu) * m) & 0x00FF00FFu;   // bytes 1, 3 times m, mod 256
  return (((even * 3u) >> 8) & 0x00030003u) | ((odd * 3u) & 0x03000300u);  // trits to bytes 0, 2 / 1, 3
}

struct TQ1_0 : QlDequantFromRaw<TQ1_0> {
  // qs[48] @0 (5 trits per byte) | qh[4] @48 (4 trits per byte) | d f16 @52.
  // Element 32k+j <- trit k of qs[j] (j < 32, k < 5); 160+16k+j <- trit k of qs[32+j] (j < 16);
  // 240+4k+j <- trit k of qh[j] (j < 4, k < 4).
  static constexpr int QK = 256, BYTES = 54;
  // Group g (elements 8g..8g+8) unscaled: t - 1 from 4 bytes at a time (tq1_trits4), branch-free
  // (a warp's lanes hold different groups). Returns d.
  static QL_DEV float dequant_raw(const u8* __restrict__ blk, int g, float out[8]) {
    const bool in_qs32 = g < 20, in_qh = g >= 30;
    // bytes of elements 0..3: qs[8(g%4)..] trit g/4; qs[32 + 8((g-20)%2)..] trit (g-20)/2; qh[0..4) trit 2(g-30)
    const int offset = in_qs32 ? 8 * (g & 3) : (in_qh ? 48 : 32 + 8 * (g & 1));
    const int k = in_qs32 ? g >> 2 : (in_qh ? 2 * (g - 30) : (g - 20) >> 1);
    const u32 first = load_u32_a2(blk + offset);                     // elements 0..3
    const u32 second = in_qh ? first : load_u32_a2(blk + offset + 4);  // elements 4..7: the next 4 bytes, or qh again
    ql_bytes_to_f32x4_h(tq1_trits4(first, tq_pow3(k)), 1.0f, out);                      // t - 1
    ql_bytes_to_f32x4_h(tq1_trits4(second, tq_pow3(in_qh ? k + 1 : k)), 1.0f, out + 4);  // qh: the next trit
    return f16_to_f32(load_u16(blk + 52));
  }
  static QL_DEV float vec_dot(const u8* __restrict__ blk, int c, const int* __restrict__ q, float d, float s) {
    // Elements 0..15 / 16..31 of chunk c: chunks 0..4 read qs[0..32) trit c; chunks 5..7 read
    // qs[32..48) trits 2(c-5) and 2(c-5)+1, except chunk 7's second half: qh trits 0..3.
    const bool wide = c < 5;
    const int k_first = wide ? c : 2 * (c - 5);
    int sumi = 0;
    for (int i = 0; i < 8; ++i) {
      const bool second = i >= 4;
      const bool from_qh = !wide && second && c == 7;
      const int offset = wide ? 4 * i : (from_qh ? 48 : 32 + 4 * (i & 3));  // (4,) bytes of elements 4i..4i+3
      const int k = from_qh ? i - 4 : k_first + ((second && !wide) ? 1 : 0);
      sumi = dp4a((int)tq1_trits4(load_u32_a2(blk + offset), tq_pow3(k)), q[i], sumi);
    }
    return f16_to_f32(load_u16(blk + 52)) * (d * (float)sumi - s);
  }
};

struct TQ2_0 {
  // qs[64] @0 | d f16 @64. Element 128n+32k+l <- bits 2k..2k+1 of qs[32n+l] (n < 2, k < 4, l < 32).
  static constexpr int QK = 256, BYTES = 66;
  static QL_DEV void dequant(const u8* __restrict__ blk, int g, float out[8]) {
    const u8* bytes = blk + 32 * (g >> 4) + 8 * (g & 3);  // (8,) bytes of elements 8g..8g+7
    const int shift = 2 * ((g >> 2) & 3);
    const float d = f16_to_f32(load_u16(blk + 64));
    ql_bytes_to_f32x4_h((load_u32_a2(bytes) >> shift) & 0x03030303u, 1.0f, out);          // q - 1, elements 0..3
    ql_bytes_to_f32x4_h((load_u32_a2(bytes + 4) >> shift) & 0x03030303u, 1.0f, out + 4);  // q - 1, elements 4..7
    for (int j = 0; j < 8; ++j) out[j] *= d;
  }
  static QL_DEV float vec_dot(const u8* __restrict__ blk, int c, const int* __restrict__ q, float d, float s) {
    u32 qs[8];  // qs[32(c / 4) ..+32): chunk c in bit pair c % 4 of each byte (aligned loads)
    load_u32s_a2<8>(blk + 32 * (c >> 2), qs);
    const int shift = 2 * (c & 3);
    const u32 mask = 0x03030303u << shift;  // the pair left in place (unsigned bytes: 4^(c % 4) x value)
    int sumi = 0;
    for (int i = 0; i < 8; ++i) sumi = dp4a_us(qs[i] & mask, q[i], sumi);  // elements 4i..4i+3
    sumi >>= shift;  // exact: a multiple of 4^(c % 4)
    return f16_to_f32(load_u16(blk + 64)) * (d * (float)sumi - s);
  }
};
