// Device functions of the I-quants: IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S, IQ1_S, IQ1_M,
// IQ4_NL, IQ4_XS (formats: docs/ggml-quant-formats.md §2.1, §2.3).
//
// Every type: dequant(blk, g, out) writes elements [8g, 8g+8) of one block; vec_dot(blk, c,
// q, d, s) is the dot of elements [32c, 32c+32) with one q8_1 block (q[i] = int8 elements
// 4i..4i+3, or in the order of the type's order_q; d its scale). vec_dot decodes grid entries /
// kvalues to packed int8, applies signs with plain 32-bit integer ops (no per-element branches)
// and accumulates with dp4a; all scales are applied once, in float, at the end. s (the q8_1
// sum) is not needed: every offset is folded into exact integer weights.
#pragma once
#include "common.cuh"
#include "iq_common.cuh"  // sign helpers, selector decoders, IqGlobalTable

// ---- IQ2 -------------------------------------------------------------------------------

struct IQ2_XXS : IqGlobalTable<IQ2_XXS> {
  // d f16 @0 | 8 bytes per sub-block @2+8ib: 4 grid indices, then u32 (4 x 7 sign bits, scale bits 28..31)
  static constexpr int QK = 256, BYTES = 66;
  static QL_DEV void dequant_t(const u8* __restrict__ tab, const u8* __restrict__ blk, int g, float out[8]) {
    const u8* sub = blk + 2 + 8 * (g >> 2);  // (8,) bytes of sub-block g / 4
    const int l = g & 3;                     // group within the sub-block
    const u32 aux = load_u32_a2(sub + 4);
    const float dl = iq_d(blk) * (0.5f + (float)(aux >> 28)) * 0.25f;
    iq2_dequant8(iq_grid32(tab, sub[l]), iq2_ksign_nibbles((aux >> (7 * l)) & 127u), dl, out);
  }
  static QL_DEV float vec_dot_t(const u8* __restrict__ tab, const u8* __restrict__ blk, int c,
                                const int* __restrict__ q, float d, float s) {
    (void)s;
    const u8* sub = blk + 2 + 8 * c;        // (8,) bytes of sub-block c
    const u32 indices = load_u32_a2(sub);   // byte l = grid index of group l
    const u32 aux = load_u32_a2(sub + 4);
    int sum = 0;
    for (int l = 0; l < 4; ++l) {
      const u32 sel = iq_grid32(tab, (indices >> (8 * l)) & 255u);
      sum = iq2_dot8(sel, iq2_ksign_nibbles((aux >> (7 * l)) & 127u), q + 2 * l, sum);
    }
    return iq_d(blk) * 0.125f * d * (float)(sum * (2 * (int)(aux >> 28) + 1));  // (0.5 + ls) / 4
  }
  static QL_DEV void order_q(const int* q, int* out) { iq2_order_q(q, out); }
  static constexpr int SMEM_TABLE_BYTES = sizeof(iq2xxs_sel);  // staged per CTA by the mat-vec kernels
  static QL_DEV const u8* table_source() { return (const u8*)iq2xxs_sel; }
};

struct IQ2_XS : IqGlobalTable<IQ2_XS> {
  // d @0 | u16 per group @2+2g (9-bit grid index, 7 sign bits) | scales u8[8] @66 (nibble per 2 groups)
  static constexpr int QK = 256, BYTES = 74;
  static QL_DEV int group_dot(const u8* tab, u32 v, const int* q, int sum) {
    return iq2_dot8(iq_grid32(tab, v & 511u), iq2_ksign_nibbles((v >> 9) & 127u), q, sum);
  }
  static QL_DEV void dequant_t(const u8* __restrict__ tab, const u8* __restrict__ blk, int g, float out[8]) {
    const u32 v = load_u16(blk + 2 + 2 * g);                      // u16 of group g
    const u32 ls = (blk[66 + (g >> 2)] >> (4 * ((g >> 1) & 1))) & 15u;  // nibble of groups 2h, 2h+1
    const float dl = iq_d(blk) * (0.5f + (float)ls) * 0.25f;
    iq2_dequant8(iq_grid32(tab, v & 511u), iq2_ksign_nibbles((v >> 9) & 127u), dl, out);
  }
  static QL_DEV float vec_dot_t(const u8* __restrict__ tab, const u8* __restrict__ blk, int c,
                                const int* __restrict__ q, float d, float s) {
    (void)s;
    const u32 w01 = load_u32_a2(blk + 2 + 8 * c);  // u16 of groups 0, 1
    const u32 w23 = load_u32_a2(blk + 6 + 8 * c);  // u16 of groups 2, 3
    const int sum01 = group_dot(tab, w01 >> 16, q + 2, group_dot(tab, w01 & 0xFFFFu, q, 0));
    const int sum23 = group_dot(tab, w23 >> 16, q + 6, group_dot(tab, w23 & 0xFFFFu, q + 4, 0));
    const u32 scales = blk[66 + c];
    const int sumi = sum01 * (2 * (int)(scales & 15u) + 1) + sum23 * (2 * (int)(scales >> 4) + 1);
    return iq_d(blk) * 0.125f * d * (float)sumi;
  }
  static QL_DEV void order_q(const int* q, int* out) { iq2_order_q(q, out); }
  static constexpr int SMEM_TABLE_BYTES = sizeof(iq2xs_sel);  // staged per CTA by the mat-vec kernels
  static QL_DEV const u8* table_source() { return (const u8*)iq2xs_sel; }
};

