"""Programmatic dependent launch lets a kernel start while the one before it still writes, so
before its griddepcontrol.wait a kernel may load only immutable data (engine/kernels/common.cuh).
ptxas may move an ld.global.nc (a `const __restrict__` load) above the wait; it did once with the
layer ops' step position. So the sm_90 SASS of every module (NVRTC, no GPU) may hold, before a
kernel's wait, only: weight copies (LDGSTS, LDGDEPBAR), lookup-table loads (LDG.E) in the
families with tables, and the split attention's prefetch guess (LDG.E.STRONG.SYS); and every
kernel has a wait."""

from __future__ import annotations

import pytest
from sass_loads import loads_before_wait, nvdisasm_or_skip

from engine.kernels.build import CompileTarget, compile_cubin, compile_options
from engine.kernels.sources import (
    FAMILIES_WITH_TABLES,
    FAMILY_HEADERS,
    MODULE_KINDS,
    ModuleSpec,
    header_files,
    module_source,
)

WEIGHT_COPIES = {"LDGSTS.E.BYPASS.128", "LDGDEPBAR"}
GUESS_KERNELS = {"ql_attention_split_rope", "ql_attention_split_rope_merged"}  # read pos early, as a prefetch guess
SPECS = [(f, k) for f in FAMILY_HEADERS for k in MODULE_KINDS if not (f == "float" and k == "mmvq")]


@pytest.fixture(scope="module")
def nvdisasm() -> str:
    return nvdisasm_or_skip()


@pytest.mark.parametrize("family,kind", SPECS)
def test_matvec_kernels_load_only_weights_and_tables_before_their_wait(nvdisasm, family, kind):
    spec = ModuleSpec(family, kind, columns=(1, 2))  # the one-column kernels and the general ones
    cubin = compile_cubin(module_source(spec), header_files(), compile_options(spec, CompileTarget(90)), family)
    allowed = WEIGHT_COPIES | ({"LDG.E"} if family in FAMILIES_WITH_TABLES else set())
    kernels = loads_before_wait(nvdisasm, cubin)
    assert kernels
    early = {name: loads for name, loads in kernels.items() if loads is None or not set(loads) <= allowed}
    assert not early, early  # None: a kernel without a wait


def test_layer_kernels_load_nothing_but_the_guess_before_their_wait(nvdisasm):
    from engine.backends.cuda import layer_module_source

    kernels = loads_before_wait(nvdisasm, compile_cubin(layer_module_source(), {}, ("-std=c++17", "-arch=sm_90"), "layer"))
    assert GUESS_KERNELS <= set(kernels)
    early = {name: loads for name, loads in kernels.items()
             if loads is None or set(loads) - ({"LDG.E.STRONG.SYS"} if name in GUESS_KERNELS else set())}
    assert not early, early
