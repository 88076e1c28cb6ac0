"""Rows per CTA (R): the choice by columns, a forced R, and the tile budget that caps both (no GPU)."""

from __future__ import annotations

import pytest

from engine.kernels.sources import QL_THREADS, SMEM_BUDGET, block_shape, rows_per_block
from engine.quant.table import QUANT_TABLE


def tile_bytes(type_name: str) -> int:
    qk, nbytes = block_shape(QUANT_TABLE[type_name])
    return QL_THREADS // (qk // 32) * nbytes  # one tile: QL_THREADS chunks of 32 elements


@pytest.mark.parametrize("type_name", sorted(QUANT_TABLE))
@pytest.mark.parametrize("override", [0, 1, 2, 4, 8, 16])
@pytest.mark.parametrize("ncols", [1, 2, 8])
def test_rows_fit_the_tile_budget(type_name, override, ncols):
    rows = rows_per_block(ncols, QUANT_TABLE[type_name], override)
    assert rows >= 1
    assert rows == 1 or rows * tile_bytes(type_name) <= SMEM_BUDGET
    assert rows * ncols <= 32  # one warp reduces every (column, row) sum (ql_reduce_store)


def test_a_forced_r_is_kept_where_it_fits_and_capped_where_not():
    assert rows_per_block(1, QUANT_TABLE["Q4_0"], 4) == 4  # 4 x 2304 B fits
    assert rows_per_block(8, QUANT_TABLE["Q4_0"], 4) == 4  # the override replaces the choice by columns
    assert rows_per_block(1, QUANT_TABLE["Q8_0"], 8) == SMEM_BUDGET // tile_bytes("Q8_0")  # 4352 B tiles: 4
    assert rows_per_block(1, QUANT_TABLE["F32"], 4) == 1  # 16 KB tiles: one row
    assert rows_per_block(8, QUANT_TABLE["MXFP4"], 6) == 4  # 8 columns x 6 rows would be 48 sums


def test_default_choice_by_columns():
    assert rows_per_block(1, QUANT_TABLE["Q4_0"]) == 8
    assert rows_per_block(2, QUANT_TABLE["Q4_0"]) == 4
    assert rows_per_block(8, QUANT_TABLE["Q4_0"]) == 2
