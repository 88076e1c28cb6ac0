"""IQ lookup tables, built at run time from the gguf package (never retyped).

Each table is a read-only NumPy array in exactly ggml's layout (``ggml-common.h``), ready
to upload to a GPU (``module.get_global(name)`` + a copy). Derivations follow
docs/ggml-quant-formats.md §2.5:

* ``iq2xxs_grid`` / ``iq2xs_grid`` / ``iq2s_grid``: u64, byte j of entry i = grid value j
  (values {8, 25, 43}), i.e. little-endian packing of the 8 uint8 grid values.
* ``iq3xxs_grid`` / ``iq3s_grid``: u32, byte j = grid value j (4 values per entry).
* ``iq1s_grid``: int8 [2048, 8] in {-1, 0, 1} (shared by IQ1_S and IQ1_M).
* ``iq1s_grid_gpu``: u32[2048]; with ``g' = g + 1`` in {0, 1, 2}, byte k (k < 4) holds
  ``g'[k]`` in its low nibble and ``g'[k+4]`` in its high nibble.
* ``ksigns_iq2xs``: u8[128], ``v | parity(v) << 7``; ``ksigns64``: u64[128], byte j = 0xFF
  where bit j of ``ksigns_iq2xs`` is set.
* ``kvalues_iq4nl`` / ``kvalues_fp4``: i8[16]; ``iq1_delta``: 0.125.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from gguf import quants as gguf_quants


@dataclass(frozen=True)
class LookupTables:
    iq2xxs_grid: np.ndarray  # uint64 (256,)
    iq2xs_grid: np.ndarray  # uint64 (512,)
    iq2s_grid: np.ndarray  # uint64 (1024,)
    iq3xxs_grid: np.ndarray  # uint32 (256,)
    iq3s_grid: np.ndarray  # uint32 (512,)
    iq1s_grid: np.ndarray  # int8 (2048, 8), values in {-1, 0, 1}
    iq1s_grid_gpu: np.ndarray  # uint32 (2048,), packed {0,1,2} nibbles
    ksigns_iq2xs: np.ndarray  # uint8 (128,)
    ksigns64: np.ndarray  # uint64 (128,)
    kvalues_iq4nl: np.ndarray  # int8 (16,)
    kvalues_fp4: np.ndarray  # int8 (16,)
    iq1_delta: float  # 0.125 (IQ1S_DELTA == IQ1M_DELTA)

    def as_dict(self) -> dict[str, np.ndarray]:
        """The array tables by their ggml name (what a kernel module's globals are called)."""
        return {name: value for name, value in vars(self).items() if isinstance(value, np.ndarray)}


def _float_grid(quant_class: type, rows: int, cols: int) -> np.ndarray:
    """gguf's decoded grid for one IQ class as float32 (rows, cols)."""
    quant_class.init_grid()
    grid = np.asarray(quant_class.grid, dtype=np.float32)  # (1, 1, rows, cols)
    if grid.size != rows * cols:
        raise ValueError(f"{quant_class.__name__}: gguf grid has {grid.size} values, expected {rows * cols}")
    return grid.reshape(rows, cols)  # (rows, cols)


def _pack_bytes(values: np.ndarray, dtype: type) -> np.ndarray:
    """Pack (rows, n) values in 0..255 into one little-endian integer per row (byte j = column j)."""
    as_bytes = np.ascontiguousarray(values.astype(np.uint8))  # (rows, n) uint8
    return as_bytes.view(np.dtype(dtype).newbyteorder("<")).reshape(-1).astype(dtype)  # (rows,)


def _pack_iq1s_gpu(grid: np.ndarray) -> np.ndarray:
    """(2048, 8) int8 in {-1,0,1} -> u32[2048]: byte k = (g[k]+1) | (g[k+4]+1) << 4."""
    shifted = (grid.astype(np.int16) + 1).astype(np.uint8)  # (2048, 8) in {0,1,2}
    packed_bytes = shifted[:, 0:4] | (shifted[:, 4:8] << 4)  # (2048, 4): low nibble k, high nibble k+4
    return _pack_bytes(packed_bytes, np.uint32)  # (2048,)


def _ksigns64(ksigns: np.ndarray) -> np.ndarray:
    """u8[128] sign masks -> u64[128] with byte j = 0xFF where bit j is set."""
    bits = (ksigns[:, None] >> np.arange(8, dtype=np.uint8)[None, :]) & 1  # (128, 8) in {0,1}
    return _pack_bytes(bits * 0xFF, np.uint64)  # (128,)


def _readonly(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array)
    array.flags.writeable = False
    return array


@functools.lru_cache(maxsize=1)
def lookup_tables() -> LookupTables:
    """All IQ lookup tables, derived from gguf once per process and returned read-only."""
    ksigns = np.frombuffer(gguf_quants.IQ2_XXS.ksigns, dtype=np.uint8).copy()  # (128,)
    iq1s_grid = _float_grid(gguf_quants.IQ1_S, 2048, 8).astype(np.int8)  # (2048, 8)
    tables = LookupTables(
        iq2xxs_grid=_pack_bytes(_float_grid(gguf_quants.IQ2_XXS, 256, 8), np.uint64),
        iq2xs_grid=_pack_bytes(_float_grid(gguf_quants.IQ2_XS, 512, 8), np.uint64),
        iq2s_grid=_pack_bytes(_float_grid(gguf_quants.IQ2_S, 1024, 8), np.uint64),
        iq3xxs_grid=_pack_bytes(_float_grid(gguf_quants.IQ3_XXS, 256, 4), np.uint32),
        iq3s_grid=_pack_bytes(_float_grid(gguf_quants.IQ3_S, 512, 4), np.uint32),
        iq1s_grid=iq1s_grid,
        iq1s_grid_gpu=_pack_iq1s_gpu(iq1s_grid),
        ksigns_iq2xs=ksigns,
        ksigns64=_ksigns64(ksigns),
        kvalues_iq4nl=np.array(gguf_quants.IQ4_NL.kvalues, dtype=np.int8),  # (16,)
        kvalues_fp4=np.array(gguf_quants.MXFP4.kvalues, dtype=np.int8),  # (16,)
        iq1_delta=float(gguf_quants.IQ1_S.delta),
    )
    return LookupTables(**{k: _readonly(v) if isinstance(v, np.ndarray) else v for k, v in vars(tables).items()})


def grid_bytes(packed: np.ndarray, values_per_entry: int) -> np.ndarray:
    """Unpack a u64/u32 grid back to (entries, values_per_entry) uint8 (byte j = value j)."""
    little = packed.astype(packed.dtype.newbyteorder("<"))  # (entries,) little-endian
    return little.view(np.uint8).reshape(-1, values_per_entry)  # (entries, values_per_entry)
