"""NumPy dequantizers for the K-quants (Q2_K..Q6_K) and the ternary types (TQ1_0, TQ2_0).

Formulas: docs/ggml-quant-formats.md §2.2 and §2.4. Super-blocks of 256 elements; each
function maps uint8 (n, block_bytes) to float32 (n, 256). Products are formed as
``(d * sub_scale) * q - (dmin * min)`` in float32, the order ggml uses.
"""

from __future__ import annotations

import numpy as np

from engine.quant.dequant_common import bit_planes, f16_field, nibbles_lo_then_hi

QK_K = 256


def _two_bit_quants(qs: np.ndarray) -> np.ndarray:
    """(n, 64) bytes -> (n, 256): element 128*half + 32*j + l = (qs[32*half + l] >> 2j) & 3."""
    halves = qs.reshape(len(qs), 2, 32)  # (n, half, l)
    return bit_planes(halves, [0, 2, 4, 6], 3).reshape(len(qs), QK_K)  # (n, half, j, l) -> (n, 256)


def dequant_q2_k(blocks: np.ndarray) -> np.ndarray:
    n = len(blocks)
    scales = blocks[:, 0:16]  # (n, 16): low nibble = scale, high nibble = min, per 16 elements
    q = _two_bit_quants(blocks[:, 16:80]).reshape(n, 16, 16).astype(np.float32)  # (n, sub, 16)
    d, dmin = f16_field(blocks, 80), f16_field(blocks, 82)  # (n, 1) each: bytes 80..81, 82..83
    sub_scale = (d * (scales & 0x0F).astype(np.float32))[:, :, None]  # (n, 16, 1)
    sub_min = (dmin * (scales >> 4).astype(np.float32))[:, :, None]  # (n, 16, 1)
    return (sub_scale * q - sub_min).reshape(n, QK_K)


def _q3_k_scales(packed: np.ndarray) -> np.ndarray:
    """(n, 12) packed 6-bit scales -> (n, 16) int8 scales in -32..31."""
    n = len(packed)
    low = nibbles_lo_then_hi(packed[:, 0:8]).reshape(n, 16)  # (n, 2, 8): k = 8*(k//8) + k%8
    high = bit_planes(packed[:, 8:12], [0, 2, 4, 6], 3).reshape(n, 16)  # (n, 4, 4): k = 4*(k//4) + k%4
    return (low | (high << 4)).astype(np.int8) - np.int8(32)  # (n, 16)


def dequant_q3_k(blocks: np.ndarray) -> np.ndarray:
    n = len(blocks)
    hmask = blocks[:, 0:32]  # (n, 32): bit 4*half + j of hmask[l] is the high bit of element i
    high = bit_planes(hmask, np.arange(8), 1).reshape(n, QK_K)  # (n, 8 = half*4 + j, 32) -> (n, 256)
    low = _two_bit_quants(blocks[:, 32:96])  # (n, 256) from qs bytes 32..95
    q = low.astype(np.int8) - ((high ^ 1) << 2).astype(np.int8)  # (n, 256) in -4..3
    d = f16_field(blocks, 108)  # (n, 1): bytes 108..109
    sub_scale = (d * _q3_k_scales(blocks[:, 96:108]).astype(np.float32))[:, :, None]  # (n, 16, 1)
    return (sub_scale * q.reshape(n, 16, 16).astype(np.float32)).reshape(n, QK_K)


def _scale_min_k4(packed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n, 12) packed scales of Q4_K/Q5_K -> (scale, min), each uint8 (n, 8), 6 bits.

    j < 4: sc = s[j] & 63, m = s[j+4] & 63.
    j >= 4: sc = (s[j+4] & 15) | (s[j-4] >> 6) << 4, m = (s[j+4] >> 4) | (s[j] >> 6) << 4.
    """
    first, second, third = packed[:, 0:4], packed[:, 4:8], packed[:, 8:12]  # (n, 4) each
    scale_hi = (third & 0x0F) | ((first >> 6) << 4)  # (n, 4): sub-blocks 4..7
    min_hi = (third >> 4) | ((second >> 6) << 4)  # (n, 4): sub-blocks 4..7
    scale = np.concatenate([first & 0x3F, scale_hi], axis=1)  # (n, 8)
    minimum = np.concatenate([second & 0x3F, min_hi], axis=1)  # (n, 8)
    return scale, minimum


def _apply_scale_min(blocks: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Q4_K/Q5_K: y = (d*sc) * q - (dmin*m) per 32-element sub-block; q is (n, 8, 32) float32."""
    d, dmin = f16_field(blocks, 0), f16_field(blocks, 2)  # (n, 1) each: bytes 0..1, 2..3
    scale, minimum = _scale_min_k4(blocks[:, 4:16])  # (n, 8) each from bytes 4..15
    sub_scale = (d * scale.astype(np.float32))[:, :, None]  # (n, 8, 1)
    sub_min = (dmin * minimum.astype(np.float32))[:, :, None]  # (n, 8, 1)
    return (sub_scale * q - sub_min).reshape(len(blocks), QK_K)


