// Shared helpers of the I-quant device functions (types_iq.cuh): sign bits (masks, sign
// sources, IQ2 selector nibbles), the signed dot of grid values, the IQ2 and IQ1 permute
// decoders, the kvalues lookups and the table base of the grid types.
#pragma once
#include "common.cuh"
#include "tables.cuh"

// The 8 sign bits of a group with 7 stored bits: bit 7 makes the number of negations even.
QL_DEV u32 iq_ksigns(u32 s7) { return s7 | (((u32)__popc(s7) & 1u) << 7); }

// Byte masks of sign bits: 0xFF in byte j where bit j (lo: bits 0..3, hi: bits 4..7) of
// signs8 is set. A carry-free multiply moves bit j to the top bit of byte j, then the sign-
// replicating permute fills each byte from it: 2 ops and a multiply per word.
QL_DEV u32 iq_sign_mask_lo(u32 signs8) { return ql_prmt((signs8 & 0x0Fu) * 0x10204080u, 0u, 0xBA98u); }
QL_DEV u32 iq_sign_mask_hi(u32 signs8) { return ql_prmt((signs8 & 0xF0u) * 0x01020408u, 0u, 0xBA98u); }

// The 8 sign bits of a group as one multiplier source: bits 0..6 = signs of values 0..6, bit
// 28 = the sign of value 7. Each multiply below moves all 8 to their places at once: the
// partial products of bits 0..6 are 7 bits apart (no carries between them), and bit 28 lands
// at the top (bit 30 or 31) or falls off the word (checked for every input in
// tests/kernels/test_iq_sign_bits.py). 7 stored bits s7 (< 128): value 7's sign is their
// parity, so popc(s7) << 28 (its bits 1, 2 land outside every mask, or off the word).
QL_DEV u32 iq_sign_source7(u32 s7) {
#if QL_ON_DEVICE
  u32 src;
  asm("mad.lo.u32 %0, %1, 0x10000000, %2;" : "=r"(src) : "r"((u32)__popc(s7)), "r"(s7));  // one IMAD, not a shift and an insert
  return src;
#else
  return s7 + ((u32)__popc(s7) << 28);
#endif
}
// 8 stored bits s8 (< 256): bit 7 copied to bit 28 (s8 + s8 << 21), then bits 7..27 cleared.
QL_DEV u32 iq_sign_source8(u32 s8) { return (s8 * 0x00200001u) & 0x1000007Fu; }
// Byte masks of a sign source (lo: values 0..3, hi: values 4..7), as iq_sign_mask_lo / _hi.
QL_DEV u32 iq_source_mask_lo(u32 src) { return ql_prmt(src * 0x10204080u, 0u, 0xBA98u); }  // bit j -> 8j + 7
QL_DEV u32 iq_source_mask_hi(u32 src) { return ql_prmt(src * 0x00020408u, 0u, 0xBA98u); }  // 4 + j -> 8j + 7, 28 -> 31

// A dot of sign-flipped int8 grid values, as two sums: (g ^ m) - m negates the bytes of g
// flagged in mask m, so the dot is dp4a(g ^ m, q) - dp4a(m, q); the second term is summed
// apart and subtracted once (value()), not per group.
struct IqSignedSum {
  int xored = 0, masks = 0;
  QL_DEV int value() const { return xored - masks; }
};

// Adds one group of 8 grid values (g_lo: elements 0..3, g_hi: 4..7; bytes in 0..127), the
// bytes flagged in masks m_lo / m_hi negated, dotted with q[0], q[1].
QL_DEV void iq_dot8_masked(u32 g_lo, u32 g_hi, u32 m_lo, u32 m_hi, const int* q, IqSignedSum& sum) {
  sum.xored = dp4a((int)(g_lo ^ m_lo), q[0], sum.xored);  // elements 0..3
  sum.xored = dp4a((int)(g_hi ^ m_hi), q[1], sum.xored);  // elements 4..7
  sum.masks = dp4a((int)m_lo, q[0], sum.masks);
  sum.masks = dp4a((int)m_hi, q[1], sum.masks);
}

// The same with 8 stored sign bits (bits above 7 ignored).
QL_DEV void iq_dot8(u32 g_lo, u32 g_hi, u32 signs8, const int* q, IqSignedSum& sum) {
  iq_dot8_masked(g_lo, g_hi, iq_sign_mask_lo(signs8), iq_sign_mask_hi(signs8), q, sum);
}

