// K-quants (super-blocks of 256): dequant + vec_dot (interface: see common.cuh).
// A 32-element chunk c (0..7) of a super-block; group g (0..31) = 8 elements [8g, 8g+8).
#pragma once
#include "common.cuh"

// 6-bit (scale, min) of sub-block j of a Q4_K / Q5_K block: its 16-byte head (d, dmin, the 12
// packed bytes s @4) in one aligned load (BYTES 144 / 176: blocks are 16-byte aligned in rows
// and tiles). j < 4: sc = s[j] & 63, m = s[4 + j] & 63; j >= 4: sc = s[4 + j] & 15 | (s[j - 4] >> 6)
// << 4, m = s[4 + j] >> 4 | (s[j] >> 6) << 4. Both as (low 4 bits of one word) | (bits 4, 5 of
// another), the words and shifts chosen by j alone (a lane's chunk keeps its j).
QL_DEV void ql_scale_min_k4(const u8* blk, int j, int& sc, int& m) {
    u32 head[4];  // d | dmin << 16, s[0..4), s[4..8), s[8..12)
    ql_load_u32x4_a16(blk, head);
    const bool hi = j >= 4;
    const u32 t = 8u * ((u32)j & 3u), t_high = t + (hi ? 2u : 0u);  // byte j % 4 of each word
    const u32 sc_low = (hi ? head[3] : head[1]) >> t;                // s[j] or s[8 + j % 4]
    const u32 m_low = hi ? head[3] >> (t + 4u) : head[2] >> t;      // s[4 + j] or s[8 + j % 4] >> 4
    sc = (int)((sc_low & 15u) | ((head[1] >> t_high) & 0x30u));    // bits 4, 5: s[j] or top bits of s[j % 4]
    m = (int)((m_low & 15u) | ((head[2] >> t_high) & 0x30u));      // s[4 + j] or top bits of s[4 + j % 4]
}

// Signed 6-bit scale of sub-block k (0..15) of Q3_K from its 12 packed bytes s.
QL_DEV int ql_q3k_scale(const u8* s, int k) {
    const int lo = (s[k % 8] >> (4 * (k / 8))) & 15;
    const int hi = (s[8 + k % 4] >> (2 * (k / 4))) & 3;
    return (lo | (hi << 4)) - 32;
}

// ---- 32-element runs read as aligned words (the vec_dot of Q3_K and Q6_K) --------------
// A chunk's run of 32 bytes (byte l: element l) sits where its block does mod 4 (0 or 2 in a
// tile). vec_dot reads the 9 aligned words holding it and dots them with activations realigned
// the same way, once per chunk for every row of a tile (the type's order_q_at, common.cuh),
// instead of a funnel shift per weight word and row.
constexpr int K_RUN_Q_WORDS = 10;
constexpr int K_RUN_ORDERED_WORDS = K_RUN_Q_WORDS + 1;  // + the block's misalignment (qa[10])

// qa[j] (j < 9) = the activations of aligned word j's bytes (elements 4j - misalign ..), 0 outside
// the run (q: elements 4i..4i+3 in word i; misalign 0 or 2); word 4's elements below 16 (the scale
// boundary) go to qa[9] instead of qa[4]; qa[10] = misalign (for k_run_dot_halves).
QL_DEV void k_run_order_q_at(const int* q, u32 misalign, int* qa) {
    const u32 shift = 8u * (misalign & 2u);
    for (int j = 0; j < 9; ++j) {
        const u32 prev = j > 0 ? (u32)q[j - 1] : 0u, cur = j < 8 ? (u32)q[j] : 0u;
        qa[j] = (int)ql_funnel_l(prev, cur, shift);  // cur << shift | prev's top bytes
    }
    const u32 below16 = (1u << shift) - 1u;  // word 4's bytes of elements 14, 15 (misaligned), else none
    qa[9] = (int)((u32)qa[4] & below16);
    qa[4] = (int)((u32)qa[4] & ~below16);
    qa[10] = (int)(misalign & 2u);
}

