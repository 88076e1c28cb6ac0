"""The f16x2 bytes-to-floats step (engine/kernels/halves.cuh): its arithmetic is exact for every
byte and bias, and it is compiled in only where f16x2 arithmetic runs at full rate (not sm_61,
not below sm_53); elsewhere the exact permute-and-subtract path of common.cuh is used. The
device results themselves are checked against gguf by the GPU tests (test_matvec_gpu.py)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.kernels.sources import header_files

F16_1024 = 0x6400  # f16 bits of 1024.0; + byte in the low mantissa bits = 1024 + byte
F16_MINUS_1024 = 0xE400  # f16 bits of -1024.0; + bias = -(1024 + bias) for bias < 1024

PROBE = r"""
#include "common.cuh"
extern "C" __global__ void ql_probe_halves(unsigned v, float* out) { ql_bytes_to_f32x4_h(v, 8.0f, out); }
"""


def _f16(bits: np.ndarray) -> np.ndarray:
    return np.asarray(bits, dtype=np.uint16).view(np.float16)


def test_byte_minus_bias_is_exact_in_f16_for_every_byte_and_bias():
    byte = np.arange(256)[:, None]
    bias = np.arange(1024)[None, :]
    halves = _f16(np.broadcast_to(F16_1024 | byte, (256, 1024)))  # 1024 + byte
    offsets = _f16(np.broadcast_to(F16_MINUS_1024 + bias, (256, 1024)))  # -(1024 + bias)
    assert np.array_equal(halves.astype(np.float64), np.broadcast_to(1024.0 + byte, (256, 1024)))
    assert np.array_equal(offsets.astype(np.float64), np.broadcast_to(-(1024.0 + bias), (256, 1024)))
    result = (halves + offsets).astype(np.float32)  # one f16 add (round to nearest), then to f32
    assert np.array_equal(result, (byte - bias).astype(np.float32))


def _probe_ptx(arch: int) -> str:
    try:
        from cupy.cuda import nvrtc
    except Exception as exc:  # no NVRTC library at all
        pytest.skip(f"NVRTC not available: {exc}")
    if arch not in nvrtc.getSupportedArchs():
        pytest.skip(f"this NVRTC does not target sm_{arch}")
    headers = header_files()
    prog = nvrtc.createProgram(PROBE, "probe_halves.cu", [t.encode() for t in headers.values()],
                               [n.encode() for n in headers])
    try:
        nvrtc.compileProgram(prog, [f"-arch=compute_{arch}", "-std=c++17"])
        ptx = nvrtc.getPTX(prog)
        return ptx.decode() if isinstance(ptx, bytes) else ptx
    finally:
        nvrtc.destroyProgram(prog)


@pytest.mark.parametrize("arch, fast_f16x2", [(52, False), (53, True), (60, True), (61, False), (62, True),
                                                (70, True), (90, True)])
def test_halves_are_compiled_in_only_where_f16x2_runs_at_full_rate(arch, fast_f16x2):
    ptx = _probe_ptx(arch)
    assert "ql_probe_halves" in ptx
    assert ("add.rn.f16x2" in ptx) == fast_f16x2
