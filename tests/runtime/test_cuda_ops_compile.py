"""The per-layer CUDA ops (engine/backends/cuda_ops.cu + cuda_attention.cu +
cuda_attention_cluster.cu, one module) compile through NVRTC for the oldest dp4a GPU (sm_61)
and for Hopper (sm_90), with no GPU and no CUDA headers, and export every kernel the CUDA
backend looks up."""

from __future__ import annotations

import re
from importlib import resources

import pytest

KERNELS = ("ql_rms_norm", "ql_rope", "ql_kv_store", "ql_rope_kv_store", "ql_attention", "ql_swiglu",
           "ql_attention_split", "ql_attention_split_rope", "ql_attention_merge", "ql_argmax", "ql_argmax_chain")
SM90_KERNELS = ("ql_attention_split_rope_merged",)  # thread block clusters: sm_90+ only


def _source() -> str:
    from engine.backends.cuda import layer_module_source

    return layer_module_source()


def _nvrtc():
    try:
        from cupy.cuda import nvrtc

        nvrtc.getVersion()
        return nvrtc
    except Exception as exc:  # no NVRTC library at all
        pytest.skip(f"NVRTC not available: {exc}")


def _compile(arch_option: str, want_cubin: bool) -> bytes | str:
    nvrtc = _nvrtc()
    prog = nvrtc.createProgram(_source(), "layer_ops.cu", [], [])
    try:
        try:
            nvrtc.compileProgram(prog, [arch_option, "-std=c++17"])
        except nvrtc.NVRTCError:
            pytest.fail(f"the layer ops did not compile for {arch_option}:\n{nvrtc.getProgramLog(prog)}")
        return nvrtc.getCUBIN(prog) if want_cubin else nvrtc.getPTX(prog)
    finally:
        nvrtc.destroyProgram(prog)


@pytest.mark.parametrize("arch", (61, 90))
def test_cuda_ops_compile_to_ptx_with_every_kernel(arch):
    ptx = _compile(f"-arch=compute_{arch}", want_cubin=False)
    ptx = ptx.decode() if isinstance(ptx, bytes) else ptx
    entries = set(re.findall(r"\.entry\s+(\w+)", ptx))
    assert set(KERNELS) <= entries, sorted(set(KERNELS) - entries)
    assert (set(SM90_KERNELS) <= entries) == (arch >= 90) and bool(set(SM90_KERNELS) & entries) == (arch >= 90)


@pytest.mark.parametrize("arch", (61, 90))
def test_cuda_ops_assemble_to_cubin(arch):
    cubin = _compile(f"-arch=sm_{arch}", want_cubin=True)
    assert len(cubin) > 1000 and bytes(cubin[:4]) == b"\x7fELF"


def test_backend_looks_up_only_exported_kernels():
    backend = resources.files("engine.backends").joinpath("cuda.py").read_text()
    looked_up = set(re.findall(r'get_function\("(\w+)"\)', backend))
    assert looked_up and looked_up <= set(KERNELS + SM90_KERNELS), looked_up - set(KERNELS + SM90_KERNELS)


def test_source_is_header_free():
    assert "#include" not in _source()


def test_kernels_read_the_step_position_only_through_ql_step_pos():
    """A plain pos[0] through a `const __restrict__` pointer may become an ld.global.nc that ptxas
    moves above griddepcontrol.wait (it did in ql_attention): every read goes through the
    volatile ql_step_pos (tests/runtime/test_cuda_pdl_order.py checks the effect on a GPU)."""
    code = re.sub(r"//[^\n]*", "", _source())  # comments may say pos[0]
    assert "ql_step_pos(pos)" in code
    assert not re.findall(r"\bpos\s*\[", code)