// sums[h] += the dot of half h (elements 16h .. 16h + 15) of the run at `run` (a tile address
// 4-aligned but for the block's misalignment qa[10]), op(word) giving each aligned word's
// unsigned bytes, with qa from k_run_order_q_at.
template <class Op>
QL_DEV void k_run_dot_halves(const u8* run, Op op, const int* qa, int (&sums)[2]) {
    const u32 misalign = (u32)qa[10];
    const u32* words = (const u32*)(run - misalign);  // (9,) aligned words holding the run
    for (int j = 0; j < 9; ++j) {
        const u32 w = op(words[j == 8 ? 7 + (int)(misalign >> 1) : j]);  // word 8 holds run bytes only when misaligned
        sums[j < 4 ? 0 : 1] = dp4a_us(w, qa[j], sums[j < 4 ? 0 : 1]);
        if (j == 4) sums[0] = dp4a_us(w, qa[9], sums[0]);  // word 4's elements below 16
    }
}

// The run's activation sums per half (dp4a with ones: the same for every row, computed once).
QL_DEV void k_run_q_sums(const int* qa, int (&sums)[2]) {
    for (int j = 0; j < K_RUN_Q_WORDS; ++j) {
        const int h = j < 4 || j == 9 ? 0 : 1;  // qa[9]: word 4's elements below 16
        sums[h] = dp4a(0x01010101, qa[j], sums[h]);
    }
}

struct Q2_K : QlDequantFromRaw<Q2_K> {
    static constexpr int QK = 256, BYTES = 84;  // scales[16] @0 | qs[64] @16 | d f16 @80 | dmin f16 @82
    // Group g: q (0..3) unscaled; element = dl q - ml with dl = d (sc & 15), ml = dmin (sc >> 4),
    // sc = scales[i / 16] (one per group of 8).
    static QL_DEV float dequant_raw(const u8* __restrict__ blk, int g, float out[8]) {
        const int c = g >> 2, l0 = 8 * (g & 3), n = c >> 2, j = c & 3;  // element i = 128n + 32j + l
        const u8* qs = blk + 16 + 32 * n + l0;  // 8 bytes, 2 bits each at bit 2j
        ql_bytes_to_f32x4_h((load_u32_a4(qs) >> (2 * j)) & 0x03030303u, 0.0f, out);
        ql_bytes_to_f32x4_h((load_u32_a4(qs + 4) >> (2 * j)) & 0x03030303u, 0.0f, out + 4);
        return f16_to_f32(load_u16(blk + 80)) * ql_i2f(group_scale(blk, g) & 15);
    }
    static QL_DEV float dequant_offset(const u8* __restrict__ blk, int g) {
        return -(f16_to_f32(load_u16(blk + 82)) * ql_i2f(group_scale(blk, g) >> 4));
    }
    static QL_DEV int group_scale(const u8* blk, int g) { return blk[g >> 1]; }  // scales[8g / 16]
    static QL_DEV float vec_dot(const u8* __restrict__ blk, int c, const int* __restrict__ q, float d, float) {
        const int n = c >> 2, j = c & 3;
        const int sc_lo = blk[2 * c], sc_hi = blk[2 * c + 1];  // scales of elements l<16, l>=16
        const u32 mask = 0x03030303u << (2 * j);  // the chunk's 2 bits per byte, left in place: 4^j x value
        int sum_lo = 0, sum_hi = 0, min_lo = 0, min_hi = 0;
        for (int i = 0; i < 4; ++i) {
            sum_lo = dp4a_us(load_u32_a4(blk + 16 + 32 * n + 4 * i) & mask, q[i], sum_lo);      // l = 4i..
            sum_hi = dp4a_us(load_u32_a4(blk + 32 + 32 * n + 4 * i) & mask, q[i + 4], sum_hi);  // l = 16+4i..
            min_lo = dp4a(0x01010101, q[i], min_lo);
            min_hi = dp4a(0x01010101, q[i + 4], min_hi);
        }
        sum_lo >>= 2 * j, sum_hi >>= 2 * j;  // exact: multiples of 4^j
        const int dot = (sc_lo & 15) * sum_lo + (sc_hi & 15) * sum_hi;
        const int mins = (sc_lo >> 4) * min_lo + (sc_hi >> 4) * min_hi;
        return d * (f16_to_f32(load_u16(blk + 80)) * (float)dot - f16_to_f32(load_u16(blk + 82)) * (float)mins);
    }
};

