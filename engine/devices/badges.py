"""Capability badges: what a device can do, derived from its compute capability and the
architectures the installed CUDA runtime (NVRTC) can still target.

The supported-architecture list is an input (``supported_archs``), never a global; the
real one comes from :func:`runtime_supported_archs`, asked lazily (it needs no driver).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path

from engine.devices.inventory import Device

# What NVRTC of CUDA 12.x targets (cupy's getSupportedArchs() on CUDA 12.4); used when
# cupy is not installed. Kepler (3.x) was dropped in CUDA 12: minimum sm_50.
CUDA12_ARCHS: tuple[int, ...] = (50, 52, 53, 60, 61, 62, 70, 72, 75, 80, 86, 87, 89, 90)

DP4A_MIN_CC = (6, 1)  # native __dp4a


@dataclass(frozen=True)
class Badge:
    key: str  # stable: "dp4a", "fast-fp16", "tensor-int8", "tensor-fp16", "tensor-bf16", "legacy-dmmv", "unsupported"
    label: str  # short text for the UI
    explanation: str  # one line for a person


def _nvrtc_library_candidates() -> list[str]:
    """libnvrtc from the nvidia-cuda-nvrtc wheel first, then the system's."""
    names: list[str] = []
    try:
        spec = importlib.util.find_spec("nvidia.cuda_nvrtc")
    except (ImportError, ValueError):
        spec = None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        for sub in ("lib", "bin"):
            names.extend(sorted(str(p) for p in Path(folder, sub).glob("*nvrtc*") if "builtins" not in p.name))
    system = ctypes.util.find_library("nvrtc")
    return names + ([system] if system else [])


def nvrtc_supported_archs() -> tuple[int, ...]:
    """Ask libnvrtc itself through ctypes (no cupy, no driver needed); () when it is absent."""
    for candidate in _nvrtc_library_candidates():
        try:
            lib = ctypes.CDLL(candidate)
            count = ctypes.c_int(0)
            if lib.nvrtcGetNumSupportedArchs(ctypes.byref(count)) != 0 or count.value <= 0:
                continue
            archs = (ctypes.c_int * count.value)()  # (count,) int32
            if lib.nvrtcGetSupportedArchs(archs) == 0:
                return tuple(sorted(int(a) for a in archs))
        except (OSError, AttributeError):
            continue
    return ()


def runtime_supported_archs() -> tuple[int, ...]:
    """Architectures the installed NVRTC can compile for, e.g. (50, 52, ..., 90).

    When cupy is already loaded (the engine), asks cupy's NVRTC, the one the kernels use;
    otherwise asks libnvrtc through ctypes (the launcher never loads cupy). Both work
    without a driver. Falls back to :data:`CUDA12_ARCHS`.
    """
    if "cupy" in sys.modules:
        try:
            from cupy_backends.cuda.libs import nvrtc

            archs = tuple(sorted(int(a) for a in nvrtc.getSupportedArchs()))
            if archs:
                return archs
        except Exception:  # fall through to the library itself
            pass
    return nvrtc_supported_archs() or CUDA12_ARCHS


def is_runtime_supported(compute_capability: tuple[int, int], supported_archs: tuple[int, ...]) -> bool:
    """True when the runtime can build code the device runs.

    Newer devices than the newest listed arch still run its PTX (JIT), so only devices
    below the oldest listed arch are unsupported.
    """
    cc_number = compute_capability[0] * 10 + compute_capability[1]
    return bool(supported_archs) and cc_number >= min(supported_archs)


def compile_arch(compute_capability: tuple[int, int], supported_archs: tuple[int, ...]) -> int | None:
    """The arch to compile for: the newest supported one not above the device, or None."""
    cc_number = compute_capability[0] * 10 + compute_capability[1]
    candidates = [a for a in supported_archs if a <= cc_number]
    return max(candidates) if candidates else None


def has_native_dp4a(compute_capability: tuple[int, int]) -> bool:
    return compute_capability >= DP4A_MIN_CC


def _capability_badges(cc: tuple[int, int]) -> list[Badge]:
    badges = []
    if has_native_dp4a(cc):
        badges.append(Badge("dp4a", "dp4a", "Native 4-way int8 dot product (cc ≥ 6.1): the fast quantized path (mmvq)."))
    if cc >= (6, 0) and cc != (6, 1):
        badges.append(Badge("fast-fp16", "fast fp16", "Full-rate half-precision arithmetic (cc ≥ 6.0, except 6.1)."))
    if cc >= (7, 0):
        badges.append(Badge("tensor-fp16", "fp16 tensor cores", "Tensor cores for fp16 matrix multiply (cc ≥ 7.0)."))
    if cc >= (7, 2):
        badges.append(Badge("tensor-int8", "int8 tensor cores", "Tensor cores for int8 matrix multiply (cc ≥ 7.2)."))
    if cc >= (8, 0):
        badges.append(Badge("tensor-bf16", "bf16 tensor cores", "Tensor cores for bfloat16 (cc ≥ 8.0)."))
    return badges


def badges_for(device: Device, supported_archs: tuple[int, ...]) -> tuple[Badge, ...]:
    """Every badge that applies to ``device``, in a stable order."""
    cc = device.compute_capability
    if not is_runtime_supported(cc, supported_archs):
        oldest = min(supported_archs) if supported_archs else 0
        return (
            Badge(
                "unsupported",
                "not supported by this CUDA runtime",
                f"Compute capability {device.cc_text} is older than the oldest architecture this CUDA runtime "
                f"can build for (sm_{oldest}); the device cannot be used.",
            ),
        )
    badges = _capability_badges(cc)
    if not has_native_dp4a(cc):
        badges.append(
            Badge(
                "legacy-dmmv",
                "legacy: dmmv by default",
                f"No native dp4a (cc {device.cc_text} < 6.1): quantized mat-vec uses dmmv (float) by default; "
                "every quant type is still supported.",
            )
        )
    return tuple(badges)
