"""QuantWeight: a GGUF tensor on the device, rows padded the way the kernels need."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.diagnostics import DiagnosticError, error
from engine.kernels.sources import FAMILY_HEADERS, FLOAT_PSEUDO_BLOCK, family_available
from engine.quant.table import QuantType, UnknownQuantType, by_name

ROW_ALIGN = 16  # bytes: every stored row starts 16-byte aligned (tiles are copied as uint4)


@dataclass(frozen=True, eq=False)
class QuantWeight:
    type_name: str
    rows: int
    row_len: int  # elements per row of the tensor
    data: Any  # cupy uint8 (rows, row_stride): GGUF row bytes, then zero padding
    row_stride: int = 0  # bytes per stored row, a multiple of ROW_ALIGN
    padded_len: int = 0  # elements per stored row (float rows round up to 32)
    name: str = ""  # tensor name, for messages

    @property
    def row_bytes(self) -> int:
        """GGUF bytes of one row (without padding)."""
        return by_name(self.type_name).tensor_bytes(self.row_len)


def kernel_type(type_name: str, tensor: str = "") -> QuantType:
    """The table row of ``type_name``, or a diagnostic when QuantLaunch has no kernels for it."""
    where = f" (tensor {tensor})" if tensor else ""
    try:
        qt = by_name(type_name)
    except UnknownQuantType:
        qt = None
    if qt is None or not family_available(qt.family):
        reason = "unknown type" if qt is None else f"{FAMILY_HEADERS[qt.family]} is missing from this build"
        raise DiagnosticError(
            error(
                "QL-E-KERNEL-TYPE",
                f"No GPU kernels for tensor type {type_name}{where}",
                f"This build of QuantLaunch has no CUDA mat-vec for {type_name} ({reason}). "
                "Choose a model file with other quant types, or run this model on the CPU.",
                type=type_name,
                tensor=tensor,
            )
        )
    return qt


def check_row_length(qt: QuantType, row_len: int, tensor: str = "") -> None:
    if row_len <= 0 or row_len % qt.block_elems:
        where = f"Tensor {tensor}" if tensor else "A tensor"
        raise DiagnosticError(
            error(
                "QL-E-KERNEL-SHAPE",
                f"{where} has a row length the {qt.name} kernels cannot take",
                f"{qt.name} stores blocks of {qt.block_elems} elements, but the row has {row_len} "
                "elements. The model file is damaged or was written by an incompatible tool.",
                type=qt.name,
                row_len=row_len,
                tensor=tensor,
            )
        )


def padded_layout(qt: QuantType, row_len: int) -> tuple[int, int, int]:
    """(padded_len elements, stored row bytes without alignment, row_stride bytes)."""
    if qt.name in FLOAT_PSEUDO_BLOCK:
        padded_len = -(-row_len // 32) * 32
        stored = padded_len * qt.block_bytes  # float types: block_bytes = bytes per element
    else:
        padded_len, stored = row_len, qt.tensor_bytes(row_len)
    return padded_len, stored, -(-stored // ROW_ALIGN) * ROW_ALIGN


def upload_weight(type_name: str, raw: np.ndarray, shape: tuple[int, int], name: str = "") -> QuantWeight:
    """Copy GGUF tensor bytes ``raw`` (uint8) of shape (rows, row_len) to the current device."""
    import cupy

    qt = kernel_type(type_name, name)
    rows, row_len = (int(v) for v in shape)
    check_row_length(qt, row_len, name)
    if rows <= 0:
        raise ValueError(f"tensor {name or '?'} ({type_name}): rows must be positive, got {rows}")
    raw = np.asarray(raw)
    row_bytes = qt.tensor_bytes(row_len)
    if raw.dtype != np.uint8 or raw.size != rows * row_bytes:
        raise ValueError(
            f"tensor {name or '?'} ({type_name}, {rows}x{row_len}): expected {rows * row_bytes} uint8 bytes, "
            f"got {raw.size} of {raw.dtype}"
        )
    padded_len, _, row_stride = padded_layout(qt, row_len)
    rows_view = raw.reshape(rows, row_bytes)  # (rows, GGUF row bytes)
    if row_stride == row_bytes:
        data = cupy.asarray(np.ascontiguousarray(rows_view))
    else:
        host = np.zeros((rows, row_stride), dtype=np.uint8)  # (rows, row_stride) zero padding
        host[:, :row_bytes] = rows_view
        data = cupy.asarray(host)
    return QuantWeight(qt.name, rows, row_len, data, row_stride, padded_len, name)