struct Q3_K {
    static constexpr int QK = 256, BYTES = 110;  // hmask[32] @0 | qs[64] @32 | scales[12] @96 | d f16 @108
    static QL_DEV void dequant(const u8* __restrict__ blk, int g, float out[8]) {
        const int c = g >> 2, l0 = 8 * (g & 3), n = c >> 2, j = c & 3;  // element i = 128n + 32j + l
        for (int h = 0; h < 2; ++h) {  // elements l0 + 4h .. +4
            const u32 low = (load_u32_a2(blk + 32 + 32 * n + l0 + 4 * h) >> (2 * j)) & 0x03030303u;  // qs
            const u32 high = (load_u32_a2(blk + l0 + 4 * h) >> (4 * n + j)) & 0x01010101u;  // hmask bit 4n+j
            ql_bytes_to_f32x4_h(low | (high << 2), 4.0f, out + 4 * h);  // q + 4*hbit - 4
        }
        const float dl = f16_to_f32(load_u16(blk + 108)) * (float)ql_q3k_scale(blk + 96, 2 * c + (l0 >> 4));
        for (int e = 0; e < 8; ++e) out[e] *= dl;
    }
    // Words i = 0..7 of the chunk's low bits (qs[32n + 4i ..]) and of hmask[4i ..], with aligned
    // loads: the block sits at 0 or 2 mod 4 in a tile, and hmask at offset 0 is 4-aligned when it
    // is the tile's first block.
    static QL_DEV void load_chunk(const u8* __restrict__ blk, int n, u32 (&qs)[8], u32 (&hm)[8]) {
        load_u32s_a2<8>(blk + 32 + 32 * n, qs);  // qs[32n .. 32n + 32): 2 bits per element
        load_u32s_a2<8>(blk, hm);                // hmask[0 .. 32): bit 4n + j of byte l = element's high bit
    }
    static constexpr int Q_WORDS = K_RUN_ORDERED_WORDS;  // q: from order_q_at (k_run_*)
    static QL_DEV void order_q_at(const int* q, u32 misalign, int* out) { k_run_order_q_at(q, misalign, out); }
    static QL_DEV float vec_dot(const u8* __restrict__ blk, int c, const int* __restrict__ q, float d, float) {
        const int n = c >> 2, j = c & 3;  // element i = 128n + 32j + l
        // w = low + 4 (high bit) - 4 = low - 4 (high bit clear): two dots with the bits left in place
        // (unsigned bytes: 4^j x low, 2^(4n+j) x clear bit), scaled down once per half.
        const int low_shift = 2 * j, bit_shift = 4 * n + j;
        const u32 low_mask = 0x03030303u << low_shift, bit_mask = 0x01010101u << bit_shift;
        int low[2] = {0, 0}, clear[2] = {0, 0};  // elements 0..15 / 16..31 (one scale each)
        k_run_dot_halves(blk + 32 + 32 * n, [=](u32 w) { return w & low_mask; }, q, low);  // qs[32n ..+32): 2 bits per element
        k_run_dot_halves(blk, [=](u32 w) { return ~w & bit_mask; }, q, clear);  // hmask[0 ..32): bit 4n + j = high bit
        const int sum_lo = (low[0] >> low_shift) - 4 * (clear[0] >> bit_shift);  // exact shifts
        const int sum_hi = (low[1] >> low_shift) - 4 * (clear[1] >> bit_shift);
        const int dot = ql_q3k_scale(blk + 96, 2 * c) * sum_lo + ql_q3k_scale(blk + 96, 2 * c + 1) * sum_hi;
        return d * f16_to_f32(load_u16(blk + 108)) * (float)dot;
    }
    static QL_DEV float dot_f32(const u8* __restrict__ blk, int c, const float* __restrict__ x) {
        const int n = c >> 2, j = c & 3;  // element i = 128n + 32j + l
        u32 qs[8], hm[8];
        load_chunk(blk, n, qs, hm);
        float sum_lo = 0.0f, sum_hi = 0.0f;
        for (int i = 0; i < 8; ++i) {
            const u32 low = (qs[i] >> (2 * j)) & 0x03030303u;           // q & 3 per byte
            const u32 high = (hm[i] >> (4 * n + j)) & 0x01010101u;      // the high bit per byte
            if (i < 4) sum_lo = ql_dot_bytes4_h(low | (high << 2), 4.0f, x + 4 * i, sum_lo);  // q - 4: -4..3
            else sum_hi = ql_dot_bytes4_h(low | (high << 2), 4.0f, x + 4 * i, sum_hi);
        }
        const float dot = (float)ql_q3k_scale(blk + 96, 2 * c) * sum_lo
                        + (float)ql_q3k_scale(blk + 96, 2 * c + 1) * sum_hi;
        return f16_to_f32(load_u16(blk + 108)) * dot;
    }
};

