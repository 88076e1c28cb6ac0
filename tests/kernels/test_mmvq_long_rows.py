"""The long-rows 1-column mmvq (ql_mmvql_<T>_n1, MMVQ_LONG_ROWS[T] rows per CTA): which shapes
take it and which modules have it (no GPU). The kernel itself: test_mmvq_long_rows_gpu.py."""

from __future__ import annotations

import re

import pytest

from engine.kernels.sources import (
    MMVQ_LONG_ROWS,
    QL_THREADS,
    ModuleSpec,
    kernel_name,
    mmvq_has_long_rows_kernel,
    mmvq_uses_long_rows,
    module_source,
    rows_per_block,
)
from engine.quant.table import QUANT_TABLE

H100_SMS = 132
QUANTIZED = sorted(name for name, qt in QUANT_TABLE.items() if not qt.is_float)


def _chunks(row_len: int) -> int:
    return row_len // 32


@pytest.mark.parametrize("type_name", QUANTIZED)
def test_only_the_listed_types_have_the_variant(type_name):
    qt = QUANT_TABLE[type_name]
    assert mmvq_has_long_rows_kernel(qt, 1) == (type_name in MMVQ_LONG_ROWS)
    assert not mmvq_has_long_rows_kernel(qt, 2)  # one column only
    assert not mmvq_has_long_rows_kernel(qt, 1, override=8)  # a forced R applies to every kernel


@pytest.mark.parametrize("type_name", sorted(MMVQ_LONG_ROWS))
def test_a_listed_type_takes_fewer_rows_than_its_default(type_name):
    assert 1 <= MMVQ_LONG_ROWS[type_name] < rows_per_block(1, QUANT_TABLE[type_name])


def test_the_8b_down_projection_takes_it_and_the_other_decode_shapes_do_not():
    qt = QUANT_TABLE["IQ2_XXS"]  # default R 8
    assert mmvq_uses_long_rows(qt, 1, 4096, _chunks(14336), H100_SMS)  # 512 groups of 3.5 tiles
    assert mmvq_uses_long_rows(qt, 1, 2048, _chunks(8192), H100_SMS)  # the 1B down projection: 2 tiles
    assert not mmvq_uses_long_rows(qt, 1, 4096, _chunks(4096), H100_SMS)  # one tile per row
    assert not mmvq_uses_long_rows(qt, 1, 6144, _chunks(4096), H100_SMS)
    assert not mmvq_uses_long_rows(qt, 1, 28672, _chunks(4096), H100_SMS)
    assert not mmvq_uses_long_rows(qt, 1, 65536, _chunks(14336), H100_SMS)  # 8192 groups: many per SM
    assert not mmvq_uses_long_rows(qt, 2, 4096, _chunks(14336), H100_SMS)
    assert not mmvq_uses_long_rows(qt, 1, 4096, _chunks(14336), H100_SMS, override=2)
    assert not mmvq_uses_long_rows(QUANT_TABLE["Q4_K"], 1, 4096, _chunks(14336), H100_SMS)  # not listed


def test_the_group_limit_scales_with_the_sm_count():
    qt = QUANT_TABLE["IQ2_XXS"]
    rows = 8 * rows_per_block(1, qt) * 40 + 1  # one group more than 8 per SM on a 40-SM card
    assert not mmvq_uses_long_rows(qt, 1, rows, 2 * QL_THREADS, 40)
    assert mmvq_uses_long_rows(qt, 1, rows, 2 * QL_THREADS, 41)


@pytest.mark.parametrize("family", sorted({qt.family for qt in QUANT_TABLE.values() if not qt.is_float}))
def test_mmvq_modules_define_the_wrapper_exactly_for_those_types(family):
    source = module_source(ModuleSpec(family, "mmvq"))
    defined = set(re.findall(r"\bql_mmvql_(\w+)_n1\(", source))
    expected = {name for name, qt in QUANT_TABLE.items()
                if qt.family == family and mmvq_has_long_rows_kernel(qt, 1)}
    assert defined == expected
    for name in expected:
        assert f"{kernel_name('mmvql', name, 1)}(" in source
        assert f"ql_mmvq<{name}, 1, {MMVQ_LONG_ROWS[name]}>" in source
    assert "ql_mmvql_" not in module_source(ModuleSpec(family, "mmvq", rows=2))
