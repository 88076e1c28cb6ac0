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
QL_TABLE_CONST u32 kvalues_iq4nl[4];     // 16 int8, byte n = kvalues_iq4nl[n]
QL_TABLE_CONST u32 kvalues_fp4[4];       // 16 int8 (doubled E2M1), byte n = kvalues_fp4[n]
// The same two tables split for dot products (tables.py: split_kv16_for_dot): with
// lo = ql_prmt(t[0], t[1], n) and hi = ql_prmt(t[2], t[3], n ^ 8) for a nibble n, lo + hi =
// kvalues[n] exactly (the half whose selector has bit 3 set gives a sign-replicated 0 or -1,
// which the stored entries of the other half make up for).
QL_TABLE_CONST u32 kvalues_iq4nl_dot[4];
QL_TABLE_CONST u32 kvalues_fp4_dot[4];

// Look up the 8 nibbles of w in a 16-entry int8 table (4 u32), branch-free with byte permutes:
// lo = entries of the low nibbles of bytes 0..3, hi = entries of their high nibbles, one
// int8 per byte. __byte_perm uses 3 bits of a selector nibble; bit 3 picks the upper table half.
QL_DEV void ql_kv16_lookup8(u32 w, const u32* kv, u32& lo, u32& hi) {
  const u32 pick_upper = 0x32103210u | ((w & 0x88888888u) >> 1);  // nibble k -> byte k, +4 if entry >= 8
  const u32 sel0 = w, sel1 = w >> 16;  // nibbles (b0lo, b0hi, b1lo, b1hi) / (b2lo, b2hi, b3lo, b3hi)
  const u32 half0 = __byte_perm(__byte_perm(kv[0], kv[1], sel0), __byte_perm(kv[2], kv[3], sel0), pick_upper);
  const u32 half1 = __byte_perm(__byte_perm(kv[0], kv[1], sel1), __byte_perm(kv[2], kv[3], sel1), pick_upper >> 16);
  lo = __byte_perm(half0, half1, 0x6420u);  // bytes b0lo b1lo b2lo b3lo
  hi = __byte_perm(half0, half1, 0x7531u);  // bytes b0hi b1hi b2hi b3hi
}

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

// 8 table entries times dl: w0, w1 hold 8 bytes (bytes 0..3 / 4..7); element j is the entry of
// byte j's high nibble when `high`, else of its low nibble. Exact: the int8 entries become
// floats through ql_bytes_to_f32x4 (entry + 128 as an unsigned byte, bias 128).
QL_DEV void ql_kv16_dequant8(u32 w0, u32 w1, int high, const u32* kv, float dl, float out[8]) {
  u32 lo0, hi0, lo1, hi1;
  ql_kv16_lookup8(w0, kv, lo0, hi0);  // int8 entries of bytes 0..3 (low / high nibbles)
  ql_kv16_lookup8(w1, kv, lo1, hi1);  // int8 entries of bytes 4..7
  float values[8];
  ql_bytes_to_f32x4((high ? hi0 : lo0) ^ 0x80808080u, 128.0f, values);      // elements 0..3
  ql_bytes_to_f32x4((high ? hi1 : lo1) ^ 0x80808080u, 128.0f, values + 4);  // elements 4..7
  for (int j = 0; j < 8; ++j) out[j] = dl * values[j];
}
