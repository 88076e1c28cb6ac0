// Lookup tables of the I-quant and FP4 device functions (types_iq.cuh, iq_common.cuh, types_fp4.cuh).
//
// Filled at module load by engine/kernels/tables.py (upload_tables), from the arrays that
// engine.quant.grids.lookup_tables() derives from gguf; the names below are the keys of
// tables.device_table_arrays(). Grids live in global memory; the mat-vec kernels copy a
// type's grid into shared memory once per CTA (SMEM_TABLE_BYTES / table_source() in
// types_iq.cuh, QlTables in common.cuh), so the data-dependent per-lane lookups hit shared
// memory; dequantize-to-f16 reads the global copy. The 16-entry kvalues tables are read
// uniformly by a warp (4 words, then byte permutes) and live in constant memory. On a host
// compiler both are plain arrays (the host harness fills them through the shared library's
// symbols).
#pragma once
#include "common.cuh"

#if defined(__CUDACC_RTC__) || defined(__CUDACC__)
#define QL_TABLE_GLOBAL __device__
#define QL_TABLE_CONST __constant__
#else
#define QL_TABLE_GLOBAL
#define QL_TABLE_CONST
#endif

// IQ2 grids as permute selectors: nibble 2j = code of value j, nibble 2j+1 = code of value
// 4+j (j < 4), code 0, 1, 2 for the grid values iq2_values bytes 0, 1, 2 ({8, 25, 43});
// tables.py: pack_iq2_selectors. Half the bytes of ggml's u64 grids, and a selector with a
// sign in bit 2 of each nibble permutes iq2_values straight into signed int8 weights.
QL_TABLE_GLOBAL u32 iq2xxs_sel[256];
QL_TABLE_GLOBAL u32 iq2xs_sel[512];
QL_TABLE_GLOBAL u32 iq2s_sel[1024];
QL_TABLE_CONST u32 iq2_values[2];        // bytes 0..2: the three grid values; word 1: their negations
QL_TABLE_GLOBAL u32 iq3xxs_grid[256];   // byte j = grid value j, values 4..62
QL_TABLE_GLOBAL u32 iq3s_grid[512];     // byte j = grid value j, odd values 1..15
QL_TABLE_GLOBAL u32 iq1s_grid_nib[2048]; // nibble k (bits 4k..4k+3) = g[k] + 1 in {0, 1, 2}, k < 8
QL_TABLE_CONST u32 kvalues_iq4nl_biased[4];  // byte n = kvalues_iq4nl[n] + 128 (ql_kv16_dequant8<128>)
QL_TABLE_CONST u32 kvalues_fp4_biased[4];    // byte n = kvalues_fp4[n] + 64 (doubled E2M1; ql_kv16_dequant8<64>)
// The same two tables split for dot products (tables.py: split_kv16_for_dot): with
// lo = ql_prmt(t[0], t[1], n) and hi = ql_prmt(t[2], t[3], n ^ 8) for a nibble n, lo + hi =
// kvalues[n] exactly (the half whose selector has bit 3 set gives a sign-replicated 0 or -1,
// which the stored entries of the other half make up for).
QL_TABLE_CONST u32 kvalues_iq4nl_dot[4];
QL_TABLE_CONST u32 kvalues_fp4_dot[4];

// The activation order of the kv16 types (order_q): out[2i] = elements (4i, 16+4i, 4i+1,
// 17+4i), out[2i+1] = (4i+2, 18+4i, 4i+3, 19+4i): the order in which one weight word's nibbles
// (low, high of byte 0, low, high of byte 1, ...) select bytes when the word is a ql_prmt
// selector, so the per-row permutes that split low and high nibbles are not needed.
QL_DEV void ql_kv16_order_q(const int* q, int* out) {
  for (int i = 0; i < 4; ++i) {
    out[2 * i] = (int)__byte_perm((u32)q[i], (u32)q[4 + i], 0x5140u);      // q bytes 4i, 16+4i, 4i+1, 17+4i
    out[2 * i + 1] = (int)__byte_perm((u32)q[i], (u32)q[4 + i], 0x7362u);  // 4i+2, 18+4i, 4i+3, 19+4i
  }
}

