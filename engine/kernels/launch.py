"""Kernel launches with programmatic dependent launch (PDL) where the GPU has it (sm_90+).

A kernel launched with programmatic stream serialization may start while the kernel before it
in the stream is still draining: its CTAs stage their weights, then wait (``griddepcontrol.wait``
in ql_pdl_wait / ql_pdl_begin) until the earlier kernel has finished and its writes are
visible. In a captured decode graph this hides most of each kernel's start-up (launch, the
first weight loads) behind the previous kernel's tail. Every kernel of engine/kernels and
engine/backends/cuda_ops.cu waits before it touches activations or outputs, so the attribute
is safe on any of them; kernels of other code (CuPy's own) are launched the ordinary way.

CuPy has no launch with attributes, so this calls the driver's ``cuLaunchKernelEx`` through
ctypes (the structs below follow cuda.h: CUlaunchConfig, CUlaunchAttribute). Set
QUANTLAUNCH_PDL=0 to turn it off; any failure turns it off for the launcher and falls back
to CuPy's launch.
"""

from __future__ import annotations

import ctypes
import os
import sys
from typing import Any

import numpy as np

PDL_MIN_ARCH = 90
CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION = 6


class _LaunchAttributeValue(ctypes.Union):
    _fields_ = [("bytes", ctypes.c_char * 64), ("programmatic_stream_serialization_allowed", ctypes.c_int)]


class _LaunchAttribute(ctypes.Structure):
    _fields_ = [("id", ctypes.c_int), ("pad", ctypes.c_char * 4), ("value", _LaunchAttributeValue)]


class _LaunchConfig(ctypes.Structure):
    _fields_ = [("grid", ctypes.c_uint * 3), ("block", ctypes.c_uint * 3), ("shared_mem_bytes", ctypes.c_uint),
                ("stream", ctypes.c_void_p), ("attrs", ctypes.POINTER(_LaunchAttribute)),
                ("num_attrs", ctypes.c_uint)]


class _NotMarshallable(TypeError):
    """An argument this launcher cannot pass by value (CuPy's launch takes it instead)."""


def _driver_launch_ex() -> Any | None:
    """cuLaunchKernelEx from the CUDA driver library, or None (no driver, driver < 12.0)."""
    name = "nvcuda.dll" if sys.platform == "win32" else "libcuda.so.1"
    try:
        fn = ctypes.CDLL(name).cuLaunchKernelEx
    except (OSError, AttributeError):
        return None
    fn.restype = ctypes.c_int
    fn.argtypes = [ctypes.POINTER(_LaunchConfig), ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p]
    return fn


def _as_ctype(arg: Any) -> ctypes._SimpleCData:
    """One kernel argument as the C value the kernel's signature expects."""
    data = getattr(arg, "data", None)
    if hasattr(data, "ptr") and hasattr(arg, "__cuda_array_interface__"):
        return ctypes.c_void_p(data.ptr)  # a cupy array: its device pointer
    if isinstance(arg, np.int32):
        return ctypes.c_int32(int(arg))
    if isinstance(arg, np.int64):
        return ctypes.c_int64(int(arg))
    if isinstance(arg, np.float32):
        return ctypes.c_float(float(arg))
    raise _NotMarshallable(f"kernel argument of type {type(arg).__name__}")


def _dims(dims: tuple[int, ...]) -> tuple[int, int, int]:
    padded = tuple(int(d) for d in dims) + (1, 1, 1)
    return padded[0], padded[1], padded[2]


class Launcher:
    """launch(kernel, grid, block, args): a cupy.RawKernel launch on the current stream, with
    programmatic stream serialization when ``enabled`` (sm_90+, QUANTLAUNCH_PDL not 0)."""

    def __init__(self, arch: int, enabled: bool | None = None):
        if enabled is None:
            enabled = arch >= PDL_MIN_ARCH and os.environ.get("QUANTLAUNCH_PDL", "1") != "0"
        self._launch_ex = _driver_launch_ex() if enabled else None
        self.note = "on" if self._launch_ex is not None else ("off: no cuLaunchKernelEx" if enabled else "off")
        attr = _LaunchAttribute(id=CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION)
        attr.value.programmatic_stream_serialization_allowed = 1
        self._attr = attr

    @property
    def enabled(self) -> bool:
        return self._launch_ex is not None

    def __call__(self, kernel: Any, grid: tuple[int, ...], block: tuple[int, ...], args: tuple) -> None:
        if self._launch_ex is not None:
            try:
                values = [_as_ctype(a) for a in args]
            except _NotMarshallable:
                values = None
            if values is not None and self._launch_pdl(kernel, grid, block, values):
                return
        kernel(grid, block, args)

    def _launch_pdl(self, kernel: Any, grid: tuple[int, ...], block: tuple[int, ...], values: list) -> bool:
        import cupy

        config = _LaunchConfig()
        config.grid[:] = _dims(grid)
        config.block[:] = _dims(block)
        config.stream = cupy.cuda.get_current_stream().ptr
        config.attrs = ctypes.pointer(self._attr)
        config.num_attrs = 1
        params = (ctypes.c_void_p * len(values))(*[ctypes.addressof(v) for v in values])
        result = self._launch_ex(ctypes.byref(config), ctypes.c_void_p(kernel.kernel.ptr), params, None)
        if result != 0:  # e.g. a driver without the attribute: plain launches from now on
            self._launch_ex, self.note = None, f"off: cuLaunchKernelEx returned {result}"
            return False
        return True