def _q4_k_nibbles(qs: np.ndarray) -> np.ndarray:
    """(n, 128) bytes -> (n, 8, 32): sub-block sb uses qs[32*(sb//2) + l], low nibble if sb even."""
    return nibbles_lo_then_hi(qs.reshape(len(qs), 4, 32)).reshape(len(qs), 8, 32)  # (n, 4, 2, 32)


def dequant_q4_k(blocks: np.ndarray) -> np.ndarray:
    q = _q4_k_nibbles(blocks[:, 16:144]).astype(np.float32)  # (n, 8, 32) from qs bytes 16..143
    return _apply_scale_min(blocks, q)


def dequant_q5_k(blocks: np.ndarray) -> np.ndarray:
    n = len(blocks)
    high = bit_planes(blocks[:, 16:48], np.arange(8), 1)  # (n, 8 = sb, 32): bit sb of qh[l], bytes 16..47
    low = _q4_k_nibbles(blocks[:, 48:176])  # (n, 8, 32) from qs bytes 48..175
    q = (low | (high << 4)).astype(np.float32).reshape(n, 8, 32)  # (n, 8, 32) in 0..31
    return _apply_scale_min(blocks, q)


def dequant_q6_k(blocks: np.ndarray) -> np.ndarray:
    n = len(blocks)
    ql = blocks[:, 0:128].reshape(n, 2, 64)  # (n, ip, 64 = 32*(k%2) + l)
    low = nibbles_lo_then_hi(ql).reshape(n, 2, 4, 32)  # (n, ip, k//2, 64) -> (n, ip, k, l)
    qh = blocks[:, 128:192].reshape(n, 2, 32)  # (n, ip, l)
    high = bit_planes(qh, [0, 2, 4, 6], 3)  # (n, ip, k, l)
    q = ((low | (high << 4)).astype(np.int8) - np.int8(32)).reshape(n, 16, 16)  # (n, sub, 16) in -32..31
    scales = np.ascontiguousarray(blocks[:, 192:208]).view(np.int8)  # (n, 16) int8, bytes 192..207
    d = f16_field(blocks, 208)  # (n, 1): bytes 208..209
    sub_scale = (d * scales.astype(np.float32))[:, :, None]  # (n, 16, 1)
    return (sub_scale * q.astype(np.float32)).reshape(n, QK_K)


def _trits(packed: np.ndarray, count: int) -> np.ndarray:
    """(n, m) base-3 bytes -> (n, count, m): trit k of byte b = ((uint8)(b * 3^k) * 3) >> 8."""
    powers = (3 ** np.arange(count)).astype(np.uint8).reshape(-1, 1)  # (count, 1)
    shifted = packed[:, None, :] * powers  # (n, count, m) uint8, wraps mod 256
    return ((shifted.astype(np.uint16) * 3) >> 8).astype(np.int8)  # (n, count, m) in 0..2


def dequant_tq1_0(blocks: np.ndarray) -> np.ndarray:
    n = len(blocks)
    first = _trits(blocks[:, 0:32], 5).reshape(n, 160)  # (n, k, j): y[32k + j], qs bytes 0..31
    second = _trits(blocks[:, 32:48], 5).reshape(n, 80)  # (n, k, j): y[160 + 16k + j], qs bytes 32..47
    third = _trits(blocks[:, 48:52], 4).reshape(n, 16)  # (n, k, j): y[240 + 4k + j], qh bytes 48..51
    trits = np.concatenate([first, second, third], axis=1) - np.int8(1)  # (n, 256) in -1..1
    d = f16_field(blocks, 52)  # (n, 1): bytes 52..53
    return d * trits.astype(np.float32)


def dequant_tq2_0(blocks: np.ndarray) -> np.ndarray:
    q = _two_bit_quants(blocks[:, 0:64]).astype(np.int8) - np.int8(1)  # (n, 256) in -1..2, qs bytes 0..63
    d = f16_field(blocks, 64)  # (n, 1): bytes 64..65
    return d * q.astype(np.float32)


DEQUANTIZERS = (
    ("Q2_K", dequant_q2_k),
    ("Q3_K", dequant_q3_k),
    ("Q4_K", dequant_q4_k),
    ("Q5_K", dequant_q5_k),
    ("Q6_K", dequant_q6_k),
    ("TQ1_0", dequant_tq1_0),
    ("TQ2_0", dequant_tq2_0),
)