struct IQ2_S : IqGlobalTable<IQ2_S> {
  // d @0 | qs[32] @2 (low index bits) | signs[32] @34 | qh[8] @66 (2 index bits per group) | scales[8] @74
  static constexpr int QK = 256, BYTES = 82;
  static QL_DEV void dequant_t(const u8* __restrict__ tab, const u8* __restrict__ blk, int g, float out[8]) {
    const int ib = g >> 2, l = g & 3;
    const u32 index = blk[2 + g] | (((u32)blk[66 + ib] >> (2 * l)) & 3u) << 8;
    const u32 ls = (blk[74 + ib] >> (4 * (l >> 1))) & 15u;
    const float dl = iq_d(blk) * (0.5f + (float)ls) * 0.25f;
    iq2_dequant8(iq_grid32(tab, index), iq2_sign_nibbles8(blk[34 + g]), dl, out);
  }
  static QL_DEV float vec_dot_t(const u8* __restrict__ tab, const u8* __restrict__ blk, int c,
                                const int* __restrict__ q, float d, float s) {
    (void)s;
    const u32 indices = load_u32_a2(blk + 2 + 4 * c);  // byte l: low index bits of group l
    const u32 signs = load_u32_a2(blk + 34 + 4 * c);   // byte l: sign bits of group l
    const u32 qh = blk[66 + c];
    int sums[2] = {0, 0};  // groups 0, 1 / 2, 3 (one scale each)
    for (int l = 0; l < 4; ++l) {
      const u32 index = ((indices >> (8 * l)) & 255u) | ((qh << (8 - 2 * l)) & 0x300u);
      sums[l >> 1] = iq2_dot8(iq_grid32(tab, index), iq2_sign_nibbles8((signs >> (8 * l)) & 255u), q + 2 * l, sums[l >> 1]);
    }
    const u32 scales = blk[74 + c];
    const int sumi = sums[0] * (2 * (int)(scales & 15u) + 1) + sums[1] * (2 * (int)(scales >> 4) + 1);
    return iq_d(blk) * 0.125f * d * (float)sumi;
  }
  static QL_DEV void order_q(const int* q, int* out) { iq2_order_q(q, out); }
  static constexpr int SMEM_TABLE_BYTES = sizeof(iq2s_sel);  // staged per CTA by the mat-vec kernels
  static QL_DEV const u8* table_source() { return (const u8*)iq2s_sel; }
};

// ---- IQ3 -------------------------------------------------------------------------------

struct IQ3_XXS : IqGlobalTable<IQ3_XXS> {
  // d @0 | qs[64] @2 (8 grid indices per sub-block, 4 values each) | u32 @66+4ib (4 x 7 sign bits, scale bits 28..31)
  static constexpr int QK = 256, BYTES = 98;
  static QL_DEV void dequant_t(const u8* __restrict__ tab, const u8* __restrict__ blk, int g, float out[8]) {
    const int ib = g >> 2, l = g & 3;
    const u8* indices = blk + 2 + 8 * ib + 2 * l;  // (2,) grid indices of group g
    const u32 aux = load_u32_a2(blk + 66 + 4 * ib);
    const float dl = iq_d(blk) * (0.5f + (float)(aux >> 28)) * 0.5f;
    iq_dequant8(iq_grid32(tab, indices[0]), iq_grid32(tab, indices[1]), iq_ksigns((aux >> (7 * l)) & 127u), dl, out);
  }
  static QL_DEV float vec_dot_t(const u8* __restrict__ tab, const u8* __restrict__ blk, int c,
                                const int* __restrict__ q, float d, float s) {
    (void)s;
    const u32 idx[2] = {load_u32_a2(blk + 2 + 8 * c), load_u32_a2(blk + 6 + 8 * c)};  // indices 0..3, 4..7
    const u32 aux = load_u32_a2(blk + 66 + 4 * c);
    IqSignedSum sum;
    for (int l = 0; l < 4; ++l) {
      const u32 pair = idx[l >> 1] >> (16 * (l & 1));  // bytes 0, 1: indices 2l, 2l+1
      iq_dot8_ksigns(iq_grid32(tab, pair & 255u), iq_grid32(tab, (pair >> 8) & 255u), (aux >> (7 * l)) & 127u,
                     q + 2 * l, sum);
    }
    return iq_d(blk) * 0.25f * d * (float)(sum.value() * (2 * (int)(aux >> 28) + 1));  // (0.5 + ls) / 2
  }
  static constexpr int SMEM_TABLE_BYTES = sizeof(iq3xxs_grid);  // staged per CTA by the mat-vec kernels
  static QL_DEV const u8* table_source() { return (const u8*)iq3xxs_grid; }
};

