"""The one-column CTA mmvq of the types in MMVQ_SMEM_STAGES reserves shared memory for more tile
stages than the two it uses, so fewer CTAs share an SM (matvec_tiles.cuh: SMEM_STAGES): the
wrappers pass the count for one column at the default R only, and the kernels really hold that
much static shared memory on sm_90 and sm_100 (cubins through NVRTC + nvdisasm, no GPU), within
the 48 KB a kernel may declare statically; before sm_90 and on sm_12x (SMs of 64-164 KB) the same
kernels hold two stages."""

from __future__ import annotations

import re

import pytest
from sass_loads import nvdisasm_or_skip, static_shared_bytes

from engine.kernels.build import CompileTarget, compile_cubin, compile_options
from engine.kernels.sources import (
    MMVQ_SMEM_STAGES,
    ModuleSpec,
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


def _template_args(source: str, kernel: str) -> list[int]:
    call = re.search(rf"\b{kernel}\([^{{]*\{{ ql_mmvq<\w+, ([\d, ]+)>", source).group(1)
    return [int(v) for v in call.split(",")]


@pytest.mark.parametrize("type_name", QUANTIZED)
def test_only_the_listed_types_reserve_stages_and_only_for_one_column(type_name):
    qt = QUANT_TABLE[type_name]
    source = module_source(ModuleSpec(qt.family, "mmvq", columns=(1, 2)))
    expected = MMVQ_SMEM_STAGES.get(type_name, 2)
    assert mmvq_smem_stages(qt, 1) == expected
    assert _template_args(source, kernel_name("mmvq", type_name, 1)) == (
        [1, rows_per_block(1, qt)] + ([expected] if expected != 2 else []))
    assert _template_args(source, kernel_name("mmvq", type_name, 2)) == [2, rows_per_block(2, qt)]
    forced = module_source(ModuleSpec(qt.family, "mmvq", columns=(1,), rows=4))  # a bench knob: no reservation
    assert _template_args(forced, kernel_name("mmvq", type_name, 1)) == [1, 4]


def _static_shared(type_name: str, arch: int) -> dict[str, int]:
    """kernel name -> static shared bytes of ``type_name``'s mmvq module (1 and 2 columns) for ``arch``."""
    nvdisasm = nvdisasm_or_skip()
    spec = ModuleSpec(QUANT_TABLE[type_name].family, "mmvq", columns=(1, 2))
    return static_shared_bytes(nvdisasm, compile_cubin(module_source(spec), header_files(),
                                                       compile_options(spec, CompileTarget(arch)), spec.family))


def _stage(type_name: str, ncols: int) -> int:
    """Bytes of one tile stage of ``type_name``'s ``ncols``-column CTA mmvq (R rows of a tile)."""
    qt = QUANT_TABLE[type_name]
    return rows_per_block(ncols, qt) * tile_row_bytes(qt)


@pytest.mark.parametrize("arch", [90, 100])  # SMs of 228 KB
@pytest.mark.parametrize("type_name", sorted(MMVQ_SMEM_STAGES))
def test_the_kernel_holds_the_reserved_stages(type_name, arch):
    shared, two_stage = _static_shared(type_name, arch), _static_shared(type_name, 86)
    one, two = kernel_name("mmvq", type_name, 1), kernel_name("mmvq", type_name, 2)
    # Two columns reserve nothing: sm_86's bytes plus at most the 1 KB sm_90's cubins count for the
    # system (every kernel's, Q4_0's too), less than a two-column stage.
    arch_extra = shared[two] - two_stage[two]
    assert 0 <= arch_extra <= 1024 < _stage(type_name, 2)
    # One column: exactly the reserved stages more than sm_86's two, within the static limit.
    assert shared[one] - two_stage[one] == (MMVQ_SMEM_STAGES[type_name] - 2) * _stage(type_name, 1) + arch_extra
    assert shared[one] <= STATIC_SHARED_LIMIT


@pytest.mark.parametrize("arch", [75, 86, 120])  # 75: the branch of sm_52/61 too (nvdisasm here reads sm_75+)
@pytest.mark.parametrize("type_name", sorted(MMVQ_SMEM_STAGES))
def test_on_smaller_sms_the_kernel_holds_two_stages(type_name, arch):
    shared = _static_shared(type_name, arch)
    one, two = kernel_name("mmvq", type_name, 1), kernel_name("mmvq", type_name, 2)
    # Both kernels hold T's table, two stages and their warp sums (a few hundred bytes apart): a
    # third stage of one column (>= 6 KB) would show.
    extra_stages = shared[one] - shared[two] - 2 * (_stage(type_name, 1) - _stage(type_name, 2))
    assert abs(extra_stages) < 512
