"""Our NumPy dequantizers are bit-identical to gguf.quants.dequantize for every table row.

Loops over QUANT_TABLE, so a new row is tested automatically. Seeds are fresh each run
and printed on failure, so a failing case can be replayed.
"""

from __future__ import annotations

import numpy as np
import pytest
from gguf import quants as gguf_quants
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.quant import QUANT_TABLE, UnknownQuantType, dequantize, has_dequantizer, random_blocks
from engine.quant.dequant import build_registry, dequantizer_registry

ROWS = list(QUANT_TABLE.values())
IDS = [row.name for row in ROWS]
N_BLOCKS = 300


def gguf_reference(row, blocks: np.ndarray) -> np.ndarray:
    """gguf's float32 dequantization of uint8 blocks (n, block_bytes), flattened."""
    data = blocks.reshape(-1) if row.is_float else blocks  # gguf views float tensors as a flat byte run
    with np.errstate(all="ignore"):
        return np.asarray(gguf_quants.dequantize(data, row.ggml_type), dtype=np.float32).reshape(-1)


def assert_bit_identical(row, blocks: np.ndarray, seed: int | None = None) -> None:
    ours = dequantize(row.name, blocks)
    reference = gguf_reference(row, blocks)
    assert ours.dtype == np.float32 and ours.shape == reference.shape
    same = (ours == reference) | (np.isnan(ours) & np.isnan(reference))
    if not same.all():
        first = int(np.argmin(same))
        pytest.fail(
            f"{row.name}: {int((~same).sum())} of {same.size} values differ (seed {seed}); "
            f"first at element {first} (block {first // row.block_elems}): "
            f"ours {ours[first]!r}, gguf {reference[first]!r}"
        )


@pytest.fixture
def seed() -> int:
    return int(np.random.SeedSequence().entropy % (2**63))


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_valid_random_blocks_match_gguf(row, seed):
    blocks = random_blocks(row.name, N_BLOCKS, np.random.default_rng(seed))
    assert_bit_identical(row, blocks, seed)


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_fully_random_bytes_match_gguf_nan_aware(row, seed):
    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, 256, size=(N_BLOCKS, row.block_bytes), dtype=np.uint8)  # every pattern valid
    assert_bit_identical(row, blocks, seed)


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_special_scale_bytes_match_gguf(row, seed):
    """Scales that are zero, subnormal, huge, infinite or NaN, in every byte position."""
    rng = np.random.default_rng(seed)
    specials = np.array([0x00, 0x01, 0x03, 0x7B, 0x7C, 0x7E, 0x80, 0xFC, 0xFE, 0xFF], dtype=np.uint8)
    blocks = rng.choice(specials, size=(N_BLOCKS, row.block_bytes)).astype(np.uint8)  # (n, block_bytes)
    assert_bit_identical(row, blocks, seed)


def test_mxfp4_every_exponent_matches_gguf(seed):
    row = QUANT_TABLE["MXFP4"]
    blocks = np.random.default_rng(seed).integers(0, 256, size=(256, row.block_bytes), dtype=np.uint8)
    blocks[:, 0] = np.arange(256)  # byte 0: every E8M0 exponent once, 0 (2^-128) .. 255
    assert_bit_identical(row, blocks, seed)


@pytest.mark.parametrize("row", ROWS, ids=IDS)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_hypothesis_bytes_match_gguf(row, data):
    n_blocks = data.draw(st.integers(1, 6), label="n_blocks")
    raw = data.draw(st.binary(min_size=n_blocks * row.block_bytes, max_size=n_blocks * row.block_bytes))
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(n_blocks, row.block_bytes)
    assert_bit_identical(row, blocks)


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_every_table_row_has_a_dequantizer(row):
    assert has_dequantizer(row.name)
    assert has_dequantizer(row.name.lower())


def test_registry_covers_exactly_the_table():
    assert set(dequantizer_registry()) == set(QUANT_TABLE)
    assert not has_dequantizer("Q1_0_NOT_A_TYPE")


def test_registry_refuses_duplicates_and_unknown_names():
    function = dequantizer_registry()["Q4_0"]
    with pytest.raises(ValueError, match="Q4_0"):
        build_registry((("Q4_0", function),), (("Q4_0", function),))
    with pytest.raises(ValueError, match="Q9_9"):
        build_registry((("Q9_9", function),))


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_shape_and_input_kinds(row, seed):
    rows_, blocks_per_row = 3, 2
    blocks = random_blocks(row.name, rows_ * blocks_per_row, np.random.default_rng(seed))
    flat = dequantize(row.name, blocks)
    shaped = dequantize(row.name, blocks, (rows_, blocks_per_row * row.block_elems))
    assert shaped.shape == (rows_, blocks_per_row * row.block_elems)
    np.testing.assert_array_equal(shaped.reshape(-1), flat)
    np.testing.assert_array_equal(dequantize(row.name, blocks.tobytes()), flat)
    np.testing.assert_array_equal(dequantize(row.name, memoryview(blocks.tobytes())), flat)
    assert np.isfinite(flat).all()


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_partial_block_is_a_clear_error(row):
    raw = np.zeros(row.block_bytes * 2 + 1, dtype=np.uint8)
    with pytest.raises(ValueError, match=row.name):
        dequantize(row.name, raw)


def test_shape_errors_name_the_type():
    raw = np.zeros(18 * 4, dtype=np.uint8)  # 4 Q4_0 blocks = 128 elements
    with pytest.raises(ValueError, match="Q4_0"):
        dequantize("Q4_0", raw, (3, 32))
    with pytest.raises(ValueError, match="Q4_0"):
        dequantize("Q4_0", raw, (8, 16))  # row length not a multiple of 32
    assert dequantize("Q4_0", raw, (2, 64)).shape == (2, 64)


def test_unknown_type_and_bad_input_kind():
    with pytest.raises(UnknownQuantType, match="Q9_9"):
        dequantize("Q9_9", b"\x00" * 18)
    with pytest.raises(TypeError, match="Q4_0"):
        dequantize("Q4_0", [0] * 18)


def test_empty_tensor_gives_empty_result():
    assert dequantize("Q6_K", b"").shape == (0,)
