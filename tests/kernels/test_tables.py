"""engine.kernels.tables: the bytes that tables.cuh's globals receive, and upload checks.

The table contents are checked against gguf's own decoded grids (independent of
engine.quant.grids' packing code), and every table declared in tables.cuh must be one that
device_table_arrays() fills, with the declared element type and count.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from gguf import quants

from engine.kernels import tables
from engine.kernels.sources import KERNEL_DIR

CUH_TYPES = {"u64": np.uint64, "u32": np.uint32}


def _declared_tables() -> dict[str, tuple[type, int]]:
    text = (KERNEL_DIR / "tables.cuh").read_text()
    found = re.findall(r"^QL_TABLE_(?:GLOBAL|CONST)\s+(u64|u32)\s+(\w+)\[(\d+)\];", text, flags=re.M)
    return {name: (CUH_TYPES[ctype], int(count)) for ctype, name, count in found}


def test_every_declared_table_is_filled_with_its_declared_type_and_length():
    declared = _declared_tables()
    arrays = tables.device_table_arrays()
    assert declared, "no tables found in tables.cuh"
    assert set(declared) == set(arrays) == set(tables.DEVICE_TABLES)
    for name, (dtype, count) in declared.items():
        assert arrays[name].dtype == dtype, name
        assert arrays[name].shape == (count,), name
        assert arrays[name].flags.c_contiguous, name


def _gguf_grid(quant_class: type, rows: int, cols: int) -> np.ndarray:
    quant_class.init_grid()
    return np.asarray(quant_class.grid).reshape(rows, cols)  # (rows, cols) float grid values


@pytest.mark.parametrize(
    "name, quant_class, rows, cols",
    [
        ("iq3xxs_grid", quants.IQ3_XXS, 256, 4),
        ("iq3s_grid", quants.IQ3_S, 512, 4),
    ],
)
def test_grid_bytes_are_gguf_grid_values(name, quant_class, rows, cols):
    packed = tables.device_table_arrays()[name]
    as_bytes = packed.astype(packed.dtype.newbyteorder("<")).view(np.uint8).reshape(rows, cols)  # byte j = value j
    np.testing.assert_array_equal(as_bytes, _gguf_grid(quant_class, rows, cols).astype(np.uint8))
    assert as_bytes.min() >= 1 and as_bytes.max() <= 127  # the sign trick in types_iq.cuh needs 1..127


@pytest.mark.parametrize(
    "name, quant_class, rows",
    [("iq2xxs_sel", quants.IQ2_XXS, 256), ("iq2xs_sel", quants.IQ2_XS, 512), ("iq2s_sel", quants.IQ2_S, 1024)],
)
def test_iq2_selectors_permute_iq2_values_into_the_gguf_grid(name, quant_class, rows):
    arrays = tables.device_table_arrays()
    selectors = arrays[name]  # (rows,) u32
    pool = arrays["iq2_values"].astype("<u4").view(np.int8)  # (8,) bytes 0..2 values, 4..6 negated
    nibbles = (selectors[:, None] >> (4 * np.arange(8, dtype=np.uint32))[None, :]) & 15  # (rows, 8) nibble n
    assert nibbles.max() <= 2  # bit 2 (the sign) and bit 3 (sign replicate) stay clear
    grid = _gguf_grid(quant_class, rows, 8)  # (rows, 8) value j of entry i
    value_of_nibble = [0, 4, 1, 5, 2, 6, 3, 7]  # nibble n holds value IQ2_VALUE[n] (types_iq.cuh)
    np.testing.assert_array_equal(pool[nibbles], grid[:, value_of_nibble].astype(np.int8))
    np.testing.assert_array_equal(pool[nibbles + 4], -grid[:, value_of_nibble].astype(np.int8))  # sign bit set


def test_iq1s_nibble_grid_holds_grid_plus_one():
    packed = tables.device_table_arrays()["iq1s_grid_nib"]  # (2048,) u32
    nibbles = (packed[:, None] >> (4 * np.arange(8, dtype=np.uint32))[None, :]) & 15  # (2048, 8)
    expected = _gguf_grid(quants.IQ1_S, 2048, 8).astype(np.int64) + 1  # g + 1 in {0, 1, 2}
    np.testing.assert_array_equal(nibbles.astype(np.int64), expected)


@pytest.mark.parametrize(
    "name, values, bias", [("kvalues_iq4nl_biased", quants.IQ4_NL.kvalues, 128), ("kvalues_fp4_biased", quants.MXFP4.kvalues, 64)]
)
def test_kvalues_words_hold_the_16_entries_biased_in_order(name, values, bias):
    words = tables.device_table_arrays()[name]  # (4,) u32
    as_bytes = words.astype("<u4").view(np.uint8)  # (16,) byte n = entry n + bias
    np.testing.assert_array_equal(as_bytes.astype(np.int64) - bias, np.array(values, dtype=np.int64))
    assert tables.KV16_BIAS[name] == bias
    if bias == 64:  # the 7-bit lookup of ql_kv16_lookup8 needs every byte's sign bit clear
        assert as_bytes.max() < 128


def test_biased_kv16_refuses_entries_that_do_not_fit():
    with pytest.raises(ValueError, match="biased by 64"):
        tables.biased_kv16(np.array(quants.IQ4_NL.kvalues, dtype=np.int8), 64)  # -127..113: not 7 bits


class _Pointer:
    def __init__(self, size: int):
        self.mem = type("Mem", (), {"size": size})()
        self.copied = 0

    def copy_from_host(self, address: int, nbytes: int) -> None:
        self.copied = nbytes


class _Module:
    def __init__(self, sizes: dict[str, int]):
        self.pointers = {name: _Pointer(size) for name, size in sizes.items()}

    def get_global(self, name: str) -> _Pointer:
        if name not in self.pointers:
            raise RuntimeError(f"CUDA_ERROR_NOT_FOUND: {name}")
        return self.pointers[name]


def test_upload_copies_every_table_with_its_full_size():
    sizes = {name: array.nbytes for name, array in tables.device_table_arrays().items()}
    module = _Module(sizes)
    tables.upload_tables(module)
    assert {name: p.copied for name, p in module.pointers.items()} == sizes


def test_upload_refuses_a_size_mismatch_and_a_missing_global():
    sizes = {name: array.nbytes for name, array in tables.device_table_arrays().items()}
    with pytest.raises(tables.TableUploadError, match="iq2s_sel"):
        tables.upload_tables(_Module({**sizes, "iq2s_sel": 16}))
    del sizes["kvalues_fp4_biased"]
    with pytest.raises(tables.TableUploadError, match="kvalues_fp4_biased"):
        tables.upload_tables(_Module(sizes))
