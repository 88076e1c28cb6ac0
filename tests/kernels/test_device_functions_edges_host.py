"""Edge cases of the I-quant, ternary and FP4 device functions that random weight-like blocks
do not reach (the generic check is test_device_functions_host.py), on the g++ harness:

* MXFP4 exponents at both ends (subnormal scales 2^-128 and 2^-127, the largest finite ones);
* every IQ1_S / IQ1_M delta sign and every grid index high bit, with extreme activations
  (+-127) where the exact-int8 weights of types_iq.cuh must not overflow or lose the delta;
* TQ1_0 bytes above 242 and TQ2_0 crumbs equal to 3 (decoded like gguf, not rejected).

References: gguf.quants.dequantize (dequant: bit-exact float32) and float64 NumPy (vec_dot).
"""

from __future__ import annotations

import numpy as np
import pytest
from gguf import quants

from engine.kernels import host_harness
from engine.quant.blocks import random_blocks
from engine.quant.table import QUANT_TABLE


def _check_blocks(lib, type_name: str, blocks: np.ndarray, activations: list[np.ndarray]) -> None:
    qt = QUANT_TABLE[type_name]
    reference = quants.dequantize(blocks, qt.ggml_type).reshape(len(blocks), qt.block_elems)  # (n, QK)
    for i, block in enumerate(blocks):
        got = host_harness.host_dequant_block(lib, type_name, block, qt.block_elems)  # (QK,)
        np.testing.assert_array_equal(got.view(np.uint32), reference[i].astype(np.float32).view(np.uint32))
        for c in range(qt.block_elems // 32):
            chunk = reference[i, 32 * c : 32 * c + 32].astype(np.float64)  # (32,) weights of chunk c
            for q in activations:
                d = np.float32(0.01)
                s = np.float32(d * np.float32(int(q.astype(np.int32).sum())))
                terms = chunk * (float(d) * q.astype(np.float64))  # (32,)
                got_dot = host_harness.host_vec_dot(lib, type_name, block, c, q, float(d), float(s))
                tolerance = 1e-30 + 1e-5 * float(np.abs(terms).sum())
                assert abs(got_dot - terms.sum()) <= tolerance, f"{type_name} block {i} chunk {c}"


def _extreme_activations(rng: np.random.Generator) -> list[np.ndarray]:
    return [
        np.full(32, 127, np.int8),
        np.full(32, -127, np.int8),
        rng.choice(np.array([-127, 127], np.int8), 32),  # (32,) random signs, full magnitude
    ]


def test_mxfp4_exponent_extremes(host_libraries):
    rng = np.random.default_rng(11)
    exponents = np.array([0, 1, 2, 3, 127, 128, 200, 240], np.uint8)
    blocks = random_blocks("MXFP4", len(exponents), rng)  # (n, 17)
    blocks[:, 0] = exponents  # byte 0: E8M0 exponent
    _check_blocks(host_libraries.get("fp4"), "MXFP4", blocks, _extreme_activations(rng))


@pytest.mark.parametrize("type_name", ["IQ1_S", "IQ1_M"])
@pytest.mark.parametrize("pattern", [0x00, 0xFF])
def test_iq1_delta_signs_and_high_index_bits(host_libraries, type_name, pattern):
    rng = np.random.default_rng(12 + pattern)
    blocks = random_blocks(type_name, 4, rng)
    if type_name == "IQ1_S":
        qh = blocks[:, 34:50].view(np.uint16)  # (n, 8): qh per sub-block
        qh[:] = (qh & 0x7000) | (0x8FFF if pattern else 0)  # keep the scale, set/clear delta + index bits
    else:
        blocks[:, 32:48] = pattern  # qh nibbles: 3 index bits + delta sign, all set or all clear
    _check_blocks(host_libraries.get("iq"), type_name, blocks, _extreme_activations(rng))


def test_ternary_out_of_range_codes_decode_like_gguf(host_libraries):
    rng = np.random.default_rng(13)
    tq1 = random_blocks("TQ1_0", 3, rng)
    tq1[:, :52] = rng.integers(243, 256, (3, 52), dtype=np.uint8)  # qs + qh beyond 3^5 - 1
    _check_blocks(host_libraries.get("ternary"), "TQ1_0", tq1, _extreme_activations(rng))
    tq2 = random_blocks("TQ2_0", 3, rng)
    tq2[:, :64] = 0xFF  # every crumb = 3
    _check_blocks(host_libraries.get("ternary"), "TQ2_0", tq2, _extreme_activations(rng))
