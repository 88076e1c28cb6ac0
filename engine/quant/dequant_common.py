"""Small byte-unpacking helpers shared by the NumPy dequantizers.

Every helper takes ``blocks``: uint8 (n_blocks, block_bytes), one GGUF block per row, and
returns arrays with n_blocks as the first axis. All multi-byte fields are little-endian.
"""

from __future__ import annotations

import numpy as np


def f16_field(blocks: np.ndarray, offset: int) -> np.ndarray:
    """The f16 at byte ``offset`` of each block, as float32 (n, 1)."""
    raw = np.ascontiguousarray(blocks[:, offset : offset + 2])  # (n, 2) bytes of one f16
    return raw.view("<f2").astype(np.float32)  # (n, 1)


def u16_fields(blocks: np.ndarray, start: int, count: int) -> np.ndarray:
    """``count`` little-endian u16 starting at byte ``start``: uint16 (n, count)."""
    raw = np.ascontiguousarray(blocks[:, start : start + 2 * count])  # (n, 2*count) bytes
    return raw.view("<u2").astype(np.uint16)  # (n, count)


def u32_fields(blocks: np.ndarray, start: int, count: int) -> np.ndarray:
    """``count`` little-endian u32 starting at byte ``start``: uint32 (n, count)."""
    raw = np.ascontiguousarray(blocks[:, start : start + 4 * count])  # (n, 4*count) bytes
    return raw.view("<u4").astype(np.uint32)  # (n, count)


def nibbles_lo_then_hi(packed: np.ndarray) -> np.ndarray:
    """(..., m) bytes -> (..., 2, m): [..., 0, j] = low nibble of byte j, [..., 1, j] = high nibble."""
    low = packed & 0x0F  # (..., m)
    high = packed >> 4  # (..., m)
    return np.stack([low, high], axis=-2)  # (..., 2, m)


def bit_planes(values: np.ndarray, shifts: np.ndarray | list[int], mask: int) -> np.ndarray:
    """(..., m) -> (..., len(shifts), m): ``(values >> shift) & mask`` for each shift."""
    shifts = np.asarray(shifts, dtype=values.dtype).reshape(-1, 1)  # (s, 1)
    return (values[..., None, :] >> shifts) & values.dtype.type(mask)  # (..., s, m)


def apply_signs(values: np.ndarray, negate: np.ndarray) -> np.ndarray:
    """Negate ``values`` where ``negate`` is true (exact, like multiplying by -1)."""
    return np.where(negate, -values, values)
