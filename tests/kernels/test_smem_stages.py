"""The one-column CTA kernels of the types in MMVQ_SMEM_STAGES (mmvq) and DMMV_SMEM_STAGES
(dmmv) reserve shared memory for more tile stages than the two they use, so fewer CTAs share an
SM (matvec_tiles.cuh: SMEM_STAGES): the wrappers pass the count for one column at the default R
only, and the kernels really hold that much static shared memory on sm_90 and sm_100 (cubins
through NVRTC + nvdisasm, no GPU), within the 48 KB a kernel may declare statically; before sm_90
and on sm_12x (SMs of 64-164 KB) the same kernels hold two stages."""

from __future__ import annotations

import functools
import re

import pytest
from sass_loads import nvdisasm_or_skip, static_shared_bytes

from engine.kernels.build import CompileTarget, compile_cubin, compile_options
from engine.kernels.sources import (
    DMMV_SMEM_STAGES,
    DMMV_X_IN_REGISTERS,
    MMVQ_SMEM_STAGES,
    ModuleSpec,
    dmmv_smem_stages,
    header_files,
    kernel_name,
    mmvq_smem_stages,
    module_source,
    rows_per_block,
    tile_row_bytes,
)
from engine.quant.table import QUANT_TABLE

STATIC_SHARED_LIMIT = 48 * 1024
QUANTIZED = sorted(name for name, qt in QUANT_TABLE.items() if not qt.is_float)
TABLES = {"mmvq": MMVQ_SMEM_STAGES, "dmmv": DMMV_SMEM_STAGES}
STAGES_OF = {"mmvq": mmvq_smem_stages, "dmmv": dmmv_smem_stages}
RESERVING = [(kind, name) for kind, table in TABLES.items() for name in sorted(table)]


def _template_args(source: str, kernel: str) -> list[str]:
    """The template arguments after the type in ``kernel``'s wrapper call (ql_mmvq<T, ...> or ql_dmmv<T, ...>)."""
    call = re.search(rf"\b{kernel}\([^{{]*\{{ ql_\w+<\w+, ([\w, ]+)>", source).group(1)
    return [v.strip() for v in call.split(",")]


def _reserved_arg(source: str, kernel: str, kind: str) -> int:
    """The SMEM_STAGES argument of ``kernel``'s call; 2 (the default) where it is left out."""
    args = _template_args(source, kernel)
    position = 2 if kind == "mmvq" else 4  # ql_mmvq<T, N, R, S>; ql_dmmv<T, N, R, X_IN_REGS, SPREAD, S>
    return int(args[position]) if len(args) > position else 2


@pytest.mark.parametrize("kind", sorted(TABLES))
@pytest.mark.parametrize("type_name", QUANTIZED)
def test_only_the_listed_types_reserve_stages_and_only_for_one_column(type_name, kind):
    qt = QUANT_TABLE[type_name]
    source = module_source(ModuleSpec(qt.family, kind, columns=(1, 2)))
    expected = TABLES[kind].get(type_name, 2)
    assert STAGES_OF[kind](qt, 1) == expected
    assert _template_args(source, kernel_name(kind, type_name, 1))[:2] == ["1", str(rows_per_block(1, qt))]
    assert _reserved_arg(source, kernel_name(kind, type_name, 1), kind) == expected
    if kind == "dmmv" and type_name in DMMV_X_IN_REGISTERS:  # the x-in-registers kernel reserves the same
        assert _reserved_arg(source, kernel_name("dmmvr", type_name, 1), kind) == expected
    assert _reserved_arg(source, kernel_name(kind, type_name, 2), kind) == 2
    forced = module_source(ModuleSpec(qt.family, kind, columns=(1,), rows=4))  # a bench knob: no reservation
    assert _template_args(forced, kernel_name(kind, type_name, 1))[:2] == ["1", "4"]
    assert _reserved_arg(forced, kernel_name(kind, type_name, 1), kind) == 2


def _static_shared(type_name: str, kind: str, arch: int) -> dict[str, int]:
    """kernel name -> static shared bytes of ``type_name``'s ``kind`` module (1 and 2 columns) for ``arch``."""
    return _family_static_shared(QUANT_TABLE[type_name].family, kind, arch)


@functools.cache
def _family_static_shared(family: str, kind: str, arch: int) -> dict[str, int]:
    """One compile per family, kind and arch (a module holds every type of its family)."""
    nvdisasm = nvdisasm_or_skip()
    spec = ModuleSpec(family, kind, columns=(1, 2))
    return static_shared_bytes(nvdisasm, compile_cubin(module_source(spec), header_files(),
                                                       compile_options(spec, CompileTarget(arch)), family))


def _stage(type_name: str, ncols: int) -> int:
    """Bytes of one tile stage of ``type_name``'s ``ncols``-column CTA kernel (R rows of a tile)."""
    qt = QUANT_TABLE[type_name]
    return rows_per_block(ncols, qt) * tile_row_bytes(qt)


@pytest.mark.parametrize("arch", [90, 100])  # SMs of 228 KB
@pytest.mark.parametrize(("kind", "type_name"), RESERVING)
def test_the_kernel_holds_the_reserved_stages(kind, type_name, arch):
    shared, two_stage = _static_shared(type_name, kind, arch), _static_shared(type_name, kind, 86)
    one, two = kernel_name(kind, type_name, 1), kernel_name(kind, type_name, 2)
    # Two columns reserve nothing: sm_86's bytes plus at most the 1 KB sm_90's cubins count for the
    # system (every kernel's, Q4_0's too), less than a two-column stage.
    arch_extra = shared[two] - two_stage[two]
    assert 0 <= arch_extra <= 1024 < _stage(type_name, 2)
    # One column: exactly the reserved stages more than sm_86's two, within the static limit.
    assert shared[one] - two_stage[one] == (TABLES[kind][type_name] - 2) * _stage(type_name, 1) + arch_extra
    assert shared[one] <= STATIC_SHARED_LIMIT


@pytest.mark.parametrize("arch", [75, 86, 120])  # 75: the branch of sm_52/61 too (nvdisasm here reads sm_75+)
@pytest.mark.parametrize(("kind", "type_name"), RESERVING)
def test_on_smaller_sms_the_kernel_holds_two_stages(kind, type_name, arch):
    shared = _static_shared(type_name, kind, arch)
    one, two = kernel_name(kind, type_name, 1), kernel_name(kind, type_name, 2)
    # Both kernels hold T's table, two stages and their warp sums (a few hundred bytes apart): a
    # third stage of one column (>= 6 KB) would show.
    extra_stages = shared[one] - shared[two] - 2 * (_stage(type_name, 1) - _stage(type_name, 2))
    assert abs(extra_stages) < 512
