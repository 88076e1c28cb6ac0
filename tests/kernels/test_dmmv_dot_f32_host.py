"""CPU check of the dmmv per-chunk float dot ql_dot_f32<T> (matvec_dmmv.cuh's 1-column dmmv path),
compiled with g++ through common.cuh's host fallbacks: for every quantized type, the type's
whole-chunk dot_f32 where it declares one (QlDotF32<T>::HAS), else the four-dequant-group
fallback, against float64 NumPy of gguf.quants.dequantize(block) . x.

Tolerance: |got - ref| <= 1e-7 + 1e-5 * sum_j |w_j x_j| (float32 accumulation), as the
vec_dot checks.
"""

from __future__ import annotations

import numpy as np
import pytest
from host_support import assert_dot_close, random_blocks_dequantized, staged_copy

from engine.kernels import host_harness
from engine.quant.table import QUANT_TABLE, QUANTIZED_TYPES

N_BLOCKS = 8
# Types that declare the whole-chunk fast path dot_f32; every other type takes the fallback.
# (Q2_K, Q6_K and the legacy types had one too; it measured slower on an H100, so it went.)
FAST_PATH_TYPES = {"Q3_K", "Q4_K", "Q5_K", "MXFP4", "IQ4_NL", "IQ4_XS"}


def _activations(rng: np.random.Generator, kind: str) -> np.ndarray:
    """(32,) float32 activations: 'normal' (random scale), 'wide' (values spanning 1e-3..1e3 with
    mixed signs), 'offset' (all positive around 5: large sum(x), the min terms dominate)."""
    if kind == "normal":
        return (rng.standard_normal(32) * rng.uniform(0.1, 10)).astype(np.float32)
    if kind == "wide":
        return (rng.choice([-1.0, 1.0], 32) * 10.0 ** rng.uniform(-3, 3, 32)).astype(np.float32)
    return (5.0 + rng.standard_normal(32) * 0.1).astype(np.float32)


@pytest.mark.parametrize("type_name", [qt.name for qt in QUANTIZED_TYPES])
def test_fast_path_declared_for_exactly_the_expected_types(host_libraries, type_name):
    lib = host_libraries.get(QUANT_TABLE[type_name].family)
    assert host_harness.host_has_dot_f32(lib, type_name) == (type_name in FAST_PATH_TYPES)


@pytest.mark.parametrize("kind", ["normal", "wide", "offset"])
@pytest.mark.parametrize("type_name", [qt.name for qt in QUANTIZED_TYPES])
def test_dot_f32_matches_float64_reference(host_libraries, type_name, kind):
    qt = QUANT_TABLE[type_name]
    lib = host_libraries.get(qt.family)
    rng = np.random.default_rng(3000 + int(qt.ggml_type))
    blocks, weights = random_blocks_dequantized(type_name, N_BLOCKS, rng)  # (n, block_bytes), (n, QK)
    table = staged_copy(type_name)
    for i in range(N_BLOCKS):
        for c in range(qt.block_elems // 32):
            x = _activations(rng, kind)  # (32,) elements 32c..32c+32
            terms = weights[i, 32 * c : 32 * c + 32] * x.astype(np.float64)  # (32,) chunk c
            got = host_harness.host_dot_f32(lib, type_name, blocks[i], c, x, table)
            assert_dot_close(got, terms, f"{type_name} block {i} chunk {c}")


@pytest.mark.parametrize("type_name", sorted(FAST_PATH_TYPES))
def test_dot_f32_reads_only_its_chunk(host_libraries, type_name):
    """Each chunk's dot uses exactly its own 32 elements: a one-hot x picks out dequant(w)_j."""
    qt = QUANT_TABLE[type_name]
    lib = host_libraries.get(qt.family)
    rng = np.random.default_rng(4000 + int(qt.ggml_type))
    blocks, weights = random_blocks_dequantized(type_name, 2, rng)  # (2, block_bytes), (2, QK)
    for c in range(qt.block_elems // 32):
        for j in range(0, 32, 5):
            x = np.zeros(32, np.float32)  # (32,) one-hot at element 32c + j
            x[j] = 1.0
            got = host_harness.host_dot_f32(lib, type_name, blocks[1], c, x)
            expected = float(weights[1, 32 * c + j])
            assert abs(got - expected) <= 1e-7 + 1e-5 * abs(expected), f"{type_name} chunk {c} element {j}"
