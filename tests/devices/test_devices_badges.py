"""Capability badges from the compute capability and the runtime's supported architectures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from engine.devices import badges as badges_module
from engine.devices.badges import CUDA12_ARCHS, badges_for, compile_arch, runtime_supported_archs
from engine.devices.inventory import Device


def _device(cc):
    return Device(0, "GPU-t", "Test card", cc, 8 << 30, 7 << 30)


@pytest.mark.parametrize(
    "cc, keys",
    [
        ((3, 7), ["unsupported"]),
        ((5, 0), ["legacy-dmmv"]),
        ((5, 2), ["legacy-dmmv"]),
        ((6, 0), ["fast-fp16", "legacy-dmmv"]),
        ((6, 1), ["dp4a"]),
        ((6, 2), ["dp4a", "fast-fp16"]),
        ((7, 0), ["dp4a", "fast-fp16", "tensor-fp16"]),
        ((7, 5), ["dp4a", "fast-fp16", "tensor-fp16", "tensor-int8"]),
        ((8, 6), ["dp4a", "fast-fp16", "tensor-fp16", "tensor-int8", "tensor-bf16"]),
        ((12, 0), ["dp4a", "fast-fp16", "tensor-fp16", "tensor-int8", "tensor-bf16"]),
    ],
)
def test_badges_by_compute_capability(cc, keys):
    badges = badges_for(_device(cc), CUDA12_ARCHS)
    assert [b.key for b in badges] == keys
    assert all(b.label and b.explanation and "\n" not in b.explanation for b in badges)


def test_unsupported_depends_on_the_runtime_list_given():
    kepler_runtime = (35, 37, 50, 52, 60, 61, 70, 75, 80)
    assert [b.key for b in badges_for(_device((3, 7)), kepler_runtime)] == ["legacy-dmmv"]
    (badge,) = badges_for(_device((3, 7)), CUDA12_ARCHS)
    assert "3.7" in badge.explanation and "sm_50" in badge.explanation


def test_compile_arch_is_the_newest_not_above_the_device():
    assert compile_arch((6, 1), CUDA12_ARCHS) == 61
    assert compile_arch((8, 9), (50, 60, 70, 80, 86)) == 86
    assert compile_arch((3, 7), CUDA12_ARCHS) is None


def test_runtime_list_falls_back_to_cuda12_without_nvrtc(monkeypatch):
    monkeypatch.setattr(badges_module, "_nvrtc_library_candidates", lambda: [])
    monkeypatch.delitem(sys.modules, "cupy", raising=False)
    assert runtime_supported_archs() == CUDA12_ARCHS


def test_runtime_list_is_read_without_loading_cupy():
    probe = ("import sys; from engine.devices.badges import runtime_supported_archs as r; a = r(); "
             "print(min(a) >= 50, list(a) == sorted(a), 'cupy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.split() == ["True", "True", "False"]
