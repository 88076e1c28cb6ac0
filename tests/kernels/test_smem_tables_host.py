"""CPU check of the shared-memory table path (ql_dequant<T> / ql_vec_dot<T> with an explicit
table pointer, as the mat-vec kernels call them with the CTA's staged copy), compiled with
g++ through the host harness, against gguf.quants.dequantize and float64 NumPy.

The table handed in is a separate buffer built from engine.kernels.tables.device_table_arrays();
a zeroed buffer must change the results, so the functions really read the pointer they get.
"""

from __future__ import annotations

import numpy as np
import pytest
from host_support import (
    STAGED_TABLE,
    assert_dot_close,
    quantize_chunk_q8_1,
    random_blocks_dequantized,
    staged_copy,
)

from engine.kernels import host_harness
from engine.quant.blocks import random_blocks
from engine.quant.table import QUANT_TABLE, QUANTIZED_TYPES

N_BLOCKS = 6


@pytest.mark.parametrize("type_name", [qt.name for qt in QUANTIZED_TYPES])
def test_table_bytes_declared_for_exactly_the_grid_types(host_libraries, type_name):
    qt = QUANT_TABLE[type_name]
    lib = host_libraries.get(qt.family)
    expected = staged_copy(type_name).nbytes if type_name in STAGED_TABLE else 0
    assert host_harness.host_table_bytes(lib, type_name) == expected


@pytest.mark.parametrize("type_name", [qt.name for qt in QUANTIZED_TYPES])
def test_dequant_with_staged_table_matches_gguf(host_libraries, type_name):
    qt = QUANT_TABLE[type_name]
    lib = host_libraries.get(qt.family)
    rng = np.random.default_rng(3000 + int(qt.ggml_type))
    blocks, reference = random_blocks_dequantized(type_name, N_BLOCKS, rng)  # (n, block_bytes), (n, QK)
    table = staged_copy(type_name)
    for i in range(N_BLOCKS):
        got = host_harness.host_dequant_block_tab(lib, type_name, table, blocks[i], qt.block_elems)  # (QK,)
        np.testing.assert_allclose(got, reference[i], rtol=1e-5, atol=1e-7, err_msg=f"{type_name} block {i}")


@pytest.mark.parametrize("type_name", [qt.name for qt in QUANTIZED_TYPES])
def test_vec_dot_with_staged_table_matches_float64(host_libraries, type_name):
    qt = QUANT_TABLE[type_name]
    lib = host_libraries.get(qt.family)
    rng = np.random.default_rng(4000 + int(qt.ggml_type))
    blocks, weights = random_blocks_dequantized(type_name, N_BLOCKS, rng)  # (n, block_bytes), (n, QK)
    table = staged_copy(type_name)
    for i in range(N_BLOCKS):
        for c in range(qt.block_elems // 32):
            x = (rng.standard_normal(32) * rng.uniform(0.1, 10)).astype(np.float32)  # (32,)
            q, d, s = quantize_chunk_q8_1(x)
            terms = weights[i, 32 * c : 32 * c + 32] * (float(d) * q.astype(np.float64))  # (32,) chunk c
            got = host_harness.host_vec_dot_tab(lib, type_name, table, blocks[i], c, q, float(d), float(s))
            assert_dot_close(got, terms, f"{type_name} block {i} chunk {c}")


@pytest.mark.parametrize("type_name", sorted(STAGED_TABLE))
def test_the_passed_table_is_the_one_read(host_libraries, type_name):
    """A zeroed table must change dequant output: the functions read `tab`, not the global."""
    qt = QUANT_TABLE[type_name]
    lib = host_libraries.get(qt.family)
    blocks = random_blocks(type_name, 2, np.random.default_rng(5))  # (2, block_bytes)
    zeroed = np.zeros_like(staged_copy(type_name))
    staged = host_harness.host_dequant_block_tab(lib, type_name, staged_copy(type_name), blocks[0], qt.block_elems)
    poisoned = host_harness.host_dequant_block_tab(lib, type_name, zeroed, blocks[0], qt.block_elems)
    assert not np.array_equal(staged, poisoned)
