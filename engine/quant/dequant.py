"""NumPy reference dequantization for every row of the quant table.

The per-type functions live in ``dequant_legacy`` (floats, 32-element blocks, IQ4_NL, MXFP4),
``dequant_k`` (K-quants, ternary) and ``dequant_iq`` (I-quants); each family module lists
its ``DEQUANTIZERS`` as (type name, function) pairs. They are written from the formulas in
docs/ggml-quant-formats.md §2; gguf.quants is only the test reference. The registry is
built once, immutable, refuses duplicates and unknown names, and names the type in every
error. All work is vectorised over blocks (no Python loop per block).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from types import MappingProxyType

import numpy as np

from engine.quant import dequant_iq, dequant_k, dequant_legacy
from engine.quant.table import QUANT_TABLE, QuantType, by_name

BlockDequantizer = Callable[[np.ndarray], np.ndarray]  # uint8 (n, block_bytes) -> float32 (n, block_elems)
_FAMILIES = (dequant_legacy.DEQUANTIZERS, dequant_k.DEQUANTIZERS, dequant_iq.DEQUANTIZERS)


def build_registry(*families: tuple[tuple[str, BlockDequantizer], ...]) -> MappingProxyType:
    """name -> dequantizer, read-only. Refuses a duplicate name or a name not in the quant table."""
    registry: dict[str, BlockDequantizer] = {}
    for family in families:
        for name, function in family:
            if name not in QUANT_TABLE:
                raise ValueError(f"dequantizer registry: {name} is not a row of the quant table")
            if name in registry:
                raise ValueError(f"dequantizer registry: a second dequantizer for {name}")
            registry[name] = function
    return MappingProxyType(registry)


@functools.lru_cache(maxsize=1)
def dequantizer_registry() -> MappingProxyType:
    return build_registry(*_FAMILIES)


def has_dequantizer(type_name: str) -> bool:
    return str(type_name).upper() in dequantizer_registry()


def _as_bytes(type_name: str, raw: np.ndarray | bytes | bytearray | memoryview) -> np.ndarray:
    if isinstance(raw, np.ndarray):
        return np.ascontiguousarray(raw).reshape(-1).view(np.uint8)  # any dtype -> flat bytes
    if isinstance(raw, bytes | bytearray | memoryview):
        return np.frombuffer(raw, dtype=np.uint8)  # flat bytes, zero-copy
    raise TypeError(f"dequantize({type_name}): raw must be a NumPy array, bytes or memoryview, got {type(raw).__name__}")


def _blocks(row: QuantType, data: np.ndarray) -> np.ndarray:
    if data.size % row.block_bytes:
        raise ValueError(
            f"dequantize({row.name}): {data.size} bytes is not a multiple of the {row.name} "
            f"block size ({row.block_bytes} bytes per {row.block_elems} elements)"
        )
    return data.reshape(-1, row.block_bytes)  # (n_blocks, block_bytes)


def _check_shape(row: QuantType, shape: tuple[int, ...], n_elements: int) -> tuple[int, ...]:
    shape = tuple(int(s) for s in shape)
    if any(s < 0 for s in shape) or int(np.prod(shape, dtype=np.int64)) != n_elements:
        raise ValueError(f"dequantize({row.name}): shape {shape} does not hold the tensor's {n_elements} elements")
    if shape and shape[-1] % row.block_elems:
        raise ValueError(
            f"dequantize({row.name}): row length {shape[-1]} is not a multiple of the "
            f"{row.name} block size ({row.block_elems} elements)"
        )
    return shape


def dequantize(
    type_name: str,
    raw: np.ndarray | bytes | memoryview,
    shape: tuple[int, ...] | None = None,
) -> np.ndarray:
    """A tensor's GGUF bytes of ``type_name`` -> float32 values.

    ``shape`` is in NumPy order (..., rows, row_len); without it the result is 1-D.
    Raises ``ValueError`` (naming the type) if the byte count is not a whole number of
    blocks or the shape does not fit, ``UnknownQuantType`` for a type not in the table.
    """
    row = by_name(type_name)
    function = dequantizer_registry().get(row.name)
    if function is None:
        raise ValueError(f"dequantize: no NumPy dequantizer registered for {row.name}")
    blocks = _blocks(row, _as_bytes(row.name, raw))  # (n_blocks, block_bytes)
    with np.errstate(invalid="ignore", over="ignore"):  # garbage scales may give inf/NaN, as in ggml
        values = function(blocks)  # (n_blocks, block_elems) float32
    if values.shape != (len(blocks), row.block_elems) or values.dtype != np.float32:
        raise RuntimeError(f"dequantize({row.name}): dequantizer returned {values.dtype} {values.shape}")
    flat = values.reshape(-1)  # (n_blocks * block_elems,)
    if shape is None:
        return flat
    return flat.reshape(_check_shape(row, shape, flat.size))