struct Q4_K {
    static constexpr int QK = 256, BYTES = 144;  // d f16 @0 | dmin f16 @2 | scales[12] @4 | qs[128] @16
    static QL_DEV void dequant(const u8* __restrict__ blk, int g, float out[8]) {
        const int c = g >> 2, l0 = 8 * (g & 3);
        const u8* qs = blk + 16 + 32 * (c >> 1) + l0;  // 8 bytes; low nibble for even c
        ql_bytes_to_f32x4((load_u32_a4(qs) >> (4 * (c & 1))) & 0x0F0F0F0Fu, 0.0f, out);
        ql_bytes_to_f32x4((load_u32_a4(qs + 4) >> (4 * (c & 1))) & 0x0F0F0F0Fu, 0.0f, out + 4);
        int sc, m;
        ql_scale_min_k4(blk, c, sc, m);
        const float dl = f16_to_f32(load_u16(blk)) * (float)sc, ml = f16_to_f32(load_u16(blk + 2)) * (float)m;
        for (int e = 0; e < 8; ++e) out[e] = dl * out[e] - ml;
    }
    static QL_DEV float vec_dot(const u8* __restrict__ blk, int c, const int* __restrict__ q, float d, float s) {
        int sc, m;
        ql_scale_min_k4(blk, c, sc, m);
        const int high = c & 1;  // odd chunks are the high nibbles of qs[32(c/2) ..]
        const u32 mask = high ? 0xF0F0F0F0u : 0x0F0F0F0Fu;
        int sumi = 0;  // for odd chunks 16 x the dot: the nibbles stay in place (unsigned bytes)
        for (int i = 0; i < 8; ++i) sumi = dp4a_us(load_u32_a4(blk + 16 + 32 * (c >> 1) + 4 * i) & mask, q[i], sumi);
        sumi >>= 4 * high;  // exact: a multiple of 16 when high
        return f16_to_f32(load_u16(blk)) * (float)sc * d * (float)sumi - f16_to_f32(load_u16(blk + 2)) * (float)m * s;
    }
    // sum_l w_l x_l = d*sc * sum(q*x) - dmin*m * sum(x): scales decoded once per chunk.
    static QL_DEV float dot_f32(const u8* __restrict__ blk, int c, const float* __restrict__ x) {
        int sc, m;
        ql_scale_min_k4(blk, c, sc, m);
        u32 qs[8];  // qs[32(c/2) .. +32): element l in byte l, nibble c%2
        ql_load_u32x4_a16(blk + 16 + 32 * (c >> 1), qs);  // bytes 0..15 (BYTES = 144: 16-B aligned)
        ql_load_u32x4_a16(blk + 32 + 32 * (c >> 1), qs + 4);  // bytes 16..31
        // sum of (1 + q / 16) x / 2 (ql_dot_unit4, bytes q << 3): a rotation puts the chunk's
        // nibble at bits 3..6 of each byte (even c: left by 3, odd c: right by 1), the rest is masked off
        const u32 turn = (c & 1) ? 1u : 29u;  // rotate right by
        float sum = 0.0f;
        for (int i = 0; i < 8; ++i) sum = ql_dot_unit4(ql_rotr(qs[i], turn) & 0x78787878u, x + 4 * i, sum);
        const float xsum = ql_sum_f32(x, 32);
        const float dl = f16_to_f32(load_u16(blk)) * (float)sc, ml = f16_to_f32(load_u16(blk + 2)) * (float)m;
        return dl * 16.0f * (2.0f * sum - xsum) - ml * xsum;  // sum(q x) = 16 (2 sum - sum(x))
    }
};

