"""Valid, weight-like quant blocks for tests and benchmarks, and float -> block quantization.

``random_blocks`` fills every byte at random (every quant/grid-index bit pattern is valid)
and then overwrites the scale fields with realistic values: an f16 super-scale chosen so
the largest value a block *could* produce is 0.02..0.5 (real weights: d about 1e-3..1e-2
for legacy types, smaller for K/IQ types whose sub-scales multiply in), mins that centre
the block, and an MXFP4 E8M0 exponent of 118..123. Dequantized values are finite and
weight-like (|w| mostly well under 0.5).

``quantize_floats`` uses ``gguf.quants.quantize`` where gguf has a quantizer for the type
(Q4_0..Q8_0, TQ1_0, TQ2_0, MXFP4 in gguf 0.19; found by asking gguf, not from a list). For
the others (K-quants, IQ types) it FALLS BACK to random valid blocks whose super-scales are
rescaled so each block's absolute maximum matches that of the input block: the result has
the input's magnitude, not its values. Float types are converted exactly (BF16 rounds to
nearest even, NaN kept quiet).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
from gguf import quants as gguf_quants

from engine.quant.table import QuantType, by_name

MXFP4_EXPONENT_RANGE = (118, 123)  # E8M0 byte: 2^(e-128) * 12 is 0.0117..0.375


@dataclass(frozen=True)
class ScaleLayout:
    """Where a block keeps its f16 scales, and the largest |code| its super-scale multiplies."""

    d_offset: int | None  # byte offset of the f16 super-scale d (None: IQ1_M / MXFP4)
    max_code: float  # max |sub-scale * quant| that d multiplies
    min_offset: int | None = None  # byte offset of the f16 dmin / m, if any
    min_ratio: float = 0.0  # |min| / d that centres the block (mean code)
    signed_d: bool = False  # ggml can store negative d (Q4_0, Q5_0, IQ4_NL)


_IQ2_CODE = 43 * (0.5 + 15) * 0.25  # grid max * largest sub-scale
_SCALE_LAYOUTS = MappingProxyType(
    {
        "Q4_0": ScaleLayout(0, 8, signed_d=True),
        "Q4_1": ScaleLayout(0, 15, min_offset=2, min_ratio=7.5),
        "Q5_0": ScaleLayout(0, 16, signed_d=True),
        "Q5_1": ScaleLayout(0, 31, min_offset=2, min_ratio=15.5),
        "Q8_0": ScaleLayout(0, 127),
        "Q2_K": ScaleLayout(80, 15 * 3, min_offset=82, min_ratio=1.5),
        "Q3_K": ScaleLayout(108, 32 * 4),
        "Q4_K": ScaleLayout(0, 63 * 15, min_offset=2, min_ratio=7.5),
        "Q5_K": ScaleLayout(0, 63 * 31, min_offset=2, min_ratio=15.5),
        "Q6_K": ScaleLayout(208, 128 * 32),
        "IQ1_S": ScaleLayout(0, 15 * 1.125),
        "IQ1_M": ScaleLayout(None, 15 * 1.125),
        "IQ2_XXS": ScaleLayout(0, _IQ2_CODE),
        "IQ2_XS": ScaleLayout(0, _IQ2_CODE),
        "IQ2_S": ScaleLayout(0, _IQ2_CODE),
        "IQ3_XXS": ScaleLayout(0, 62 * 7.75),
        "IQ3_S": ScaleLayout(0, 15 * 31),
        "IQ4_NL": ScaleLayout(0, 127, signed_d=True),
        "IQ4_XS": ScaleLayout(0, 127 * 32),
        "TQ1_0": ScaleLayout(52, 1),
        "TQ2_0": ScaleLayout(64, 2),
        "MXFP4": ScaleLayout(None, 12),
    }
)


def _layout(row: QuantType) -> ScaleLayout:
    try:
        return _SCALE_LAYOUTS[row.name]
    except KeyError:
        raise KeyError(f"random_blocks: no scale layout for quant type {row.name}") from None


def _write_f16(blocks: np.ndarray, offset: int, values: np.ndarray) -> None:
    """Store float values as f16 at byte ``offset`` of every block (in place)."""
    halves = values.astype(np.float16).reshape(-1, 1).view(np.uint8)  # (n, 2) little-endian f16 bytes
    blocks[:, offset : offset + 2] = halves  # bytes offset..offset+1 of each block


def _read_f16(blocks: np.ndarray, offset: int) -> np.ndarray:
    raw = np.ascontiguousarray(blocks[:, offset : offset + 2])  # (n, 2) f16 bytes
    return raw.view(np.float16).reshape(-1).astype(np.float32)  # (n,)


def _write_iq1m_scale(blocks: np.ndarray, d: np.ndarray) -> None:
    """IQ1_M keeps its f16 d in the top nibble of each of its 4 u16 scales (bytes 48..55)."""
    d_bits = d.astype(np.float16).view(np.uint16).astype(np.uint16)  # (n,)
    scales = np.ascontiguousarray(blocks[:, 48:56]).view("<u2")  # (n, 4) u16 sub-scales
    for k in range(4):  # nibble k of d -> bits 12..15 of scales[k]
        nibble = (d_bits >> (4 * k)) & 0xF
        scales[:, k] = (scales[:, k] & 0x0FFF) | (nibble << 12)
    blocks[:, 48:56] = scales.view(np.uint8)  # (n, 8) bytes back in place


def _read_iq1m_scale(blocks: np.ndarray) -> np.ndarray:
    scales = np.ascontiguousarray(blocks[:, 48:56]).view("<u2")  # (n, 4) u16 sub-scales
    d_bits = np.zeros(len(blocks), dtype=np.uint16)
    for k in range(4):
        d_bits |= (scales[:, k] >> 12) << (4 * k)
    return d_bits.view(np.float16).astype(np.float32)  # (n,)


def _random_floats(row: QuantType, n_blocks: int, rng: np.random.Generator) -> np.ndarray:
    values = (rng.standard_normal(n_blocks) * 0.05).astype(np.float32)  # (n,) weight-like
    if row.name == "F32":
        return values.view(np.uint8).reshape(n_blocks, 4)  # (n, 4) f32 bytes
    return float_bytes(row.name, values).reshape(n_blocks, row.block_bytes)  # (n, 2)


def random_blocks(type_name: str, n_blocks: int, rng: np.random.Generator) -> np.ndarray:
    """``n_blocks`` valid, weight-like blocks of ``type_name``: uint8 (n_blocks, block_bytes)."""
    row = by_name(type_name)
    if row.is_float:
        return _random_floats(row, n_blocks, rng)
    blocks = rng.integers(0, 256, size=(n_blocks, row.block_bytes), dtype=np.uint8)  # (n, block_bytes)
    layout = _layout(row)
    if row.name == "MXFP4":
        low, high = MXFP4_EXPONENT_RANGE
        blocks[:, 0] = rng.integers(low, high + 1, size=n_blocks)  # byte 0: E8M0 exponent
        return blocks
    amplitude = np.exp(rng.uniform(np.log(0.02), np.log(0.5), size=n_blocks))  # (n,) block max |w|
    d = amplitude / layout.max_code
    if layout.signed_d:
        d *= rng.choice([-1.0, 1.0], size=n_blocks)
    _set_scales(row, blocks, d, d * layout.min_ratio * rng.uniform(0.5, 1.5, size=n_blocks))
    return blocks


def _set_scales(row: QuantType, blocks: np.ndarray, d: np.ndarray, dmin: np.ndarray) -> None:
    layout = _layout(row)
    if row.name == "IQ1_M":
        _write_iq1m_scale(blocks, d)
        return
    _write_f16(blocks, layout.d_offset, d)
    if layout.min_offset is None:
        return
    sign = -1.0 if row.name in ("Q4_1", "Q5_1") else 1.0  # Q4_1/Q5_1 add m; K-quants subtract dmin*m
    _write_f16(blocks, layout.min_offset, sign * dmin)


def _get_scales(row: QuantType, blocks: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    layout = _layout(row)
    if row.name == "IQ1_M":
        return _read_iq1m_scale(blocks), None
    d = _read_f16(blocks, layout.d_offset)
    dmin = None if layout.min_offset is None else _read_f16(blocks, layout.min_offset)
    return d, dmin


def float_bytes(type_name: str, values: np.ndarray) -> np.ndarray:
    """Float values as the bytes of an F32, F16 or BF16 tensor (uint8, 4 or 2 bytes per value)."""
    as_f32 = np.ascontiguousarray(values, dtype=np.float32)
    if type_name == "F32":
        return as_f32.view(np.uint8).reshape(-1)  # (n*4,)
    if type_name == "F16":
        return as_f32.astype(np.float16).view(np.uint8).reshape(-1)  # (n*2,)
    if type_name == "BF16":
        return _to_bf16(as_f32).view(np.uint8).reshape(-1)  # (n*2,)
    raise ValueError(f"float_bytes: {type_name} is not a float type (F32, F16, BF16)")


def _to_bf16(values: np.ndarray) -> np.ndarray:
    """float32 -> bf16 bits (uint16): round to nearest even; NaN stays a quiet NaN."""
    bits = values.reshape(-1).view(np.uint32).astype(np.uint64)  # (n,) widened to avoid overflow
    rounding = 0x7FFF + ((bits >> 16) & 1)  # ties go to the even upper half
    rounded = ((bits + rounding) >> 16).astype(np.uint16)  # (n,) upper 16 bits, rounded
    is_nan = (bits & 0x7FFFFFFF) > 0x7F800000
    quiet_nan = ((bits >> 16) | 0x0040).astype(np.uint16)  # keep sign/payload top, set quiet bit
    return np.where(is_nan, quiet_nan, rounded)  # (n,) uint16


def quantize_floats(type_name: str, values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(rows, K) float32 -> uint8 (rows, K // block_elems * block_bytes) of ``type_name``.

    Exact quantization through gguf where gguf has a quantizer; otherwise random valid blocks
    with each block's magnitude matched to the input (see the module docstring).
    """
    row = by_name(type_name)
    values = np.asarray(values, dtype=np.float32)
    if values.ndim != 2 or values.shape[1] % row.block_elems:
        raise ValueError(
            f"quantize_floats({row.name}): values must be (rows, K) with K a multiple of "
            f"{row.block_elems}, got shape {values.shape}"
        )
    rows, k = values.shape
    out_shape = (rows, k // row.block_elems * row.block_bytes)
    if row.is_float:
        return float_bytes(row.name, values).reshape(out_shape)
    try:
        quantized = gguf_quants.quantize(values, row.ggml_type)
    except NotImplementedError:
        quantized = _magnitude_matched_blocks(row, values, rng)
    return np.ascontiguousarray(quantized, dtype=np.uint8).reshape(out_shape)


def _magnitude_matched_blocks(row: QuantType, values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    from engine.quant.dequant import dequantize  # late import: dequant does not depend on us

    target = np.abs(values.reshape(-1, row.block_elems)).max(axis=1)  # (n_blocks,) input block max
    blocks = random_blocks(row.name, len(target), rng)  # (n_blocks, block_bytes)
    produced = np.abs(dequantize(row.name, blocks).reshape(-1, row.block_elems)).max(axis=1)  # (n_blocks,)
    ratio = np.divide(target, produced, out=np.zeros_like(target), where=produced > 0)
    d, dmin = _get_scales(row, blocks)
    _set_scales(row, blocks, d * ratio, np.zeros_like(d) if dmin is None else np.abs(dmin) * ratio)
    return blocks  # (n_blocks, block_bytes)
