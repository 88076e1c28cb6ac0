"""Every kernel module compiles through NVRTC without a GPU (no driver needed), for every
supported arch and both dp4a variants; the disk cache is hit when nothing changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.kernels import build
from engine.kernels.build import SUPPORTED_ARCHS, CompileTarget, cached_cubin, check_ptx_all, precompile
from engine.kernels.sources import ModuleSpec, kernel_name, module_source, module_specs


def _nvrtc_or_skip():
    try:
        return build.nvrtc_version()
    except Exception as exc:  # no NVRTC library at all
        pytest.skip(f"NVRTC not available: {exc}")


def test_every_family_compiles_one_column(tmp_path):
    """Fast smoke: all type headers and kernel templates (1 column), native and software dp4a, sm_61."""
    _nvrtc_or_skip()
    results = precompile(module_specs(columns=(1,)), CompileTarget(61), tmp_path, workers=2)
    assert results and all(compiled for _, compiled in results)


@pytest.mark.slow
@pytest.mark.parametrize("arch", SUPPORTED_ARCHS)
def test_every_module_compiles_for_arch(arch):
    """Full matrix: every instantiation (1..8 columns), native and software dp4a, through NVRTC
    for this arch's virtual architecture (PTX; the SASS assembler step is covered by the CUBIN
    tests above and by the GPU run)."""
    _nvrtc_or_skip()
    results = check_ptx_all(module_specs(), CompileTarget(arch), workers=2)
    assert len(results) == len(module_specs())
    assert all(size > 0 for _, size in results), results


@pytest.mark.parametrize("arch", (52, 90))
def test_one_family_assembles_to_cubin_for_oldest_and_newest_arch(arch, tmp_path):
    """CUBIN (with the SASS assembler) for Maxwell and Hopper, one column, native and soft dp4a."""
    _nvrtc_or_skip()
    specs = module_specs(families=("legacy",), columns=(1,))
    results = precompile(specs, CompileTarget(arch), tmp_path, workers=2)
    assert results and all(compiled for _, compiled in results)


def test_a_dead_compile_worker_falls_back_to_compiling_here(tmp_path, monkeypatch):
    """A worker that dies (e.g. killed for memory) breaks the pool: the modules still get built."""
    from concurrent.futures import process

    _nvrtc_or_skip()

    class DyingPool:
        def __init__(self, *args, **kwargs):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def map(self, fn, jobs):
            raise process.BrokenProcessPool("a worker was terminated abruptly")

    monkeypatch.setattr("concurrent.futures.ProcessPoolExecutor", DyingPool)
    specs = [ModuleSpec("float", "dmmv", columns=(1,)), ModuleSpec("legacy", "mmvq", columns=(1,))]
    results = precompile(specs, CompileTarget(61), tmp_path, workers=2)
    assert len(results) == 2 and all(compiled for _, compiled in results)
    assert all(Path(path).stat().st_size > 0 for path, _ in results)


def test_cache_hit_and_key_changes(tmp_path):
    _nvrtc_or_skip()
    spec = ModuleSpec("legacy", "mmvq", columns=(1,))
    path, compiled = cached_cubin(spec, CompileTarget(61), tmp_path)
    assert compiled and path.stat().st_size > 0
    again, compiled_again = cached_cubin(spec, CompileTarget(61), tmp_path)
    assert again == path and not compiled_again
    soft, compiled_soft = cached_cubin(spec, CompileTarget(61, soft_dp4a=True), tmp_path)
    assert compiled_soft and soft != path
    other_arch, _ = cached_cubin(spec, CompileTarget(75), tmp_path)
    assert other_arch not in (path, soft)


def test_wrappers_are_generated_from_the_table():
    source = module_source(ModuleSpec("k", "mmvq"))
    for n in range(1, 9):
        assert kernel_name("mmvq", "Q6_K", n) in source
    assert "static_assert(Q4_K::QK == 256 && Q4_K::BYTES == 144" in source
    assert kernel_name("f16", "Q4_0") in module_source(ModuleSpec("legacy", "dmmv"))


def test_soft_dp4a_define_only_for_mmvq():
    mmvq = build.compile_options(ModuleSpec("legacy", "mmvq", soft_dp4a=True), CompileTarget(90))
    dmmv = build.compile_options(ModuleSpec("legacy", "dmmv"), CompileTarget(90, soft_dp4a=True))
    assert "-DQL_SOFT_DP4A" in mmvq and "-DQL_SOFT_DP4A" not in dmmv and "-arch=sm_90" in dmmv


def test_x_in_registers_dmmv_wrappers_exist_for_exactly_the_listed_types():
    from engine.kernels.sources import DMMV_X_IN_REGISTERS, FAMILY_HEADERS, family_types

    generated = set()
    for family in FAMILY_HEADERS:
        source = module_source(ModuleSpec(family, "dmmv"))
        generated |= {qt.name for qt in family_types(family) if kernel_name("dmmvr", qt.name, 1) in source}
        assert kernel_name("dmmvr", "Q4_K", 2) not in source  # one column only
    assert generated == DMMV_X_IN_REGISTERS


def test_dmmv_keeps_x_in_registers_only_for_one_column_of_one_tile_rows():
    from engine.kernels.sources import QL_THREADS, dmmv_kernel_name
    from engine.quant.table import QUANT_TABLE

    q4_k, iq1_s = QUANT_TABLE["Q4_K"], QUANT_TABLE["IQ1_S"]
    assert dmmv_kernel_name(q4_k, 1, QL_THREADS) == "ql_dmmvr_Q4_K_n1"  # a 4096-element row: one tile
    assert dmmv_kernel_name(q4_k, 1, QL_THREADS + 8) == "ql_dmmv_Q4_K_n1"  # two tiles: x changes per item
    assert dmmv_kernel_name(q4_k, 2, 8) == "ql_dmmv_Q4_K_n2"
    assert dmmv_kernel_name(iq1_s, 1, 8) == "ql_dmmv_IQ1_S_n1"  # measured slower with x in registers
