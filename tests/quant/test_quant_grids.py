"""IQ lookup tables: sizes, value sets, packing, against an independent decode of gguf's hex grids."""

from __future__ import annotations

import numpy as np
import pytest
from gguf import quants as gguf_quants

from engine.quant.grids import grid_bytes, lookup_tables

# (table name, gguf class, entries, values per entry, packed dtype)
PACKED_GRIDS = (
    ("iq2xxs_grid", gguf_quants.IQ2_XXS, 256, 8, np.uint64),
    ("iq2xs_grid", gguf_quants.IQ2_XS, 512, 8, np.uint64),
    ("iq2s_grid", gguf_quants.IQ2_S, 1024, 8, np.uint64),
    ("iq3xxs_grid", gguf_quants.IQ3_XXS, 256, 4, np.uint32),
    ("iq3s_grid", gguf_quants.IQ3_S, 512, 4, np.uint32),
)


def decode_hex_grid(quant_class: type) -> list[list[int]]:
    """Plain-Python decode of gguf's ``grid_hex``: each byte holds 8 // bits values, low bits first."""
    n_values = len(quant_class.grid_map)
    bits = max(1, (n_values - 1).bit_length())
    per_byte = 8 // bits
    step = 8 // per_byte
    data = bytes.fromhex(quant_class.grid_hex.decode("ascii"))
    flat = [quant_class.grid_map[(byte >> (step * k)) & ((1 << bits) - 1)] for byte in data for k in range(per_byte)]
    width = quant_class.grid_shape[1]
    return [[int(v) for v in flat[i : i + width]] for i in range(0, len(flat), width)]


def pack_le(values: list[int]) -> int:
    return sum((v & 0xFF) << (8 * j) for j, v in enumerate(values))


@pytest.mark.parametrize("name, quant_class, entries, width, dtype", PACKED_GRIDS, ids=[g[0] for g in PACKED_GRIDS])
def test_packed_grid_matches_independent_decode(name, quant_class, entries, width, dtype):
    table = getattr(lookup_tables(), name)
    assert table.dtype == dtype and table.shape == (entries,)
    expected = [pack_le(row) for row in decode_hex_grid(quant_class)]
    assert len(expected) == entries
    assert [int(v) for v in table] == expected
    unpacked = grid_bytes(table, width)  # (entries, width) uint8
    assert set(np.unique(unpacked).tolist()) <= set(quant_class.grid_map)
    assert len({bytes(row) for row in unpacked}) == entries  # every grid point distinct


def test_known_first_entries_from_ggml():
    tables = lookup_tables()
    assert int(tables.iq2xxs_grid[0]) == 0x0808080808080808
    assert int(tables.iq2xxs_grid[1]) == 0x080808080808082B
    assert int(tables.iq3xxs_grid[0]) == 0x04040404
    assert int(tables.iq3s_grid[1]) == 0x01010103
    assert tables.iq1s_grid[1].tolist() == [1, -1, -1, -1, -1, -1, -1, -1]
    assert int(tables.iq1s_grid_gpu[1]) == 0x00000002


def test_iq1s_grid_values_and_independent_decode():
    grid = lookup_tables().iq1s_grid
    assert grid.dtype == np.int8 and grid.shape == (2048, 8)
    assert set(np.unique(grid).tolist()) == {-1, 0, 1}
    assert grid.tolist() == decode_hex_grid(gguf_quants.IQ1_S)


def test_iq1s_gpu_nibbles_round_trip_to_int8_grid():
    tables = lookup_tables()
    packed = tables.iq1s_grid_gpu
    assert packed.dtype == np.uint32 and packed.shape == (2048,)
    words = [int(w) for w in packed]
    low = [[(w >> (8 * k)) & 0xF for k in range(4)] for w in words]  # (w & 0x0F0F0F0F) bytes: elements 0..3
    high = [[(w >> (8 * k + 4)) & 0xF for k in range(4)] for w in words]  # ((w >> 4) & 0x0F0F0F0F): 4..7
    rebuilt = np.array([lo + hi for lo, hi in zip(low, high, strict=True)]) - 1
    np.testing.assert_array_equal(rebuilt, tables.iq1s_grid)


def test_ksigns_parity_and_ksigns64():
    tables = lookup_tables()
    ksigns = tables.ksigns_iq2xs
    assert ksigns.dtype == np.uint8 and ksigns.shape == (128,)
    for index, value in enumerate(ksigns.tolist()):
        assert value & 0x7F == index
        assert bin(value).count("1") % 2 == 0  # the parity bit makes every sign pattern even
        expected64 = sum(0xFF << (8 * j) for j in range(8) if value >> j & 1)
        assert int(tables.ksigns64[index]) == expected64


def test_kvalues_and_delta():
    tables = lookup_tables()
    iq4nl = tables.kvalues_iq4nl
    assert iq4nl.dtype == np.int8 and iq4nl.shape == (16,)
    assert np.all(np.diff(iq4nl.astype(int)) > 0) and iq4nl[0] == -127
    e2m1 = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0]  # OCP MX E2M1 magnitudes for codes 0..7
    doubled = [int(2 * v) for v in e2m1] + [-int(2 * v) for v in e2m1]  # bit 3 is the sign
    assert tables.kvalues_fp4.dtype == np.int8 and tables.kvalues_fp4.tolist() == doubled
    assert tables.iq1_delta == 0.125


def test_tables_are_cached_and_read_only():
    tables = lookup_tables()
    assert lookup_tables() is tables
    for name, array in tables.as_dict().items():
        assert not array.flags.writeable, name
        assert array.flags.c_contiguous, name
    with pytest.raises(ValueError):
        tables.iq2s_grid[0] = 0
