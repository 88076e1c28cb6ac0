"""NumPy dequantizers for the I-quants (IQ1_S, IQ1_M, IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S, IQ4_XS).

Formulas: docs/ggml-quant-formats.md §2.3. Super-blocks of 256 elements = 8 sub-blocks
``ib`` of 32 = 4 groups ``l`` of 8 per sub-block. Grids come from engine.quant.grids (ggml's
packed tables); each function maps uint8 (n, block_bytes) to float32 (n, 256). Scales are
formed as ggml does, ``d * (0.5 + s) * 0.25`` etc., then multiplied by the grid value.
"""

from __future__ import annotations

import numpy as np

from engine.quant.dequant_common import (
    apply_signs,
    bit_planes,
    f16_field,
    nibbles_lo_then_hi,
    u16_fields,
    u32_fields,
)
from engine.quant.grids import grid_bytes, lookup_tables

QK_K = 256


def _grid_values(packed_grid: np.ndarray, values_per_entry: int, indices: np.ndarray) -> np.ndarray:
    """Gather grid rows: indices (n, g) -> float32 (n, g, values_per_entry)."""
    table = grid_bytes(packed_grid, values_per_entry)  # (entries, values_per_entry) uint8
    return table[indices.astype(np.intp)].astype(np.float32)  # (n, g, values_per_entry)


def _ksign_negate(sign_fields: np.ndarray) -> np.ndarray:
    """7-bit sign fields (n, g) -> bool (n, g, 8): element j negated where bit j of ksigns is set."""
    signs = lookup_tables().ksigns_iq2xs[sign_fields.astype(np.intp)]  # (n, g) uint8 with parity bit 7
    return bit_planes(signs[..., None], np.arange(8), 1)[..., 0].astype(bool)  # (n, g, 8)


def _byte_sign_negate(sign_bytes: np.ndarray) -> np.ndarray:
    """Explicit sign bytes (n, g) -> bool (n, g, 8): bit j set negates element j."""
    return bit_planes(sign_bytes[..., None], np.arange(8), 1)[..., 0].astype(bool)  # (n, g, 8)


def _signed_grid_product(scale: np.ndarray, grid: np.ndarray, negate: np.ndarray) -> np.ndarray:
    """(scale * grid) with signs applied; scale (n, g, 1), grid/negate (n, g, 8) -> (n, 256)."""
    return apply_signs(scale * grid, negate).reshape(len(grid), QK_K)


def _xxs_scale(d: np.ndarray, aux: np.ndarray, factor: float) -> np.ndarray:
    """IQ2_XXS/IQ3_XXS: d * (0.5 + (aux >> 28)) * factor, per sub-block -> (n, 8)."""
    return d * (np.float32(0.5) + (aux >> 28).astype(np.float32)) * np.float32(factor)


def _xxs_sign_fields(aux: np.ndarray) -> np.ndarray:
    """(n, 8) u32 -> (n, 32): the four 7-bit sign fields (bits 7l..7l+6) of each sub-block."""
    return bit_planes(aux[..., None], [0, 7, 14, 21], 0x7F)[..., 0].reshape(len(aux), 32)  # (n, ib, l)


def dequant_iq2_xxs(blocks: np.ndarray) -> np.ndarray:
    n = len(blocks)
    d = f16_field(blocks, 0)  # (n, 1): bytes 0..1
    chunks = blocks[:, 2:66].reshape(n, 8, 8)  # (n, ib, 8 bytes): 4 grid indices + u32 aux
    aux = np.ascontiguousarray(chunks[:, :, 4:8]).view("<u4")[..., 0].astype(np.uint32)  # (n, ib)
    grid = _grid_values(lookup_tables().iq2xxs_grid, 8, chunks[:, :, 0:4].reshape(n, 32))  # (n, 32, 8)
    scale = np.repeat(_xxs_scale(d, aux, 0.25), 4, axis=1)[:, :, None]  # (n, 32 = ib*4 + l, 1)
    return _signed_grid_product(scale, grid, _ksign_negate(_xxs_sign_fields(aux)))