struct Q5_K {
    static constexpr int QK = 256, BYTES = 176;  // d @0 | dmin @2 | scales[12] @4 | qh[32] @16 | qs[128] @48
    static QL_DEV void dequant(const u8* __restrict__ blk, int g, float out[8]) {
        const int c = g >> 2, l0 = 8 * (g & 3);
        for (int h = 0; h < 2; ++h) {  // elements l0 + 4h .. +4
            const u32 low = (load_u32_a4(blk + 48 + 32 * (c >> 1) + l0 + 4 * h) >> (4 * (c & 1))) & 0x0F0F0F0Fu;
            const u32 high = (load_u32_a4(blk + 16 + l0 + 4 * h) >> c) & 0x01010101u;  // qh bit c
            ql_bytes_to_f32x4(low | (high << 4), 0.0f, out + 4 * h);
        }
        int sc, m;
        ql_scale_min_k4(blk, c, sc, m);
        const float dl = f16_to_f32(load_u16(blk)) * (float)sc, ml = f16_to_f32(load_u16(blk + 2)) * (float)m;
        for (int e = 0; e < 8; ++e) out[e] = dl * out[e] - ml;
    }
    static QL_DEV float vec_dot(const u8* __restrict__ blk, int c, const int* __restrict__ q, float d, float s) {
        int sc, m;
        ql_scale_min_k4(blk, c, sc, m);
        // w = low nibble + 16 x qh bit c: two dots with the bits left in place (unsigned bytes:
        // 16^(c % 2) x nibble, 2^c x bit), scaled down once.
        const int high_nibbles = c & 1;
        const u32 low_mask = high_nibbles ? 0xF0F0F0F0u : 0x0F0F0F0Fu, bit_mask = 0x01010101u << c;
        int low = 0, bit = 0;
        for (int i = 0; i < 8; ++i) {
            low = dp4a_us(load_u32_a4(blk + 48 + 32 * (c >> 1) + 4 * i) & low_mask, q[i], low);  // qs[32(c/2) + 4i..]
            bit = dp4a_us(load_u32_a4(blk + 16 + 4 * i) & bit_mask, q[i], bit);                 // qh[4i..] bit c
        }
        const int sumi = (low >> (4 * high_nibbles)) + ((bit << 4) >> c);  // exact shifts
        return f16_to_f32(load_u16(blk)) * (float)sc * d * (float)sumi - f16_to_f32(load_u16(blk + 2)) * (float)m * s;
    }
    static QL_DEV float dot_f32(const u8* __restrict__ blk, int c, const float* __restrict__ x) {
        int sc, m;
        ql_scale_min_k4(blk, c, sc, m);
        u32 qs[8], qh[8];  // qs[32(c/2) .. +32) and qh[0..32): element l in byte l
        ql_load_u32x4_a16(blk + 48 + 32 * (c >> 1), qs);  // BYTES = 176: blocks 16-B aligned
        ql_load_u32x4_a16(blk + 64 + 32 * (c >> 1), qs + 4);
        ql_load_u32x4_a16(blk + 16, qh);
        ql_load_u32x4_a16(blk + 32, qh + 4);
        // sum of (1 + q / 32) x / 2 (ql_dot_unit4, bytes q << 2): rotations put the chunk's nibble
        // at bits 2..5 of each byte (even c: left by 2, odd c: right by 2) and qh bit c at bit 6
        const u32 turn_low = (c & 1) ? 2u : 30u, turn_high = (u32)(c + 26) & 31u;  // rotate right by
        float sum = 0.0f;
        for (int i = 0; i < 8; ++i) {
            const u32 low = ql_rotr(qs[i], turn_low) & 0x3C3C3C3Cu;
            sum = ql_dot_unit4((ql_rotr(qh[i], turn_high) & 0x40404040u) | low, x + 4 * i, sum);
        }
        const float xsum = ql_sum_f32(x, 32);
        const float dl = f16_to_f32(load_u16(blk)) * (float)sc, ml = f16_to_f32(load_u16(blk + 2)) * (float)m;
        return dl * 32.0f * (2.0f * sum - xsum) - ml * xsum;  // sum(q x) = 32 (2 sum - sum(x))
    }
};

