"""CPU check of ql_dequant_split<T> (the 1-column dmmv's form of dequant: a group of 8 unscaled
plus one scale, and an offset for the types that declare dequant_offset), compiled with g++
through common.cuh's host fallbacks: values x scale + offset (one rounding) are bit for bit what
dequant gives, and equal gguf.quants.dequantize; for the other types the scale is 1, the offset
0 and the values are dequant's. The dmmv's dot of the unscaled values with x, scaled once, plus
offset x sum(x), against float64 NumPy.

Tolerance of the dot: |got - ref| <= 1e-7 + 1e-5 * sum_j |w_j x_j| (float32), as the vec_dot checks.
"""

from __future__ import annotations

import numpy as np
import pytest
from host_support import assert_dot_close, random_blocks_dequantized, staged_copy

from engine.kernels import host_harness
from engine.quant.table import QUANT_TABLE, QUANTIZED_TYPES

N_BLOCKS = 6
# Types whose group of 8 has one scale and that declare dequant_raw (measured faster in the 1-column dmmv on an H100).
RAW_TYPES = {"Q4_0", "Q4_1", "Q5_0", "Q8_0", "Q2_K", "Q6_K", "IQ4_NL", "IQ4_XS", "MXFP4", "TQ1_0"}
OFFSET_TYPES = {"Q4_1", "Q2_K"}  # of those, the ones whose group is scale * value + offset (dequant_offset)


@pytest.mark.parametrize("type_name", [qt.name for qt in QUANTIZED_TYPES])
def test_dequant_raw_declared_for_exactly_the_expected_types(host_libraries, type_name):
    lib = host_libraries.get(QUANT_TABLE[type_name].family)
    assert host_harness.host_has_dequant_raw(lib, type_name) == (type_name in RAW_TYPES)


@pytest.mark.parametrize("type_name", [qt.name for qt in QUANTIZED_TYPES])
def test_split_values_times_scale_are_dequant(host_libraries, type_name):
    qt = QUANT_TABLE[type_name]
    lib = host_libraries.get(qt.family)
    rng = np.random.default_rng(5000 + int(qt.ggml_type))
    blocks, weights = random_blocks_dequantized(type_name, N_BLOCKS, rng)  # (n, block_bytes), (n, QK)
    table = staged_copy(type_name)
    for i in range(N_BLOCKS):
        whole = host_harness.host_dequant_block_tab(lib, type_name, table, blocks[i], qt.block_elems)  # (QK,)
        for g in range(qt.block_elems // 8):
            values, scale = host_harness.host_dequant_split(lib, type_name, blocks[i], g, table)
            offset = host_harness.host_dequant_offset(lib, type_name, blocks[i], g)
            if type_name not in RAW_TYPES:
                assert scale == 1.0
            if type_name not in OFFSET_TYPES:
                assert offset == 0.0
            # one rounding, as fmaf: the float64 product of two float32 is exact, and so is the sum here
            group = (values.astype(np.float64) * scale + offset).astype(np.float32)  # (8,)
            np.testing.assert_array_equal(group, whole[8 * g : 8 * g + 8])
            np.testing.assert_allclose(group.astype(np.float64), weights[i, 8 * g : 8 * g + 8], rtol=1e-6, atol=0)


@pytest.mark.parametrize("type_name", sorted(RAW_TYPES))
def test_the_dmmv_group_dot_matches_float64(host_libraries, type_name):
    """sum_e values[e] x[e] in float32, times the scale (what ql_dmmv_group_rows computes)."""
    qt = QUANT_TABLE[type_name]
    lib = host_libraries.get(qt.family)
    rng = np.random.default_rng(6000 + int(qt.ggml_type))
    blocks, weights = random_blocks_dequantized(type_name, N_BLOCKS, rng)
    for i in range(N_BLOCKS):
        for g in range(qt.block_elems // 8):
            x = (rng.standard_normal(8) * rng.uniform(0.1, 10)).astype(np.float32)  # (8,) elements 8g..8g+8
            values, scale = host_harness.host_dequant_split(lib, type_name, blocks[i], g)
            offset = host_harness.host_dequant_offset(lib, type_name, blocks[i], g)
            dot = np.float32(0.0)
            for e in range(8):
                dot = np.float32(values[e] * x[e] + dot)
            got = float(np.float32(dot * np.float32(scale)) + np.float32(offset) * np.float32(x.sum(dtype=np.float32)))
            assert_dot_close(got, weights[i, 8 * g : 8 * g + 8] * x.astype(np.float64), f"{type_name} block {i} group {g}")
