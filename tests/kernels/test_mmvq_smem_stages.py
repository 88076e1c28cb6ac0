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


@pytest.mark.parametrize("arch", [90, 100])  # SMs of 228 KB
@pytest.mark.parametrize("type_name", sorted(MMVQ_SMEM_STAGES))
def test_the_kernel_holds_the_reserved_stages(type_name, arch):
    qt = QUANT_TABLE[type_name]
    shared = _static_shared(type_name, arch)
    one_column = shared[kernel_name("mmvq", type_name, 1)]
    assert one_column >= MMVQ_SMEM_STAGES[type_name] * rows_per_block(1, qt) * tile_row_bytes(qt)
    assert one_column <= STATIC_SHARED_LIMIT
    assert shared[kernel_name("mmvq", type_name, 2)] < 3 * rows_per_block(2, qt) * tile_row_bytes(qt)


@pytest.mark.parametrize("arch", [75, 86, 120])  # 75: the branch of sm_52/61 too (nvdisasm here reads sm_75+)
@pytest.mark.parametrize("type_name", sorted(MMVQ_SMEM_STAGES))
def test_on_smaller_sms_the_kernel_holds_two_stages(type_name, arch):
    qt = QUANT_TABLE[type_name]
    one_column = _static_shared(type_name, arch)[kernel_name("mmvq", type_name, 1)]
    stage = rows_per_block(1, qt) * tile_row_bytes(qt)
    assert 2 * stage <= one_column < 3 * stage