struct IQ3_S : IqGlobalTable<IQ3_S> {
  // d @0 | qs[64] @2 (low index bits) | qh[8] @66 (bit k: 9th bit of index k) | signs[32] @74 | scales[4] @106
  static constexpr int QK = 256, BYTES = 110;
  static QL_DEV u32 scale(const u8* blk, int ib) { return (blk[106 + (ib >> 1)] >> (4 * (ib & 1))) & 15u; }
  static QL_DEV void dequant_t(const u8* __restrict__ tab, const u8* __restrict__ blk, int g, float out[8]) {
    const int ib = g >> 2, l = g & 3;
    const u8* indices = blk + 2 + 8 * ib + 2 * l;  // (2,) low index bits of group g
    const u32 qh = (u32)blk[66 + ib] >> (2 * l);    // bits 0, 1: 9th bits of the two indices
    const float dl = iq_d(blk) * (float)(1u + 2u * scale(blk, ib));
    iq_dequant8(iq_grid32(tab, indices[0] | (qh & 1u) << 8), iq_grid32(tab, indices[1] | (qh & 2u) << 7), blk[74 + g], dl, out);
  }
  static QL_DEV float vec_dot_t(const u8* __restrict__ tab, const u8* __restrict__ blk, int c,
                                const int* __restrict__ q, float d, float s) {
    (void)s;
    const u32 idx[2] = {load_u32_a2(blk + 2 + 8 * c), load_u32_a2(blk + 6 + 8 * c)};  // low bits of indices 0..7
    const u32 qh = blk[66 + c];
    const u32 signs = load_u32_a2(blk + 74 + 4 * c);  // byte l: sign bits of group l
    IqSignedSum sum;
    for (int l = 0; l < 4; ++l) {
      const u32 pair = idx[l >> 1] >> (16 * (l & 1));  // bytes 0, 1: indices 2l, 2l+1
      const u32 lo = (pair & 255u) | ((qh << (8 - 2 * l)) & 0x100u);
      const u32 hi = ((pair >> 8) & 255u) | ((qh << (7 - 2 * l)) & 0x100u);
      iq_dot8(iq_grid32(tab, lo), iq_grid32(tab, hi), signs >> (8 * l), q + 2 * l, sum);
    }
    return iq_d(blk) * d * (float)(sum.value() * (int)(1u + 2u * scale(blk, c)));
  }
  static constexpr int SMEM_TABLE_BYTES = sizeof(iq3s_grid);  // staged per CTA by the mat-vec kernels
  static QL_DEV const u8* table_source() { return (const u8*)iq3s_grid; }
};

// ---- IQ1 -------------------------------------------------------------------------------

struct IQ1_S : IqGlobalTable<IQ1_S> {
  // d @0 | qs[32] @2 (low index bits) | qh u16[8] @34: 3 index bits per group, scale bits 12..14, delta sign bit 15
  static constexpr int QK = 256, BYTES = 50;
  static QL_DEV void dequant_t(const u8* __restrict__ tab, const u8* __restrict__ blk, int g, float out[8]) {
    const u32 h = load_u16(blk + 34 + 2 * (g >> 2));
    const u32 index = blk[2 + g] | ((h >> (3 * (g & 3))) & 7u) << 8;
    const float dl = iq_d(blk) * (float)(2u * ((h >> 12) & 7u) + 1u);
    iq1_dequant8(iq_grid32(tab, index), (h & 0x8000u) != 0, dl, out);
  }
  static QL_DEV float vec_dot_t(const u8* __restrict__ tab, const u8* __restrict__ blk, int c,
                                const int* __restrict__ q, float d, float s) {
    (void)s;
    const u32 h = load_u16(blk + 34 + 2 * c);
    const u32 indices = load_u32_a2(blk + 2 + 4 * c);  // byte l: low index bits of group l
    int sumi = 0;
    for (int l = 0; l < 4; ++l) {
      const u32 index = ((indices >> (8 * l)) & 255u) | ((h >> (3 * l)) & 7u) << 8;
      sumi = iq1_dot8(iq_grid32(tab, index), h >> 15, q + 2 * l, sumi);
    }
    return iq_d(blk) * 0.125f * d * (float)(sumi * (int)(2u * ((h >> 12) & 7u) + 1u));
  }
  static constexpr int SMEM_TABLE_BYTES = sizeof(iq1s_grid_nib);  // staged per CTA by the mat-vec kernels
  static QL_DEV const u8* table_source() { return (const u8*)iq1s_grid_nib; }
};

