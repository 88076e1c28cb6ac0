"""q8_1 in the (q, ds) layout the fused-op tests compare: engine.kernels.reference's q8_1."""

from __future__ import annotations

import numpy as np

from engine.kernels.reference import quantize_q8_1_blocks


def quantize_q8_1_reference(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x (T, n), n % 32 == 0 -> (xq int8 (T, n/32, 32), xds float32 (T, n/32, 2) = (d, d * sum q))."""
    q, d, s = quantize_q8_1_blocks(x)
    return q, np.stack([d, s], axis=-1)  # (T, n/32, 32), (T, n/32, 2)
