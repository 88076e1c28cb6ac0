"""Fill the lookup tables of tables.cuh in a compiled kernel module.

The arrays come from :func:`engine.quant.grids.lookup_tables` (derived from gguf, never
retyped). :func:`device_table_arrays` gives the exact bytes each ``tables.cuh`` global must
hold (pure NumPy: the host harness uses it too); :func:`upload_tables` copies them into a
``cupy.RawModule`` through ``get_global(name)``. One table has a layout of our own:
``iq1s_grid_nib`` (nibble k = IQ1 grid value k + 1), which lets ``__byte_perm`` turn a grid
entry into exact int8 weights, and the IQ2 selector grids ``iq2*_sel`` (a 2-bit code per grid
value, one u32 per entry instead of ggml's u64) with their three values ``iq2_values``.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import numpy as np

from engine.quant.grids import grid_bytes, lookup_tables

# tables.cuh global -> (dtype, element count) as declared there
DEVICE_TABLES = MappingProxyType(
    {
        "iq2xxs_sel": (np.uint32, 256),
        "iq2xs_sel": (np.uint32, 512),
        "iq2s_sel": (np.uint32, 1024),
        "iq2_values": (np.uint32, 2),
        "iq3xxs_grid": (np.uint32, 256),
        "iq3s_grid": (np.uint32, 512),
        "iq1s_grid_nib": (np.uint32, 2048),
        "kvalues_iq4nl_biased": (np.uint32, 4),
        "kvalues_fp4_biased": (np.uint32, 4),
        "kvalues_iq4nl_dot": (np.uint32, 4),
        "kvalues_fp4_dot": (np.uint32, 4),
    }
)


class TableUploadError(RuntimeError):
    """A tables.cuh global is missing from a module or has an unexpected size."""


def _pack_nibbles(values: np.ndarray) -> np.ndarray:
    """(entries, 8) values in 0..15 -> u32 (entries,) with nibble k (bits 4k..4k+3) = column k."""
    shifts = (4 * np.arange(8, dtype=np.uint32))[None, :]  # (1, 8): bit position of nibble k
    return np.bitwise_or.reduce(values.astype(np.uint32) << shifts, axis=1).astype(np.uint32)  # (entries,)


def pack_iq1s_nibbles(grid: np.ndarray) -> np.ndarray:
    """(2048, 8) int8 in {-1, 0, 1} -> u32[2048] with nibble k (bits 4k..4k+3) = grid[:, k] + 1."""
    return _pack_nibbles(grid.astype(np.int32) + 1)  # (2048,), nibbles in {0, 1, 2}


# Nibble n of an IQ2 selector word holds grid value IQ2_NIBBLE_VALUE[n] of its entry: values
# 0..3 in the even nibbles, 4..7 in the odd ones, so that a carry-free multiply can put sign
# bit j next to value j (iq_common.cuh: iq2_sign_nibbles).
IQ2_NIBBLE_VALUE = (0, 4, 1, 5, 2, 6, 3, 7)


def iq2_grid_values(grid: np.ndarray) -> np.ndarray:
    """The distinct values of an IQ2 grid (u64 entries, byte j = value j): exactly three."""
    values = np.unique(grid_bytes(grid, 8))  # sorted distinct bytes
    if values.size != 3 or values.min() < 1 or values.max() > 127:
        raise ValueError(f"IQ2 grid values {values.tolist()}: expected three values in 1..127")
    return values  # (3,) uint8


def pack_iq2_selectors(grid: np.ndarray) -> np.ndarray:
    """u64 IQ2 grid (byte j = value j) -> u32 selectors: nibble n = index in iq2_grid_values of
    value IQ2_NIBBLE_VALUE[n] (0, 1 or 2; bit 2 stays free for the sign)."""
    codes = np.searchsorted(iq2_grid_values(grid), grid_bytes(grid, 8))  # (entries, 8) code of value j, 0..2
    return _pack_nibbles(codes[:, list(IQ2_NIBBLE_VALUE)])  # (entries,)


def iq2_value_words(grid: np.ndarray) -> np.ndarray:
    """The permute pool of the IQ2 selectors: word 0 = the three values (bytes 0..2), word 1 =
    their negations, so selector nibble code + 4 * sign picks the signed int8 weight."""
    values = iq2_grid_values(grid).astype(np.int8)  # (3,)
    pool = np.zeros(8, dtype=np.int8)  # (8,) bytes of the two words
    pool[0:3], pool[4:7] = values, -values
    return pool.view("<u4").astype(np.uint32)  # (2,)


def _sign_fill(values: np.ndarray) -> np.ndarray:
    """What a permute with the sign-replicate bit makes of int8 entries: -1 if negative, else 0."""
    return np.where(values < 0, -1, 0)


def split_kv16_for_dot(kvalues: np.ndarray) -> np.ndarray:
    """A 16-entry int8 table stored for ql_kv16_dot32_ordered: entry i (< 8) of the low half
    and entry 8 + i of the high half are corrected by 0 or +1 so that, for every nibble n, the
    low half's byte for n plus the high half's byte for n ^ 8 equals kvalues[n]. Of the two
    bytes one is an entry and the other the sign fill (0 or -1) of its partner entry, so
    low[i] + fill(high[i]) = kv[i] and fill(low[i]) + high[i] = kv[8 + i] are solved per i."""
    kv = np.asarray(kvalues, dtype=np.int64)  # (16,)
    low, high = kv[:8].copy(), kv[8:].copy()  # (8,) stored entries, refined below
    for _ in range(3):  # a fixed point: the fills depend on the signs of the corrected entries
        high = kv[8:] - _sign_fill(low)
        low = kv[:8] - _sign_fill(high)
    if np.any(low + _sign_fill(high) != kv[:8]) or np.any(_sign_fill(low) + high != kv[8:]):
        raise ValueError(f"16-entry table {kv.tolist()} cannot be split for the dot kernels")
    stored = np.concatenate([low, high])  # (16,)
    if stored.min() < -128 or stored.max() > 127:
        raise ValueError(f"16-entry table {kv.tolist()} leaves int8 when split for the dot kernels")
    return stored.astype(np.int8)


# The dequant tables of ql_kv16_dequant8<BIAS> (tables.cuh): entry + BIAS as unsigned bytes.
# BIAS 64 needs entries in -64..63 (bytes below 128: the cheaper 7-bit lookup); 128 takes any int8.
KV16_BIAS = MappingProxyType({"kvalues_iq4nl_biased": 128, "kvalues_fp4_biased": 64})


def biased_kv16(kv: np.ndarray, bias: int) -> np.ndarray:
    """16 int8 -> 16 bytes entry + bias (unsigned; below 128 when bias is 64)."""
    biased = kv.astype(np.int16) + bias  # (16,)
    if biased.min() < 0 or biased.max() > (127 if bias == 64 else 255):
        raise ValueError(f"16-entry table {kv.tolist()} does not fit bytes biased by {bias}")
    return biased.astype(np.uint8)


def _as_words(values: np.ndarray) -> np.ndarray:
    """16 bytes (int8 or uint8) -> 4 little-endian u32 (byte n of the 16 = entry n)."""
    as_bytes = values if values.dtype in (np.int8, np.uint8) else values.astype(np.int8)  # (16,)
    return np.ascontiguousarray(as_bytes).view("<u4").astype(np.uint32)  # (4,)


def device_table_arrays() -> dict[str, np.ndarray]:
    """Each tables.cuh global's content, C-contiguous, in the dtype and length declared there."""
    tables = lookup_tables()
    iq2_grids = (tables.iq2xxs_grid, tables.iq2xs_grid, tables.iq2s_grid)
    if len({iq2_grid_values(grid).tobytes() for grid in iq2_grids}) != 1:
        raise ValueError("the IQ2 grids do not share one set of three values (iq2_values is shared)")
    arrays = {
        "iq2xxs_sel": pack_iq2_selectors(tables.iq2xxs_grid),
        "iq2xs_sel": pack_iq2_selectors(tables.iq2xs_grid),
        "iq2s_sel": pack_iq2_selectors(tables.iq2s_grid),
        "iq2_values": iq2_value_words(tables.iq2xxs_grid),
        "iq3xxs_grid": tables.iq3xxs_grid,
        "iq3s_grid": tables.iq3s_grid,
        "iq1s_grid_nib": pack_iq1s_nibbles(tables.iq1s_grid),
        "kvalues_iq4nl_biased": _as_words(biased_kv16(tables.kvalues_iq4nl, KV16_BIAS["kvalues_iq4nl_biased"])),
        "kvalues_fp4_biased": _as_words(biased_kv16(tables.kvalues_fp4, KV16_BIAS["kvalues_fp4_biased"])),
        "kvalues_iq4nl_dot": _as_words(split_kv16_for_dot(tables.kvalues_iq4nl)),
        "kvalues_fp4_dot": _as_words(split_kv16_for_dot(tables.kvalues_fp4)),
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
