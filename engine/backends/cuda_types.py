"""The CUDA backend's value types (engine/backends/cuda.py): a step's positions, a layer
op's output (with its q8_1 form), the KV cache."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Positions:
    buffer: Any  # cupy int32 (1,): position of token 0 of the step
    start: int  # host copy, for shapes only (never read by a captured graph)
    count: int


@dataclass(frozen=True)
class Activation:
    """A layer op's output bound for ``linear``: the float rows, plus the same rows in q8_1
    when the op could write them (mmvq paths, at most MATVEC_MAX_COLS rows, width % 32 == 0)."""

    x: Any  # cupy (T, n) float32, C-contiguous
    xq: Any = None  # cupy (T, n/32, 32) int8: quantized values per 32-chunk
    xds: Any = None  # cupy (T, n/32, 2) float32: (d, d * sum(q)) per chunk


@dataclass(frozen=True)
class CudaCache:
    k: Any  # cupy (n_layers, n_ctx, n_head_kv, head_dim) float32
    v: Any  # cupy (n_layers, n_ctx, n_head_kv, head_dim) float32
