"""NumPy q8_1 with the kernels' float32 arithmetic, for the fused-op tests."""

from __future__ import annotations

import numpy as np


def quantize_q8_1_reference(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x (T, n), n % 32 == 0 -> (xq int8 (T, n/32, 32), xds float32 (T, n/32, 2) = (d, d * sum q)):
    d = amax / 127, q = round-half-even(x / d)."""
    chunks = np.asarray(x, np.float32).reshape(x.shape[0], -1, 32)  # (T, n/32, 32)
    d = (np.abs(chunks).max(axis=-1) / np.float32(127.0)).astype(np.float32)  # (T, n/32)
    safe = np.where(d == 0, np.float32(1.0), d)[..., None]  # (T, n/32, 1)
    q = np.where(d[..., None] == 0, 0, np.rint(chunks / safe)).astype(np.int8)  # (T, n/32, 32)
    s = (d * q.astype(np.int32).sum(axis=-1).astype(np.float32)).astype(np.float32)  # (T, n/32)
    return q, np.stack([d, s], axis=-1)  # (T, n/32, 32), (T, n/32, 2)
