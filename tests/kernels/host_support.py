"""Helpers of the host-harness tests: random blocks with their gguf values, the dot tolerance,
one q8_1 chunk, and the table a CTA stages."""

from __future__ import annotations

import numpy as np
from gguf import quants

from engine.kernels.reference import quantize_q8_1_blocks
from engine.kernels.tables import device_table_arrays
from engine.quant.blocks import random_blocks
from engine.quant.table import QUANT_TABLE

STAGED_TABLE = {  # type -> tables.cuh global its mat-vec kernels stage in shared memory
    "IQ2_XXS": "iq2xxs_sel",
    "IQ2_XS": "iq2xs_sel",
    "IQ2_S": "iq2s_sel",
    "IQ3_XXS": "iq3xxs_grid",
    "IQ3_S": "iq3s_grid",
    "IQ1_S": "iq1s_grid_nib",
    "IQ1_M": "iq1s_grid_nib",
}


def staged_copy(type_name: str) -> np.ndarray:
    """The bytes a CTA copies into shared memory for this type (a 16-byte dummy when none)."""
    if type_name not in STAGED_TABLE:
        return np.zeros(16, np.uint8)
    return device_table_arrays()[STAGED_TABLE[type_name]].view(np.uint8).copy()  # (SMEM_TABLE_BYTES,)


def quantize_chunk_q8_1(x: np.ndarray) -> tuple[np.ndarray, np.float32, np.float32]:
    """(32,) float32 -> (q int8 (32,), d, s = d*sum(q)) exactly as ql_quantize_q8_1 does."""
    q, d, s = quantize_q8_1_blocks(x.reshape(1, 32))  # (1, 1, 32), (1, 1), (1, 1)
    return q[0, 0], d[0, 0], s[0, 0]


def random_blocks_dequantized(type_name: str, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(n random valid blocks (n, block_bytes), their values from gguf.quants.dequantize as
    float64 (n, QK))."""
    qt = QUANT_TABLE[type_name]
    blocks = random_blocks(type_name, n, rng)  # (n, block_bytes)
    return blocks, quants.dequantize(blocks, qt.ggml_type).reshape(n, qt.block_elems).astype(np.float64)


def dot_tolerance(terms: np.ndarray) -> float:
    """How far a float32-accumulated dot may be from the float64 sum of its terms:
    1e-7 + 1e-5 * sum |terms|."""
    return 1e-7 + 1e-5 * float(np.abs(terms).sum())


def assert_dot_close(got: float, terms: np.ndarray, context: str) -> None:
    """A float32-accumulated dot against the float64 sum of its terms, within dot_tolerance."""
    assert abs(got - terms.sum()) <= dot_tolerance(terms), f"{context}: {got} vs {terms.sum()}"
