"""CPU check of every type's device functions (dequant, vec_dot), compiled with g++ through
common.cuh's host fallbacks, against gguf.quants.dequantize and float64 NumPy.

Tolerances: dequant |got - ref| <= 1e-7 + 1e-5*|ref| (float32 rounding only);
vec_dot |got - ref| <= 1e-7 + 1e-5 * sum_j |w_j * d*q_j| (float32 accumulation, with the
reference computed in float64 from the same q8_1-rounded activations).
"""

from __future__ import annotations

import numpy as np
import pytest
from gguf import quants
from host_support import assert_dot_close, quantize_chunk_q8_1, random_blocks_dequantized

from engine.kernels import host_harness
from engine.quant.blocks import random_blocks
from engine.quant.table import QUANT_TABLE, QUANTIZED_TYPES

N_BLOCKS = 12


@pytest.mark.parametrize("type_name", [qt.name for qt in QUANTIZED_TYPES])
def test_dequant_matches_gguf(host_libraries, type_name):
    qt = QUANT_TABLE[type_name]
    lib = host_libraries.get(qt.family)
    rng = np.random.default_rng(1000 + int(qt.ggml_type))
    blocks, reference = random_blocks_dequantized(type_name, N_BLOCKS, rng)  # (n, block_bytes), (n, QK)
    for i in range(N_BLOCKS):
        got = host_harness.host_dequant_block(lib, type_name, blocks[i], qt.block_elems)  # (QK,)
        np.testing.assert_allclose(got, reference[i], rtol=1e-5, atol=1e-7, err_msg=f"{type_name} block {i}")


@pytest.mark.parametrize("type_name", [qt.name for qt in QUANTIZED_TYPES])
def test_vec_dot_matches_float64_reference(host_libraries, type_name):
    qt = QUANT_TABLE[type_name]
    lib = host_libraries.get(qt.family)
    rng = np.random.default_rng(2000 + int(qt.ggml_type))
    blocks, weights = random_blocks_dequantized(type_name, N_BLOCKS, rng)  # (n, block_bytes), (n, QK)
    for i in range(N_BLOCKS):
        for c in range(qt.block_elems // 32):
            x = (rng.standard_normal(32) * rng.uniform(0.1, 10)).astype(np.float32)  # (32,)
            q, d, s = quantize_chunk_q8_1(x)
            terms = weights[i, 32 * c : 32 * c + 32] * (float(d) * q.astype(np.float64))  # (32,) chunk c
            for offset in sorted({k * qt.block_bytes % 16 for k in range(16)}):  # every offset a tile gives
                got = host_harness.host_vec_dot(lib, type_name, blocks[i], c, q, float(d), float(s), offset)
                assert_dot_close(got, terms, f"{type_name} block {i} chunk {c} at offset {offset}")


@pytest.mark.parametrize("type_name", ["F32", "F16", "BF16"])
def test_float_pseudo_blocks_dequant(host_libraries, type_name):
    qt = QUANT_TABLE[type_name]
    lib = host_libraries.get("float")
    rng = np.random.default_rng(7)
    values = random_blocks(type_name, 32, rng)  # (32, element bytes): one pseudo-block of 32 elements
    reference = quants.dequantize(values, qt.ggml_type).reshape(32)  # (32,)
    got = host_harness.host_dequant_block(lib, type_name, values.reshape(-1), 32)
    np.testing.assert_array_equal(got, reference.astype(np.float32))
