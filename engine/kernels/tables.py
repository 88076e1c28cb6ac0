"""Fill the lookup tables of tables.cuh in a compiled kernel module.

The arrays come from :func:`engine.quant.grids.lookup_tables` (derived from gguf, never
retyped). :func:`device_table_arrays` gives the exact bytes each ``tables.cuh`` global must
hold (pure NumPy: the host harness uses it too); :func:`upload_tables` copies them into a
``cupy.RawModule`` through ``get_global(name)``. One table has a layout of our own:
``iq1s_grid_nib`` (nibble k = IQ1 grid value k + 1), which lets ``__byte_perm`` turn a grid
entry into exact int8 weights.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import numpy as np

from engine.quant.grids import lookup_tables

# tables.cuh global -> (dtype, element count) as declared there
DEVICE_TABLES = MappingProxyType(
    {
        "iq2xxs_grid": (np.uint64, 256),
        "iq2xs_grid": (np.uint64, 512),
        "iq2s_grid": (np.uint64, 1024),
        "iq3xxs_grid": (np.uint32, 256),
        "iq3s_grid": (np.uint32, 512),
        "iq1s_grid_nib": (np.uint32, 2048),
        "kvalues_iq4nl": (np.uint32, 4),
        "kvalues_fp4": (np.uint32, 4),
    }
)


class TableUploadError(RuntimeError):
    """A tables.cuh global is missing from a module or has an unexpected size."""


def pack_iq1s_nibbles(grid: np.ndarray) -> np.ndarray:
    """(2048, 8) int8 in {-1, 0, 1} -> u32[2048] with nibble k (bits 4k..4k+3) = grid[:, k] + 1."""
    shifted = (grid.astype(np.int32) + 1).astype(np.uint32)  # (2048, 8) in {0, 1, 2}
    shifts = (4 * np.arange(8, dtype=np.uint32))[None, :]  # (1, 8): nibble position of value k
    return np.bitwise_or.reduce(shifted << shifts, axis=1).astype(np.uint32)  # (2048,)


def _as_words(values: np.ndarray) -> np.ndarray:
    """16 int8 -> 4 little-endian u32 (byte n of the 16 = entry n)."""
    return np.ascontiguousarray(values.astype(np.int8)).view("<u4").astype(np.uint32)  # (4,)


def device_table_arrays() -> dict[str, np.ndarray]:
    """Each tables.cuh global's content, C-contiguous, in the dtype and length declared there."""
    tables = lookup_tables()
    arrays = {
        "iq2xxs_grid": tables.iq2xxs_grid,
        "iq2xs_grid": tables.iq2xs_grid,
        "iq2s_grid": tables.iq2s_grid,
        "iq3xxs_grid": tables.iq3xxs_grid,
        "iq3s_grid": tables.iq3s_grid,
        "iq1s_grid_nib": pack_iq1s_nibbles(tables.iq1s_grid),
        "kvalues_iq4nl": _as_words(tables.kvalues_iq4nl),
        "kvalues_fp4": _as_words(tables.kvalues_fp4),
    }
    checked: dict[str, np.ndarray] = {}
    for name, (dtype, count) in DEVICE_TABLES.items():
        array = np.ascontiguousarray(arrays[name], dtype=dtype)
        if array.shape != (count,):
            raise TableUploadError(f"table {name}: built {array.shape}, tables.cuh declares ({count},)")
        checked[name] = array
    return checked


def upload_tables(raw_module: Any) -> None:
    """Copy every table into ``raw_module`` (a compiled ``cupy.RawModule`` including tables.cuh)."""
    for name, host in device_table_arrays().items():
        try:
            pointer = raw_module.get_global(name)
        except Exception as error:  # cupy raises CUDADriverError for an unknown symbol
            raise TableUploadError(f"kernel module has no global {name!r} (tables.cuh not included?)") from error
        device_bytes = getattr(getattr(pointer, "mem", None), "size", host.nbytes)
        if device_bytes and device_bytes != host.nbytes:  # cupy may report 0 (size unknown)
            raise TableUploadError(f"table {name}: module global has {device_bytes} bytes, expected {host.nbytes}")
        pointer.copy_from_host(host.ctypes.data, host.nbytes)
