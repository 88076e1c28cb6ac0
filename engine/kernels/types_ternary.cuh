// Device functions of the ternary types TQ1_0 and TQ2_0 (docs/ggml-quant-formats.md §2.4).
// ggml's CUDA backend never had them; the design is ours. Weights are t - 1 with t in
// {0, 1, 2} (TQ2_0 also decodes a stored 3 as 2, like gguf); vec_dot takes sum(t*q) with
// dp4a and removes the -1 through s = d * sum(q) (exact: s sums the rounded activations).
#pragma once
#include "common.cuh"

// 3^k for k = 0..4 (the multiplier that brings trit k of a TQ1_0 byte to the top).
QL_DEV u32 tq_pow3(int k) { return (u32)((0x51'1B'09'03'01ull >> (8 * k)) & 0xFFu); }

// Trit k of each of the 4 bytes of w, one per byte, with m = 3^k: ((u8)(b * m) * 3) >> 8.
// Bytes 0, 2 and bytes 1, 3 go through separate 16-bit lanes (no product spills over): a lane
// keeps (b * m) mod 256 and triples it, so its high byte is the trit; one permute gathers the
// four high bytes.
QL_DEV u32 tq1_trits4(u32 w, u32 m) {
  const u32 even = (((w & 0x00FF00FFu) * m) & 0x00FF00FFu) * 3u;           // lanes: bytes 0, 2
  const u32 odd = ((ql_prmt(w, 0u, 0x4341u) * m) & 0x00FF00FFu) * 3u;     // lanes: bytes 1, 3 (moved down)
  return ql_prmt(even, odd, 0x7351u);                                      // high bytes: trits of bytes 0..3
}

// The ternary vec_dots read their words with load_u32s_at2: q comes from order_q_at, as stored
// plus the block's misalignment (q[8]), computed once per chunk for every row.
constexpr int TQ_Q_WORDS = 9;
QL_DEV void tq_order_q_at(const int* q, u32 misalign, int* out) {
  for (int i = 0; i < 8; ++i) out[i] = q[i];  // elements 4i..4i+3
  out[8] = (int)(misalign & 2u);
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
  static constexpr int Q_WORDS = TQ_Q_WORDS;  // q: from order_q_at
  static QL_DEV void order_q_at(const int* q, u32 misalign, int* out) { tq_order_q_at(q, misalign, out); }
  static QL_DEV float vec_dot(const u8* __restrict__ blk, int c, const int* __restrict__ q, float d, float s) {
    // Half h (elements 16h..16h+15) of chunk c: 4 words of one trit, read as aligned words
    // (load_u32s_at2). Chunks 0..4: qs[16h..16h+16) trit c; chunks 5, 6: qs[32..48) trit
    // 2(c-5)+h; chunk 7: qs[32..48) trit 4, then the qh word with trit j for word j.
    const bool wide = c < 5, last = c == 7;
    const u32 misalign = (u32)q[TQ_Q_WORDS - 1];
    u32 lo[4], hi[4];
    load_u32s_at2<4>(blk + (wide ? 0 : 32), misalign, lo);              // (4,) words of half 0
    load_u32s_at2<4>(blk + (wide ? 16 : (last ? 36 : 32)), misalign, hi);  // half 1; chunk 7: hi[3] = qh
    const int k_lo = wide ? c : (last ? 4 : 2 * (c - 5)), k_hi = wide ? c : 2 * (c - 5) + 1;
    int sumi = 0;
    for (int j = 0; j < 4; ++j) sumi = dp4a_us(tq1_trits4(lo[j], tq_pow3(k_lo)), q[j], sumi);  // elements 4j..
    for (int j = 0; j < 4; ++j) {
      const u32 word = last ? hi[3] : hi[j];
      sumi = dp4a_us(tq1_trits4(word, tq_pow3(last ? j : k_hi)), q[4 + j], sumi);  // elements 16 + 4j..
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
  static constexpr int Q_WORDS = TQ_Q_WORDS;  // q: from order_q_at
  static QL_DEV void order_q_at(const int* q, u32 misalign, int* out) { tq_order_q_at(q, misalign, out); }
  static QL_DEV float vec_dot(const u8* __restrict__ blk, int c, const int* __restrict__ q, float d, float s) {
    u32 qs[8];  // qs[32(c / 4) ..+32): chunk c in bit pair c % 4 of each byte (aligned loads)
    load_u32s_at2<8>(blk + 32 * (c >> 2), (u32)q[TQ_Q_WORDS - 1], qs);
    const int shift = 2 * (c & 3);
    const u32 mask = 0x03030303u << shift;  // the pair left in place (unsigned bytes: 4^(c % 4) x value)
    int sumi = 0;
    for (int i = 0; i < 8; ++i) sumi = dp4a_us(qs[i] & mask, q[i], sumi);  // elements 4i..4i+3
    sumi >>= shift;  // exact: a multiple of 4^(c % 4)
    return f16_to_f32(load_u16(blk + 64)) * (d * (float)sumi - s);
  }
};
