"""The launcher's choice between the CTA and the independent-warp 1-column mmvq (no GPU)."""

from __future__ import annotations

import math

import pytest

from engine.kernels.api import KernelSet
from engine.kernels.sources import (
    MMVQ_WARPS,
    MMVQ_WARPS_MIN_BUSY,
    ModuleSpec,
    kernel_name,
    mmvq_uses_warps,
    module_source,
)
from engine.quant.table import QUANT_TABLE

RESIDENT_WARPS = 3168  # e.g. 132 SMs x 6 CTAs x 4 warps


@pytest.mark.parametrize("type_name", sorted(QUANT_TABLE))
def test_auto_uses_warps_for_listed_types_on_tall_matrices_only(type_name):
    qt = QUANT_TABLE[type_name]
    enough = math.ceil(MMVQ_WARPS_MIN_BUSY * RESIDENT_WARPS)
    assert mmvq_uses_warps(qt, 1, enough, RESIDENT_WARPS) == (type_name in MMVQ_WARPS)
    assert not mmvq_uses_warps(qt, 1, enough - 1, RESIDENT_WARPS)
    assert not mmvq_uses_warps(qt, 2, 10 * enough, RESIDENT_WARPS)  # the warp kernel is 1-column only


@pytest.mark.parametrize("type_name", sorted(QUANT_TABLE))
def test_forced_layouts(type_name):
    qt = QUANT_TABLE[type_name]
    assert mmvq_uses_warps(qt, 1, 1, RESIDENT_WARPS, "warps") == (type_name in MMVQ_WARPS)
    assert not mmvq_uses_warps(qt, 1, 10**9, RESIDENT_WARPS, "ctas")


def test_unknown_layout_is_refused():
    with pytest.raises(ValueError, match="mmvq layout"):
        mmvq_uses_warps(QUANT_TABLE["Q8_0"], 1, 1, 1, "diagonal")
    with pytest.raises(ValueError, match="mmvq layout"):
        KernelSet(0, 90, mmvq_layout="diagonal")


@pytest.mark.parametrize("family", ["legacy", "k"])
def test_warp_wrappers_are_generated_for_the_listed_types_only(family):
    source = module_source(ModuleSpec(family, "mmvq"))
    for qt in QUANT_TABLE.values():
        if qt.family == family:
            assert (kernel_name("mmvqw", qt.name, 1) + "(" in source) == (qt.name in MMVQ_WARPS)
    assert "ql_mmvqw_" not in module_source(ModuleSpec(family, "dmmv"))
