"""random_blocks gives valid weight-like blocks; quantize_floats round-trips within each type's error."""

from __future__ import annotations

import numpy as np
import pytest
from gguf import quants as gguf_quants

from engine.quant import QUANT_TABLE, dequantize, float_bytes, quantize_floats, random_blocks

ROWS = list(QUANT_TABLE.values())
IDS = [row.name for row in ROWS]


def gguf_can_quantize(row) -> bool:
    try:
        gguf_quants.quantize(np.zeros((1, 256), dtype=np.float32), row.ggml_type)
    except NotImplementedError:
        return False
    return True


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence().entropy % (2**63))


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_random_blocks_are_valid_and_weight_like(row, rng):
    blocks = random_blocks(row.name, 400, rng)
    assert blocks.dtype == np.uint8 and blocks.shape == (400, row.block_bytes)
    with np.errstate(all="ignore"):
        reference = gguf_quants.dequantize(blocks.reshape(-1) if row.is_float else blocks, row.ggml_type)
    values = np.asarray(reference, dtype=np.float64).reshape(-1)  # independent decode (gguf)
    assert np.isfinite(values).all()
    magnitude = np.abs(values)
    assert np.percentile(magnitude, 99) < 0.5
    assert magnitude.max() < 1.0
    assert values.std() > 1e-3  # not degenerate
    assert np.mean(magnitude > 0) > 0.5 or row.name in ("TQ1_0", "TQ2_0")  # ternary types hold zeros


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_random_blocks_follow_the_generator(row):
    first = random_blocks(row.name, 8, np.random.default_rng(7))
    again = random_blocks(row.name, 8, np.random.default_rng(7))
    other = random_blocks(row.name, 8, np.random.default_rng(8))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_mxfp4_exponent_in_sane_range(rng):
    exponents = random_blocks("MXFP4", 500, rng)[:, 0]  # byte 0: E8M0
    assert exponents.min() >= 110 and exponents.max() <= 128


@pytest.mark.parametrize("row", [r for r in ROWS if not r.is_float], ids=[r.name for r in ROWS if not r.is_float])
def test_quantize_floats_round_trip(row, rng):
    values = (rng.standard_normal((4, 512)) * 0.05).astype(np.float32)  # (rows, K)
    packed = quantize_floats(row.name, values, rng)
    assert packed.dtype == np.uint8 and packed.shape == (4, 512 // row.block_elems * row.block_bytes)
    restored = dequantize(row.name, packed, values.shape).astype(np.float64)
    block_max = np.abs(values.reshape(-1, row.block_elems)).max(axis=1)  # (n_blocks,)
    restored_max = np.abs(restored.reshape(-1, row.block_elems)).max(axis=1)
    if gguf_can_quantize(row):
        np.testing.assert_array_equal(packed.reshape(-1), gguf_quants.quantize(values, row.ggml_type).reshape(-1))
        error = np.abs(restored - values).reshape(-1, row.block_elems).max(axis=1)
        assert np.all(error <= block_max * 0.6 + 1e-6)  # coarsest types (ternary) still track the block
        assert np.corrcoef(restored.reshape(-1), values.reshape(-1))[0, 1] > 0.6
    else:  # fallback: random blocks with the input's per-block magnitude
        np.testing.assert_allclose(restored_max, block_max, rtol=2e-2, atol=1e-6)


def test_quantize_floats_rejects_bad_shapes(rng):
    with pytest.raises(ValueError, match="Q4_K"):
        quantize_floats("Q4_K", np.zeros((2, 100), dtype=np.float32), rng)
    with pytest.raises(ValueError, match="Q8_0"):
        quantize_floats("Q8_0", np.zeros(64, dtype=np.float32), rng)


def test_float_types_exact(rng):
    values = (rng.standard_normal((3, 64)) * 0.05).astype(np.float32)
    f32 = quantize_floats("F32", values, rng)
    np.testing.assert_array_equal(dequantize("F32", f32, values.shape), values)
    f16 = quantize_floats("F16", values, rng)
    np.testing.assert_array_equal(dequantize("F16", f16, values.shape), values.astype(np.float16).astype(np.float32))


def test_bf16_round_to_nearest_even_matches_gguf_and_hand_cases(rng):
    random_bits = rng.integers(0, 2**32, size=5000, dtype=np.uint64).astype(np.uint32)
    values = random_bits.view(np.float32)  # every kind of float, NaN and inf included
    ours = float_bytes("BF16", values)
    reference = gguf_quants.quantize(values.reshape(1, -1), gguf_quants.GGMLQuantizationType.BF16).reshape(-1)
    np.testing.assert_array_equal(ours, reference)
    cases = {  # f32 bits -> expected bf16 bits
        0x3F808000: 0x3F80,  # exact tie, even stays
        0x3F818000: 0x3F82,  # exact tie, odd rounds up to even
        0x3F808001: 0x3F81,  # just above the tie
        0x7F7FFFFF: 0x7F80,  # largest finite rounds to inf
        0x7F800001: 0x7FC0,  # signalling NaN becomes a quiet NaN
    }
    bits = np.array(list(cases), dtype=np.uint32)
    got = float_bytes("BF16", bits.view(np.float32)).view("<u2")
    assert [hex(v) for v in got] == [hex(v) for v in cases.values()]