struct IQ1_M : IqGlobalTable<IQ1_M> {
  // qs[32] @0 (low index bits) | qh[16] @32 (nibble per group: 3 index bits, delta sign bit 3)
  // | scales u16[4] @48 (3-bit scale per 16 elements; the top nibbles form the f16 d)
  static constexpr int QK = 256, BYTES = 56;
  static QL_DEV float super_scale(const u8* blk) {
    const u32 a = load_u32_a2(blk + 48), b = load_u32_a2(blk + 52);  // scales u16 0,1 / 2,3
    const u32 bits = ((a >> 12) & 0xFu) | ((a >> 24) & 0xF0u) | ((b >> 4) & 0xF00u) | ((b >> 16) & 0xF000u);
    return f16_to_f32((u16)bits);
  }
  static QL_DEV u32 scales6(const u8* blk, int ib) {  // two 3-bit scales of sub-block ib (halves 0, 1)
    return load_u16(blk + 48 + 2 * (ib >> 1)) >> (6 * (ib & 1));
  }
  static QL_DEV void dequant_t(const u8* __restrict__ tab, const u8* __restrict__ blk, int g, float out[8]) {
    const int ib = g >> 2, l = g & 3;
    const u32 nib = (load_u16(blk + 32 + 2 * ib) >> (4 * l)) & 15u;  // qh nibble of group g
    const u32 index = blk[g] | (nib & 7u) << 8;
    const u32 ls = (scales6(blk, ib) >> (3 * (l >> 1))) & 7u;
    const float dl = super_scale(blk) * (float)(2u * ls + 1u);
    iq1_dequant8(iq_grid32(tab, index), (nib & 8u) != 0, dl, out);
  }
  static QL_DEV float vec_dot_t(const u8* __restrict__ tab, const u8* __restrict__ blk, int c,
                                const int* __restrict__ q, float d, float s) {
    (void)s;
    const u32 indices = load_u32_a2(blk + 4 * c);  // byte l: low index bits of group l
    const u32 qh = load_u16(blk + 32 + 2 * c);     // nibble l: group l
    int sums[2] = {0, 0};
    for (int l = 0; l < 4; ++l) {
      const u32 nib = qh >> (4 * l);
      const u32 index = ((indices >> (8 * l)) & 255u) | (nib & 7u) << 8;
      sums[l >> 1] = iq1_dot8(iq_grid32(tab, index), nib & 8u, q + 2 * l, sums[l >> 1]);
    }
    const u32 ls = scales6(blk, c);
    const int sumi = sums[0] * (int)(2u * (ls & 7u) + 1u) + sums[1] * (int)(2u * ((ls >> 3) & 7u) + 1u);
    return super_scale(blk) * 0.125f * d * (float)sumi;
  }
  static constexpr int SMEM_TABLE_BYTES = sizeof(iq1s_grid_nib);  // staged per CTA by the mat-vec kernels
  static QL_DEV const u8* table_source() { return (const u8*)iq1s_grid_nib; }
};

// ---- IQ4 -------------------------------------------------------------------------------

// sum_j kvalues_iq4nl[n_j] x[j] over the 32 nibbles n_j of qs (word i byte k: element 4i + k in
// its low nibble, 16 + 4i + k in its high one), the table looked up straight from the words.
QL_DEV float iq4_dot32_f32(const u32 (&qs)[4], const float* __restrict__ x) {
  float sums[2] = {0.0f, 0.0f};  // two float chains
  for (int i = 0; i < 4; ++i) {
    u32 t[2];  // t[h] = kvalues_iq4nl + 128 of nibbles 4h..4h+3 of qs[i]
    ql_kv16_lookup8<false>(qs[i], kvalues_iq4nl_biased, t);
    for (int h = 0; h < 2; ++h) {
      const int j = 4 * i + 2 * h;
      const float xs[4] = {x[j], x[16 + j], x[j + 1], x[17 + j]};  // t[h]'s elements j, 16 + j, j + 1, 17 + j
      sums[h] = ql_dot_bytes4_h(t[h], 128.0f, xs, sums[h]);
    }
  }
  return sums[0] + sums[1];
}

