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


def quantize_q8_1_rows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x f32 (ncols, n) -> (x rounded to q8_1 as float64 (ncols, n), d per element (ncols, n))."""
    ncols, n = x.shape
    chunks = x.reshape(ncols, n // 32, 32)  # (ncols, nchunks, 32)
    amax = np.abs(chunks).max(axis=2, keepdims=True)  # (ncols, nchunks, 1)
    d = (amax / np.float32(127.0)).astype(np.float32)
    safe_d = np.where(d == 0, np.float32(1), d)
    q = np.where(d == 0, 0, np.rint(chunks / safe_d))  # (ncols, nchunks, 32), same f32 division as the kernel
    rounded = q.astype(np.float64) * d.astype(np.float64)
    return rounded.reshape(ncols, n), np.broadcast_to(d, chunks.shape).reshape(ncols, n).astype(np.float64)


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