def _xs_scale(d: np.ndarray, scale_bytes: np.ndarray) -> np.ndarray:
    """IQ2_XS/IQ2_S: (n, 8) scale bytes -> (n, 32, 1); groups l<2 use the low nibble, l>=2 the high."""
    nibbles = nibbles_lo_then_hi(scale_bytes[..., None]).reshape(len(d), 16)  # (n, ib, 2) -> (n, 16)
    half_scale = d * (np.float32(0.5) + nibbles.astype(np.float32)) * np.float32(0.25)  # (n, 16)
    return np.repeat(half_scale, 2, axis=1)[:, :, None]  # (n, 32 = ib*4 + l, 1)


def dequant_iq2_xs(blocks: np.ndarray) -> np.ndarray:
    d = f16_field(blocks, 0)  # (n, 1): bytes 0..1
    qs = u16_fields(blocks, 2, 32)  # (n, 32 = ib*4 + l): bytes 2..65, 9-bit index | 7-bit sign field << 9
    grid = _grid_values(lookup_tables().iq2xs_grid, 8, qs & 511)  # (n, 32, 8)
    scale = _xs_scale(d, blocks[:, 66:74])  # (n, 32, 1) from scales bytes 66..73
    return _signed_grid_product(scale, grid, _ksign_negate(qs >> 9))


def dequant_iq2_s(blocks: np.ndarray) -> np.ndarray:
    n = len(blocks)
    d = f16_field(blocks, 0)  # (n, 1): bytes 0..1
    low = blocks[:, 2:34].astype(np.uint16)  # (n, 32): index low bits, bytes 2..33
    sign_bytes = blocks[:, 34:66]  # (n, 32): explicit signs, bytes 34..65
    high = bit_planes(blocks[:, 66:74].astype(np.uint16)[..., None], [0, 2, 4, 6], 3)  # (n, ib, l, 1), qh 66..73
    indices = low | (high.reshape(n, 32) << 8)  # (n, 32) 10-bit indices
    grid = _grid_values(lookup_tables().iq2s_grid, 8, indices)  # (n, 32, 8)
    scale = _xs_scale(d, blocks[:, 74:82])  # (n, 32, 1) from scales bytes 74..81
    return _signed_grid_product(scale, grid, _byte_sign_negate(sign_bytes))


def dequant_iq3_xxs(blocks: np.ndarray) -> np.ndarray:
    n = len(blocks)
    d = f16_field(blocks, 0)  # (n, 1): bytes 0..1
    indices = blocks[:, 2:66]  # (n, 64 = ib*8 + 2l + half): grid indices, bytes 2..65
    aux = u32_fields(blocks, 66, 8)  # (n, ib): signs and scale, bytes 66..97
    grid = _grid_values(lookup_tables().iq3xxs_grid, 4, indices).reshape(n, 32, 8)  # (n, 64, 4) -> (n, 32, 8)
    scale = np.repeat(_xxs_scale(d, aux, 0.5), 4, axis=1)[:, :, None]  # (n, 32, 1)
    return _signed_grid_product(scale, grid, _ksign_negate(_xxs_sign_fields(aux)))


def dequant_iq3_s(blocks: np.ndarray) -> np.ndarray:
    n = len(blocks)
    d = f16_field(blocks, 0)  # (n, 1): bytes 0..1
    low = blocks[:, 2:66].reshape(n, 8, 8).astype(np.uint16)  # (n, ib, k): index low bits, bytes 2..65
    high = bit_planes(blocks[:, 66:74].astype(np.uint16)[..., None], np.arange(8), 1)[..., 0]  # (n, ib, k), qh 66..73
    grid = _grid_values(lookup_tables().iq3s_grid, 4, (low | (high << 8)).reshape(n, 64))  # (n, 64, 4)
    negate = _byte_sign_negate(blocks[:, 74:106])  # (n, 32, 8): signs bytes 74..105, 8 elements per byte
    scale_nibbles = nibbles_lo_then_hi(blocks[:, 106:110][..., None]).reshape(n, 8)  # (n, ib), bytes 106..109
    sub_scale = d * (1 + 2 * scale_nibbles).astype(np.float32)  # (n, ib)
    scale = np.repeat(sub_scale, 4, axis=1)[:, :, None]  # (n, 32, 1)
    return _signed_grid_product(scale, grid.reshape(n, 32, 8), negate)


