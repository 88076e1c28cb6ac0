"""Float64 NumPy references for the mat-vec kernels (the GPU tests and bench/matvec.py use them)."""

from __future__ import annotations

import numpy as np
from gguf import quants

from engine.quant.blocks import random_blocks
from engine.quant.table import QUANT_TABLE


def random_weight(type_name: str, rows: int, row_len: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(raw uint8 GGUF bytes (rows*row_bytes,), dequantized float64 (rows, row_len))."""
    qt = QUANT_TABLE[type_name]
    n_blocks = rows * row_len // qt.block_elems
    raw = random_blocks(type_name, n_blocks, rng).reshape(-1)  # (rows*row_bytes,)
    dense = quants.dequantize(raw.reshape(n_blocks, -1), qt.ggml_type).reshape(rows, row_len)  # (rows, row_len)
    return raw, dense.astype(np.float64)


def quantize_q8_1_blocks(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x f32 (..., n), n % 32 == 0 -> q8_1 with the kernels' float32 arithmetic: q int8 (..., n/32, 32),
    d = amax/127 f32 (..., n/32), s = d*sum(q) f32 (..., n/32); q = round-half-even(x / d)."""
    chunks = np.asarray(x, np.float32).reshape(*x.shape[:-1], -1, 32)  # (..., n/32, 32)
    d = (np.abs(chunks).max(axis=-1) / np.float32(127.0)).astype(np.float32)  # (..., n/32)
    safe = np.where(d == 0, np.float32(1.0), d)[..., None]  # (..., n/32, 1)
    q = np.where(d[..., None] == 0, 0, np.rint(chunks / safe)).astype(np.int8)  # same f32 division as the kernel
    s = (d * q.astype(np.int32).sum(axis=-1).astype(np.float32)).astype(np.float32)  # (..., n/32)
    return q, d, s


def quantize_q8_1_rows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x f32 (ncols, n) -> (x rounded to q8_1 as float64 (ncols, n), d per element (ncols, n))."""
    ncols, n = x.shape
    q, d, _ = quantize_q8_1_blocks(x)  # (ncols, n/32, 32), (ncols, n/32)
    rounded = q.astype(np.float64) * d[..., None].astype(np.float64)  # (ncols, n/32, 32)
    d_each = np.broadcast_to(d[..., None], q.shape)  # (ncols, n/32, 32)
    return rounded.reshape(ncols, n), d_each.reshape(ncols, n).astype(np.float64)


def accumulation_scale(dense: np.ndarray, x: np.ndarray) -> np.ndarray:
    """|W| @ |x| as (ncols, rows): the scale of float32 rounding in a dot product."""
    return np.abs(x.astype(np.float64)) @ np.abs(dense).T


def random_weight_bytes(type_name: str, n_elements: int, rng: np.random.Generator, chunk_blocks: int = 1 << 20) -> np.ndarray:
    """uint8 GGUF bytes of ``n_elements`` random valid weights (generated in pieces, for big tensors)."""
    qt = QUANT_TABLE[type_name]
    n_blocks = n_elements // qt.block_elems
    pieces = [random_blocks(type_name, min(chunk_blocks, n_blocks - start), rng).reshape(-1)
              for start in range(0, n_blocks, chunk_blocks)]
    return np.concatenate(pieces)  # (n_blocks * block_bytes,)