// The same with 7 stored sign bits s7 (< 128), bit 7 being their parity (iq_ksigns).
QL_DEV void iq_dot8_ksigns(u32 g_lo, u32 g_hi, u32 s7, const int* q, IqSignedSum& sum) {
  const u32 src = iq_sign_source7(s7);
  iq_dot8_masked(g_lo, g_hi, iq_source_mask_lo(src), iq_source_mask_hi(src), q, sum);
}

// Dequantize one group of 8 grid values with sign bits signs8 and group scale dl: the bytes
// become exact floats with byte permutes (no I2F), the sign bit is xored into bit 31.
QL_DEV void iq_dequant8(u32 g_lo, u32 g_hi, u32 signs8, float dl, float out[8]) {
  float values[8];
  ql_bytes_to_f32x4_h(g_lo, 0.0f, values);      // values[0..4) = bytes of g_lo (elements 0..3)
  ql_bytes_to_f32x4_h(g_hi, 0.0f, values + 4);  // values[4..8) = bytes of g_hi (elements 4..7)
  for (int j = 0; j < 8; ++j) {
    out[j] = ql_bits_to_f32(ql_f32_to_bits(dl * values[j]) ^ (((signs8 >> j) & 1u) << 31));  // sign bit j
  }
}

// IQ2 grids are permute selectors (tables.cuh: iq2*_sel): nibble n holds the code (0..2) of
// value IQ2_VALUE[n] of the group, and the signs go into bit 2 of the nibbles, so one permute
// of iq2_values gives 4 signed int8 weights: no sign masks, no second dot for them. The
// weights come out in the order IQ2_VALUE, which iq2_order_q gives the activations too.
constexpr int IQ2_VALUE[8] = {0, 4, 1, 5, 2, 6, 3, 7};  // value of nibble n (tables.py: IQ2_NIBBLE_VALUE)

// Sign bits of a group at bit 2 of their values' nibbles, from a sign source (iq_sign_source*):
// one multiply (partial products at shifts 2, 9, 16, 23) moves bit m (m < 4) to 8m + 2 (nibble
// 2m), bit 4 + m (m < 3) to 8m + 6 (nibble 2m + 1) and bit 28 to 30 (nibble 7); the rest of the
// product misses the mask.
QL_DEV u32 iq2_sign_nibbles(u32 src) { return (src * 0x00810204u) & 0x44444444u; }
QL_DEV u32 iq2_sign_nibbles8(u32 signs8) { return iq2_sign_nibbles(iq_sign_source8(signs8)); }  // signs8 < 256
QL_DEV u32 iq2_ksign_nibbles(u32 s7) { return iq2_sign_nibbles(iq_sign_source7(s7)); }         // s7 < 128, parity

// Dot of one group (selector sel, signs from iq2_sign_nibbles*) with q[0], q[1] in the order
// of iq2_order_q (values 0, 4, 1, 5 / 2, 6, 3, 7), added to sum.
QL_DEV int iq2_dot8(u32 sel, u32 sign_nibbles, const int* q, int sum) {
  const u32 s = sel | sign_nibbles;                                   // nibble n: code + 4 * sign of value IQ2_VALUE[n]
  sum = dp4a((int)ql_prmt(iq2_values[0], iq2_values[1], s), q[0], sum);        // values 0, 4, 1, 5
  return dp4a((int)ql_prmt(iq2_values[0], iq2_values[1], s >> 16), q[1], sum);  // values 2, 6, 3, 7
}

// q8_1 words of a chunk in the order of the IQ2 weights: per group l, out[2l] = elements
// (0, 4, 1, 5) and out[2l+1] = (2, 6, 3, 7) of the group's 8.
QL_DEV void iq2_order_q(const int* q, int* out) {
  for (int l = 0; l < 4; ++l) {
    out[2 * l] = (int)ql_prmt((u32)q[2 * l], (u32)q[2 * l + 1], 0x5140u);      // elements 8l + 0, 4, 1, 5
    out[2 * l + 1] = (int)ql_prmt((u32)q[2 * l], (u32)q[2 * l + 1], 0x7362u);  // elements 8l + 2, 6, 3, 7
  }
}

