"""engine.kernels.launch without a GPU: the ctypes structs have cuda.h's layout, arguments
are passed as the kernels' C types, and every way PDL can be unavailable falls back to the
ordinary CuPy launch. (On a GPU: tests/runtime/test_backend_cuda.py compares PDL and
ordinary launches logit for logit.)"""

from __future__ import annotations

import ctypes

import numpy as np
import pytest

from engine.kernels import launch


def test_structs_match_the_cuda_driver_abi():
    # cuda.h: CUlaunchAttribute {int id; char pad[4]; union (64 bytes) value} and CUlaunchConfig
    # {7 x unsigned; CUstream; CUlaunchAttribute*; unsigned}, on a 64-bit host.
    assert ctypes.sizeof(launch._LaunchAttribute) == 72
    assert launch._LaunchAttribute.value.offset == 8
    assert ctypes.sizeof(launch._LaunchConfig) == 56
    assert launch._LaunchConfig.shared_mem_bytes.offset == 24
    assert (launch._LaunchConfig.stream.offset, launch._LaunchConfig.attrs.offset) == (32, 40)
    assert launch._LaunchConfig.num_attrs.offset == 48


def test_arguments_become_their_c_types():
    assert isinstance(launch._as_ctype(np.int32(-3)), ctypes.c_int32)
    assert launch._as_ctype(np.int64(2**40)).value == 2**40
    assert launch._as_ctype(np.float32(0.5)).value == 0.5
    with pytest.raises(launch._NotMarshallable):
        launch._as_ctype(3)  # a bare Python int has no fixed C type: CuPy's launch takes it


class _FakeKernel:
    """Stands in for a cupy.RawKernel: records ordinary launches."""

    def __init__(self):
        self.calls = []
        self.kernel = type("Function", (), {"ptr": 1234})()

    def __call__(self, grid, block, args):
        self.calls.append((grid, block, args))


def test_old_gpus_and_the_switch_use_ordinary_launches(monkeypatch):
    assert not launch.Launcher(arch=61).enabled
    monkeypatch.setenv("QUANTLAUNCH_PDL", "0")
    off = launch.Launcher(arch=90)
    assert not off.enabled and off.note == "off"
    kernel = _FakeKernel()
    off(kernel, (2,), (128,), (np.int32(1),))
    assert kernel.calls == [((2,), (128,), (np.int32(1),))]


def test_a_driver_error_turns_pdl_off_and_still_launches(monkeypatch):
    import sys
    import types

    fake_cupy = types.SimpleNamespace(cuda=types.SimpleNamespace(
        get_current_stream=lambda: types.SimpleNamespace(ptr=0)))
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy)
    seen = []

    def launch_ex(config, function, params, extra):
        cfg = config._obj
        seen.append((tuple(cfg.grid), tuple(cfg.block), cfg.num_attrs, cfg.attrs.contents.id,
                     cfg.attrs.contents.value.programmatic_stream_serialization_allowed, function.value))
        return 801  # CUDA_ERROR_NOT_SUPPORTED

    launcher = launch.Launcher(arch=90, enabled=False)
    launcher._launch_ex = launch_ex
    kernel = _FakeKernel()
    launcher(kernel, (3, 2), (256,), (np.int32(5), np.float32(1.0)))
    assert seen == [((3, 2, 1), (256, 1, 1), 1, launch.CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION, 1, 1234)]
    assert kernel.calls == [((3, 2), (256,), (np.int32(5), np.float32(1.0)))]  # fell back
    assert not launcher.enabled and "801" in launcher.note
