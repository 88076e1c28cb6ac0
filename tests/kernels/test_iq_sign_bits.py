"""Every sign pattern of the I-quants with packed sign bits, at every group position, through
the host-compiled device functions (dequant and vec_dot) against gguf.quants.dequantize.

The sign helpers of iq_common.cuh move all 8 signs of a group with one multiply (the parity of
7 stored bits, or the 8th stored bit, goes in at bit 28); a pattern they got wrong would only
show up in random blocks by chance, so here each of the 128 (7 stored bits) or 256 (8 stored
bits) patterns sits in every group slot of a chunk. Tolerances as in test_device_functions_host.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from gguf import quants
from host_support import assert_dot_close, quantize_chunk_q8_1

from engine.kernels import host_harness
from engine.quant.blocks import random_blocks
from engine.quant.table import QUANT_TABLE


def _pattern_per_chunk(n_chunks: int, n_patterns: int) -> np.ndarray:
    return np.arange(n_chunks, dtype=np.uint32) % n_patterns  # (n_chunks,) chunk k: pattern k


def _set_ksign_words(blocks: np.ndarray, offset: int, stride: int) -> None:
    """IQ2_XXS / IQ3_XXS: the u32 of sub-block ib at offset + stride * ib keeps its scale bits
    (28..31) and gets pattern p (chunk index mod 128) in all four 7-bit sign fields."""
    n = blocks.shape[0]
    patterns = _pattern_per_chunk(8 * n, 128).reshape(n, 8)  # (n, 8) per sub-block
    for ib in range(8):
        start = offset + stride * ib
        word = blocks[:, start : start + 4].copy().view("<u4")[:, 0]  # (n,) u32 @start
        p = patterns[:, ib]
        word = (word & np.uint32(0xF0000000)) | p | (p << 7) | (p << 14) | (p << 21)
        blocks[:, start : start + 4] = word.astype("<u4").view(np.uint8).reshape(n, 4)


def _set_iq2_xs_signs(blocks: np.ndarray) -> None:
    """IQ2_XS: bits 9..15 of the u16 of group g @2+2g get the chunk's pattern (mod 128)."""
    n = blocks.shape[0]
    patterns = _pattern_per_chunk(8 * n, 128).reshape(n, 8)  # (n, 8)
    words = blocks[:, 2:66].copy().view("<u2")  # (n, 32) u16 per group
    for g in range(32):
        words[:, g] = (words[:, g] & np.uint16(0x01FF)) | (patterns[:, g // 4] << 9).astype(np.uint16)
    blocks[:, 2:66] = words.view(np.uint8)


def _set_iq2_s_signs(blocks: np.ndarray) -> None:
    """IQ2_S: the sign byte of group g @34+g gets the chunk's pattern (mod 256)."""
    n = blocks.shape[0]
    patterns = _pattern_per_chunk(8 * n, 256).reshape(n, 8)  # (n, 8)
    for g in range(32):
        blocks[:, 34 + g] = patterns[:, g // 4].astype(np.uint8)


SIGN_LAYOUTS = {  # type -> (blocks needed for every pattern in every chunk slot, writer)
    "IQ2_XXS": (16, lambda b: _set_ksign_words(b, offset=6, stride=8)),
    "IQ3_XXS": (16, lambda b: _set_ksign_words(b, offset=66, stride=4)),
    "IQ2_XS": (16, _set_iq2_xs_signs),
    "IQ2_S": (32, _set_iq2_s_signs),
}


def _blocks_with_every_pattern(type_name: str) -> tuple[np.ndarray, np.ndarray]:
    qt = QUANT_TABLE[type_name]
    n, write_signs = SIGN_LAYOUTS[type_name]
    blocks = random_blocks(type_name, n, np.random.default_rng(77)).copy()  # (n, block_bytes)
    write_signs(blocks)
    reference = quants.dequantize(blocks, qt.ggml_type).reshape(n, qt.block_elems).astype(np.float64)
    return blocks, reference  # (n, block_bytes), (n, QK)


@pytest.mark.parametrize("type_name", sorted(SIGN_LAYOUTS))
def test_every_sign_pattern_dequant(host_libraries, type_name):
    qt = QUANT_TABLE[type_name]
    lib = host_libraries.get(qt.family)
    blocks, reference = _blocks_with_every_pattern(type_name)
    for i in range(blocks.shape[0]):
        got = host_harness.host_dequant_block(lib, type_name, blocks[i], qt.block_elems)  # (QK,)
        np.testing.assert_allclose(got, reference[i], rtol=1e-5, atol=1e-7, err_msg=f"{type_name} block {i}")


@pytest.mark.parametrize("type_name", sorted(SIGN_LAYOUTS))
def test_every_sign_pattern_vec_dot(host_libraries, type_name):
    qt = QUANT_TABLE[type_name]
    lib = host_libraries.get(qt.family)
    blocks, weights = _blocks_with_every_pattern(type_name)
    rng = np.random.default_rng(78)
    for i in range(blocks.shape[0]):
        for c in range(qt.block_elems // 32):
            q, d, s = quantize_chunk_q8_1(rng.standard_normal(32).astype(np.float32))
            terms = weights[i, 32 * c : 32 * c + 32] * (float(d) * q.astype(np.float64))  # (32,) chunk c
            got = host_harness.host_vec_dot(lib, type_name, blocks[i], c, q, float(d), float(s), 0)
            assert_dot_close(got, terms, f"{type_name} block {i} chunk {c}")
