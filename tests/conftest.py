"""Shared test set-up: GPU tests skip cleanly where no CUDA device is usable."""

from __future__ import annotations

import functools
import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@functools.lru_cache(maxsize=1)
def cuda_device_reason() -> str | None:
    """None when a CUDA device is usable, else why not (never raises)."""
    try:
        import cupy

        if cupy.cuda.runtime.getDeviceCount() < 1:
            return "no CUDA device"
        return None
    except Exception as exc:  # no driver, no library, no device
        return f"no usable CUDA device ({type(exc).__name__}: {str(exc)[:80]})"


def pytest_collection_modifyitems(config, items):
    gpu_items = [item for item in items if "gpu" in item.keywords]
    if not gpu_items:
        return
    reason = cuda_device_reason()
    if reason is None:
        return
    skip = pytest.mark.skip(reason=reason)
    for item in gpu_items:
        item.add_marker(skip)