// Dequantize one group (selector sel, signs from iq2_sign_nibbles*): the same permute as
// iq2_dot8 gives the 8 signed int8 weights, ^ 0x80 makes them unsigned for the float
// conversion, and the weights come out in the order IQ2_VALUE. No per-value sign ops.
QL_DEV void iq2_dequant8(u32 sel, u32 sign_nibbles, float dl, float out[8]) {
  const u32 s = sel | sign_nibbles;  // nibble n: code + 4 * sign of value IQ2_VALUE[n]
  float values[8];                   // values[n] = signed grid value IQ2_VALUE[n]
  ql_bytes_to_f32x4_h(ql_prmt(iq2_values[0], iq2_values[1], s) ^ 0x80808080u, 128.0f, values);            // 0, 4, 1, 5
  ql_bytes_to_f32x4_h(ql_prmt(iq2_values[0], iq2_values[1], s >> 16) ^ 0x80808080u, 128.0f, values + 4);  // 2, 6, 3, 7
  for (int n = 0; n < 8; ++n) out[IQ2_VALUE[n]] = dl * values[n];
}

// IQ1 weights as exact int8: w = 8 * (g + delta) with g in {-1, 0, 1}, delta = +-1/8. The grid
// word holds g + 1 as nibble k; nibbles + 4 select the negative-delta table in ql_prmt.
constexpr u32 IQ1_W_POS = 0x000901F9u;  // bytes -7, 1, 9 (8g + 1)
constexpr u32 IQ1_W_NEG = 0x0007FFF7u;  // bytes -9, -1, 7 (8g - 1)

QL_DEV int iq1_dot8(u32 nibbles, u32 negative_delta, const int* q, int sumi) {
  const u32 sel = nibbles + (negative_delta ? 0x44444444u : 0u);  // nibble k: g'[k] (+4); no carries (<= 6)
  sumi = dp4a((int)ql_prmt(IQ1_W_POS, IQ1_W_NEG, sel), q[0], sumi);        // elements 0..3 (nibbles < 8)
  return dp4a((int)ql_prmt(IQ1_W_POS, IQ1_W_NEG, sel >> 16), q[1], sumi);  // elements 4..7
}

QL_DEV void iq1_dequant8(u32 nibbles, bool negative_delta, float dl, float out[8]) {
  const float delta = negative_delta ? -0.125f : 0.125f;
  for (int j = 0; j < 8; ++j) {
    out[j] = dl * ((float)((int)((nibbles >> (4 * j)) & 15u) - 1) + delta);  // nibble j = g[j] + 1
  }
}

// Elements [8h, 8h+8) of such a 32-element run (h: bit 0 = byte half, bit 1 = high nibbles),
// unscaled. qs: 2-byte aligned. Table entries come from byte permutes of kv_biased (uniform
// loads; tables.cuh: ql_kv16_dequant8<BIAS>), not per-lane lookups.
template <int BIAS>
QL_DEV void iq_kv16_dequant8(const u8* qs, int h, const u32* kv_biased, float out[8]) {
  const u8* bytes = qs + 8 * (h & 1);  // (8,) bytes holding the 8 nibbles
  ql_kv16_dequant8<BIAS>(load_u32_a2(bytes), load_u32_a2(bytes + 4), h >> 1, kv_biased, out);
}

QL_DEV float iq_d(const u8* blk) { return f16_to_f32(load_u16(blk)); }  // f16 super-scale @0

// Entry i of a grid table at tab (global or the CTA's shared-memory copy; 4-byte aligned).
QL_DEV u32 iq_grid32(const u8* tab, u32 i) { return ((const u32*)tab)[i]; }  // tab: (n,) u32

// The grid types implement dequant_t / vec_dot_t once, on a table pointer (the CTA's staged
// copy in the mat-vec kernels); this base adds the interface's dequant / vec_dot on the global
// table (T::table_source()), used by the dequantize-to-f16 kernel and the host harness.
template <class T>
struct IqGlobalTable {
  static QL_DEV void dequant(const u8* __restrict__ blk, int g, float out[8]) {
    T::dequant_t(T::table_source(), blk, g, out);
  }
  static QL_DEV float vec_dot(const u8* __restrict__ blk, int c, const int* __restrict__ q, float d, float s) {
    return T::vec_dot_t(T::table_source(), blk, c, q, d, s);
  }
};
