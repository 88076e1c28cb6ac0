"""NumPy dequantizers for float tensors and the 32-element block types.

Formulas: docs/ggml-quant-formats.md §2.1. Each function maps uint8 blocks
(n, block_bytes) to float32 (n, block_elems); float math is done in float32 in the order
ggml uses (scale first, then the code), so results are bit-exact.
"""

from __future__ import annotations

import numpy as np

from engine.quant.dequant_common import bit_planes, f16_field, nibbles_lo_then_hi, u32_fields
from engine.quant.grids import lookup_tables


def dequant_f32(blocks: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(blocks).view("<f4").astype(np.float32)  # (n, 4) bytes -> (n, 1)


def dequant_f16(blocks: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(blocks).view("<f2").astype(np.float32)  # (n, 2) bytes -> (n, 1)


def dequant_bf16(blocks: np.ndarray) -> np.ndarray:
    upper = np.ascontiguousarray(blocks).view("<u2").astype(np.uint32)  # (n, 1): the top 16 bits of an f32
    return (upper << 16).view(np.float32)  # (n, 1)


def _nibbles_32(qs: np.ndarray) -> np.ndarray:
    """(n, 16) packed bytes -> (n, 32): elements 0..15 = low nibbles, 16..31 = high nibbles."""
    return nibbles_lo_then_hi(qs).reshape(len(qs), 32)  # (n, 2, 16) -> (n, 32)


def _fifth_bits(qh: np.ndarray) -> np.ndarray:
    """(n, 1) u32 -> (n, 32) uint8: bit j of qh is the 5th bit of element j."""
    return bit_planes(qh, np.arange(32), 1).reshape(len(qh), 32).astype(np.uint8)  # (n, 32, 1) -> (n, 32)


def dequant_q4_0(blocks: np.ndarray) -> np.ndarray:
    d = f16_field(blocks, 0)  # (n, 1): bytes 0..1
    q = _nibbles_32(blocks[:, 2:18]).astype(np.int8) - np.int8(8)  # (n, 32) from qs bytes 2..17
    return d * q.astype(np.float32)  # (n, 32)


def dequant_q4_1(blocks: np.ndarray) -> np.ndarray:
    d, m = f16_field(blocks, 0), f16_field(blocks, 2)  # (n, 1) each: bytes 0..1, 2..3
    q = _nibbles_32(blocks[:, 4:20]).astype(np.float32)  # (n, 32) from qs bytes 4..19
    return d * q + m  # (n, 32)


def dequant_q5_0(blocks: np.ndarray) -> np.ndarray:
    d = f16_field(blocks, 0)  # (n, 1): bytes 0..1
    high = _fifth_bits(u32_fields(blocks, 2, 1))  # (n, 32) from qh bytes 2..5
    low = _nibbles_32(blocks[:, 6:22])  # (n, 32) from qs bytes 6..21
    q = (low | (high << 4)).astype(np.int8) - np.int8(16)  # (n, 32) in -16..15
    return d * q.astype(np.float32)


def dequant_q5_1(blocks: np.ndarray) -> np.ndarray:
    d, m = f16_field(blocks, 0), f16_field(blocks, 2)  # (n, 1) each: bytes 0..1, 2..3
    high = _fifth_bits(u32_fields(blocks, 4, 1))  # (n, 32) from qh bytes 4..7
    low = _nibbles_32(blocks[:, 8:24])  # (n, 32) from qs bytes 8..23
    q = (low | (high << 4)).astype(np.float32)  # (n, 32) in 0..31
    return d * q + m


def dequant_q8_0(blocks: np.ndarray) -> np.ndarray:
    d = f16_field(blocks, 0)  # (n, 1): bytes 0..1
    q = np.ascontiguousarray(blocks[:, 2:34]).view(np.int8)  # (n, 32) int8 from bytes 2..33
    return d * q.astype(np.float32)


def dequant_iq4_nl(blocks: np.ndarray) -> np.ndarray:
    d = f16_field(blocks, 0)  # (n, 1): bytes 0..1
    codes = lookup_tables().kvalues_iq4nl[_nibbles_32(blocks[:, 2:18])]  # (n, 32) int8 from qs bytes 2..17
    return d * codes.astype(np.float32)


def dequant_mxfp4(blocks: np.ndarray) -> np.ndarray:
    exponent = blocks[:, 0:1].astype(np.int32)  # (n, 1): E8M0 byte 0
    scale = np.ldexp(np.float32(1.0), exponent - 128).astype(np.float32)  # (n, 1) = 2^(e-128), exact
    codes = lookup_tables().kvalues_fp4[_nibbles_32(blocks[:, 1:17])]  # (n, 32) doubled E2M1, bytes 1..16
    return scale * codes.astype(np.float32)


DEQUANTIZERS = (
    ("F32", dequant_f32),
    ("F16", dequant_f16),
    ("BF16", dequant_bf16),
    ("Q4_0", dequant_q4_0),
    ("Q4_1", dequant_q4_1),
    ("Q5_0", dequant_q5_0),
    ("Q5_1", dequant_q5_1),
    ("Q8_0", dequant_q8_0),
    ("IQ4_NL", dequant_iq4_nl),
    ("MXFP4", dequant_mxfp4),
)