// Dot of the 32 elements of a kv16 run (16 bytes as 4 words: low nibbles = elements 0..15,
// high nibbles = 16..31) with activations in ql_kv16_order_q's order; kvd is the type's
// split table (kvalues_*_dot). Per word: 4 permutes and a xor and two shifts, no byte
// merges: the low-half and high-half lookups go to dp4a separately and add up to the entries.
QL_DEV int ql_kv16_dot32_ordered(const u32 words[4], const u32* kvd, const int* qo) {
  int sumi = 0;
  for (int i = 0; i < 4; ++i) {
    const u32 w = words[i], flipped = w ^ 0x88888888u;  // nibbles n / n ^ 8 (b0lo b0hi b1lo b1hi ..)
    sumi = dp4a((int)ql_prmt(kvd[0], kvd[1], w), qo[2 * i], sumi);                // bytes 0, 1: low half
    sumi = dp4a((int)ql_prmt(kvd[2], kvd[3], flipped), qo[2 * i], sumi);          // bytes 0, 1: high half
    sumi = dp4a((int)ql_prmt(kvd[0], kvd[1], w >> 16), qo[2 * i + 1], sumi);        // bytes 2, 3: low half
    sumi = dp4a((int)ql_prmt(kvd[2], kvd[3], flipped >> 16), qo[2 * i + 1], sumi);  // bytes 2, 3: high half
  }
  return sumi;
}

// The 8 nibbles of a kv16 group as one permute selector: w0, w1 hold 8 bytes (bytes 0..3 /
// 4..7) and the group is their low nibbles, or their high nibbles when `high`. Byte k of the
// result holds the nibble of w0's byte k (low) and of w1's byte k (high): elements 0, 4, 1,
// 5, 2, 6, 3, 7 in nibble order.
QL_DEV u32 ql_kv16_selector(u32 w0, u32 w1, int high) {
  const u32 shift = 4u * (u32)high;
  return ((w0 >> shift) & 0x0F0F0F0Fu) | ((w1 << (4u - shift)) & 0xF0F0F0F0u);
}

// The 8 entries of a 16-byte table kv (4 words) for the 8 nibbles of sel (ql_kv16_selector):
// entries[h] byte k = the entry of nibble 4h + k. Any bytes: byte (nibble & 7) of the low and
// of the high table half, then the high half's where the nibble's bit 3 is set (6 permutes and
// 5 logic ops). Bytes below 128 (SEVEN_BITS): a nibble's other table half comes out 0 (the
// replicated sign of a clear byte), so an or merges the halves (4 permutes, 5 logic ops).
template <bool SEVEN_BITS>
QL_DEV void ql_kv16_lookup8(u32 sel, const u32* kv, u32 entries[2]) {
  if constexpr (SEVEN_BITS) {
    const u32 flipped = sel ^ 0x88888888u;  // the high half direct, the low half 0
    entries[0] = ql_prmt(kv[0], kv[1], sel) | ql_prmt(kv[2], kv[3], flipped);
    entries[1] = ql_prmt(kv[0], kv[1], sel >> 16) | ql_prmt(kv[2], kv[3], flipped >> 16);
  } else {
    const u32 index = sel & 0x77777777u;                        // no sign replicate
    const u32 pick = ((sel >> 1) & 0x44444444u) | 0x32103210u;  // byte k of the low half's result, or of the high's (+4)
    for (int h = 0; h < 2; ++h) {
      const u32 i = index >> (16 * h);
      entries[h] = ql_prmt(ql_prmt(kv[0], kv[1], i), ql_prmt(kv[2], kv[3], i), pick >> (16 * h));
    }
  }
}

// The 8 entries of a kv16 group (ql_kv16_selector's w0, w1, high) as exact floats, from a
// table of entry + BIAS as unsigned bytes (tables.py: biased_kv16), below 128 where BIAS is 64:
// elements 0..7 in order.
template <int BIAS>
QL_DEV void ql_kv16_dequant8(u32 w0, u32 w1, int high, const u32* kv_biased, float out[8]) {
  static_assert(BIAS == 64 || BIAS == 128, "kv16 tables are biased by 64 (7-bit) or 128");
  u32 entries[2];  // elements 0, 4, 1, 5 / 2, 6, 3, 7
  ql_kv16_lookup8<BIAS == 64>(ql_kv16_selector(w0, w1, high), kv_biased, entries);
  for (int h = 0; h < 2; ++h) {
    float f[4];  // elements 2h, 4 + 2h, 2h + 1, 5 + 2h
    ql_bytes_to_f32x4(entries[h], (float)BIAS, f);
    out[2 * h] = f[0], out[4 + 2 * h] = f[1], out[2 * h + 1] = f[2], out[5 + 2 * h] = f[3];
  }
}