struct Q6_K : QlDequantFromRaw<Q6_K> {
    static constexpr int QK = 256, BYTES = 210;  // ql[128] @0 | qh[64] @128 | scales i8[16] @192 | d f16 @208
    static QL_DEV float dequant_raw(const u8* __restrict__ blk, int g, float out[8]) {
        const int c = g >> 2, l0 = 8 * (g & 3), ip = c >> 2, k = c & 3;  // element i = 128ip + 32k + l
        for (int h = 0; h < 2; ++h) {  // elements l0 + 4h .. +4
            const int l = l0 + 4 * h;
            const u32 low = (load_u32_a2(blk + 64 * ip + 32 * (k & 1) + l) >> (4 * (k >> 1))) & 0x0F0F0F0Fu;
            const u32 high = (load_u32_a2(blk + 128 + 32 * ip + l) >> (2 * k)) & 0x03030303u;
            ql_bytes_to_f32x4_h(low | (high << 4), 32.0f, out + 4 * h);
        }
        return f16_to_f32(load_u16(blk + 208)) * (float)(i8)blk[192 + 2 * c + (l0 >> 4)];  // d x scale of the 16
    }
    static constexpr int Q_WORDS = K_RUN_ORDERED_WORDS;  // q: from order_q_at (k_run_*)
    static QL_DEV void order_q_at(const int* q, u32 misalign, int* out) { k_run_order_q_at(q, misalign, out); }
    static QL_DEV float vec_dot(const u8* __restrict__ blk, int c, const int* __restrict__ q, float d, float) {
        const int ip = c >> 2, k = c & 3;  // element i = 128ip + 32k + l
        // w = low nibble + 16 x high 2 bits - 32: dots with the bits left in place (unsigned bytes:
        // 16^(k / 2) x nibble, 4^k x high bits), scaled down once per half; the -32 through the
        // sum of q (the same for every row, computed once).
        const int low_shift = 4 * (k >> 1), high_shift = 2 * k;
        const u32 low_mask = 0x0F0F0F0Fu << low_shift, high_mask = 0x03030303u << high_shift;
        int low[2] = {0, 0}, high[2] = {0, 0}, ones[2] = {0, 0};  // elements 0..15 / 16..31 (one scale each)
        k_run_dot_halves(blk + 64 * ip + 32 * (k & 1), [=](u32 w) { return w & low_mask; }, q, low);  // ql: nibble k >> 1
        k_run_dot_halves(blk + 128 + 32 * ip, [=](u32 w) { return w & high_mask; }, q, high);  // qh: bits 2k, 2k + 1
        k_run_q_sums(q, ones);
        int sum[2];
        for (int h = 0; h < 2; ++h) sum[h] = (low[h] >> low_shift) + ((high[h] << 4) >> high_shift) - 32 * ones[h];
        const int dot = (int)(i8)blk[192 + 2 * c] * sum[0] + (int)(i8)blk[193 + 2 * c] * sum[1];
        return d * f16_to_f32(load_u16(blk + 208)) * (float)dot;
    }
};