def _iq1_values(sub_scale: np.ndarray, indices: np.ndarray, negative_delta: np.ndarray) -> np.ndarray:
    """y = scale * (grid + delta); sub_scale (n, 32), indices/negative_delta (n, 32) -> (n, 256)."""
    tables = lookup_tables()
    grid = tables.iq1s_grid[indices.astype(np.intp)].astype(np.float32)  # (n, 32, 8) in {-1, 0, 1}
    delta = np.where(negative_delta, np.float32(-tables.iq1_delta), np.float32(tables.iq1_delta))  # (n, 32)
    return (sub_scale[:, :, None] * (grid + delta[:, :, None])).reshape(len(grid), QK_K)


def dequant_iq1_s(blocks: np.ndarray) -> np.ndarray:
    n = len(blocks)
    d = f16_field(blocks, 0)  # (n, 1): bytes 0..1
    qh = u16_fields(blocks, 34, 8)  # (n, ib): bytes 34..49
    high = bit_planes(qh[..., None], [0, 3, 6, 9], 7)[..., 0]  # (n, ib, l): 3 index bits per group
    indices = blocks[:, 2:34].astype(np.uint16) | (high.reshape(n, 32) << 8)  # (n, 32) 11-bit, qs 2..33
    sub_scale = d * (2 * ((qh >> 12) & 7) + 1).astype(np.float32)  # (n, ib)
    negative = np.repeat((qh & 0x8000) != 0, 4, axis=1)  # (n, 32)
    return _iq1_values(np.repeat(sub_scale, 4, axis=1), indices, negative)


def _iq1_m_super_scale(scales: np.ndarray) -> np.ndarray:
    """(n, 4) u16 -> (n, 1) float32: the f16 d is the top nibble of each u16 (scale k -> bits 4k..4k+3)."""
    top = (scales >> 12) << np.arange(0, 16, 4, dtype=np.uint16)  # (n, 4) nibbles moved into place
    bits = np.bitwise_or.reduce(top, axis=1).astype(np.uint16)  # (n,)
    return bits.view(np.float16).astype(np.float32)[:, None]  # (n, 1)


def dequant_iq1_m(blocks: np.ndarray) -> np.ndarray:
    n = len(blocks)
    nib = nibbles_lo_then_hi(blocks[:, 32:48][..., None]).reshape(n, 32)  # (n, 4ib + l), qh bytes 32..47
    indices = blocks[:, 0:32].astype(np.uint16) | ((nib & 7).astype(np.uint16) << 8)  # (n, 32), qs 0..31
    scales = u16_fields(blocks, 48, 4)  # (n, 4): bytes 48..55
    three_bit = bit_planes(scales[..., None], [0, 3, 6, 9], 7).reshape(n, 16)  # (n, ib16 = 4*(ib16//4) + ib16%4)
    sub_scale = _iq1_m_super_scale(scales) * (2 * three_bit + 1).astype(np.float32)  # (n, 16)
    return _iq1_values(np.repeat(sub_scale, 2, axis=1), indices, (nib & 8) != 0)


def dequant_iq4_xs(blocks: np.ndarray) -> np.ndarray:
    n = len(blocks)
    d = f16_field(blocks, 0)  # (n, 1): bytes 0..1
    scales_h = u16_fields(blocks, 2, 1)  # (n, 1): bytes 2..3, 2 high bits per ib
    low = nibbles_lo_then_hi(blocks[:, 4:8][..., None]).reshape(n, 8)  # (n, ib), scales_l bytes 4..7
    high = bit_planes(scales_h, np.arange(0, 16, 2), 3).reshape(n, 8).astype(np.uint8)  # (n, ib)
    sub_scale = d * ((low | (high << 4)).astype(np.int8) - np.int8(32)).astype(np.float32)  # (n, ib)
    nibbles = nibbles_lo_then_hi(blocks[:, 8:136].reshape(n, 8, 16)).reshape(n, 8, 32)  # (n, ib, 32), qs 8..135
    codes = lookup_tables().kvalues_iq4nl[nibbles].astype(np.float32)  # (n, ib, 32)
    return (sub_scale[:, :, None] * codes).reshape(n, QK_K)


DEQUANTIZERS = (
    ("IQ1_S", dequant_iq1_s),
    ("IQ1_M", dequant_iq1_m),
    ("IQ2_XXS", dequant_iq2_xxs),
    ("IQ2_XS", dequant_iq2_xs),
    ("IQ2_S", dequant_iq2_s),
    ("IQ3_XXS", dequant_iq3_xxs),
    ("IQ3_S", dequant_iq3_s),
    ("IQ4_XS", dequant_iq4_xs),
)