struct IQ4_NL : QlDequantFromRaw<IQ4_NL> {
  // d f16 @0 | qs[16] @2: element j = kvalues[low nibble of qs[j]], element 16+j = high nibble
  static constexpr int QK = 32, BYTES = 18;
  static QL_DEV float dequant_raw(const u8* __restrict__ blk, int g, float out[8]) {
    iq_kv16_dequant8<128>(blk + 2, g, kvalues_iq4nl_biased, out);
    return iq_d(blk);
  }
  static QL_DEV float vec_dot(const u8* __restrict__ blk, int c, const int* __restrict__ q, float d, float s) {
    (void)c, (void)s;
    const u32 words[4] = {load_u32_a2(blk + 2), load_u32_a2(blk + 6), load_u32_a2(blk + 10),
                          load_u32_a2(blk + 14)};  // qs[0..16) as 4 words
    return iq_d(blk) * d * (float)ql_kv16_dot32_ordered(words, kvalues_iq4nl_dot, q);
  }
  static QL_DEV void order_q(const int* q, int* out) { ql_kv16_order_q(q, out); }
  static constexpr bool DOT_F32_X_IN_REGISTERS_ONLY = true;  // dequant_forms.cuh; experiments-2026-12-07.md
  static QL_DEV float dot_f32(const u8* __restrict__ blk, int c, const float* __restrict__ x) {
    (void)c;
    u32 qs[4];
    load_u32s_a2<4>(blk + 2, qs);  // qs[0..16): word i byte k = elements 4i + k (low nibble), 16 + 4i + k (high)
    return iq_d(blk) * iq4_dot32_f32(qs, x);
  }
};

struct IQ4_XS : QlDequantFromRaw<IQ4_XS> {
  // d @0 | scales_h u16 @2 (2 bits per sub-block) | scales_l[4] @4 (nibble per sub-block) | qs[128] @8 (16 per sub-block)
  static constexpr int QK = 256, BYTES = 136;
  // 6-bit scale - 32 of sub-block ib from the block's first two words (blk: 4-byte aligned).
  static QL_DEV int scale(u32 head, u32 scales_l, int ib) {  // head: d | scales_h << 16
    return (int)(((scales_l >> (4 * ib)) & 15u) | ((head >> (12 + 2 * ib)) & 0x30u)) - 32;
  }
  static QL_DEV float dequant_raw(const u8* __restrict__ blk, int g, float out[8]) {
    const int ib = g >> 2;
    const u8* bytes = blk + 8 + 16 * ib + 8 * (g & 1);  // (8,) bytes holding the group's nibbles, 8-byte aligned
    ql_kv16_dequant8<128>(load_u32_a4(bytes), load_u32_a4(bytes + 4), (g >> 1) & 1, kvalues_iq4nl_biased, out);
    const u32 head = load_u32_a4(blk);
    return f16_to_f32((u16)head) * (float)scale(head, load_u32_a4(blk + 4), ib);
  }
  static QL_DEV float vec_dot(const u8* __restrict__ blk, int c, const int* __restrict__ q, float d, float s) {
    (void)s;
    const u8* qs = blk + 8 + 16 * c;  // (16,) bytes of sub-block c, 4-byte aligned
    const u32 words[4] = {load_u32_a4(qs), load_u32_a4(qs + 4), load_u32_a4(qs + 8), load_u32_a4(qs + 12)};
    const u32 head = load_u32_a4(blk);
    const int sumi = ql_kv16_dot32_ordered(words, kvalues_iq4nl_dot, q) * scale(head, load_u32_a4(blk + 4), c);
    return f16_to_f32((u16)head) * d * (float)sumi;
  }
  static QL_DEV void order_q(const int* q, int* out) { ql_kv16_order_q(q, out); }
  static QL_DEV float dot_f32(const u8* __restrict__ blk, int c, const float* __restrict__ x) {
    const u8* bytes = blk + 8 + 16 * c;  // (16,) bytes of sub-block c, 8-byte aligned
    const u32 qs[4] = {load_u32_a4(bytes), load_u32_a4(bytes + 4), load_u32_a4(bytes + 8), load_u32_a4(bytes + 12)};
    const u32 head = load_u32_a4(blk);
    return f16_to_f32((u16)head) * (float)scale(head, load_u32_a4(blk + 4), c) * iq4_dot32_f32(qs, x);
  }
};
