"""Compile the device functions of one type family with a host C++ compiler (g++) and call
them through ctypes: the CPU check of every type's dequant and vec_dot (no GPU needed).

common.cuh makes QL_DEV ``static inline`` and supplies host versions of the intrinsics, so
the type headers compile unchanged. Per type the generated source exports
``ql_host_dequant_<T>(const u8* blk, int g, float* out)`` and
``ql_host_vec_dot_<T>(const u8* blk, int c, const int* q, float d, float s)``, plus
``ql_host_dot_f32_<T>(const u8* tab, const u8* blk, int c, const float* x)`` (ql_dot_f32<T>: the
type's whole-chunk dot_f32 when it has one, else the dequant fallback) and
``ql_host_has_dot_f32_<T>()``, ``ql_host_dequant_split_<T>(tab, blk, g, out)`` (ql_dequant_split<T>: the
group unscaled and its scale, the 1-column dmmv's form), ``ql_host_dequant_offset_<T>(blk, g)`` and
``ql_host_has_dequant_raw_<T>()``.
Tables of tables.cuh are plain arrays on the host; :func:`fill_host_tables` fills them.
"""

from __future__ import annotations

import ctypes
import hashlib
import shutil
import subprocess
from pathlib import Path

import numpy as np

from engine.kernels.sources import FAMILIES_WITH_TABLES, FAMILY_HEADERS, KERNEL_DIR, family_types, header_path


class HostHarnessUnavailable(RuntimeError):
    """No host compiler, or the family's header does not exist (yet)."""


def host_compiler() -> str | None:
    return shutil.which("g++") or shutil.which("clang++")


def harness_source(family: str) -> str:
    lines = [f'#include "{FAMILY_HEADERS[family]}"']
    for qt in family_types(family):
        name = qt.name
        lines.append(
            f'extern "C" void ql_host_dequant_{name}(const u8* blk, int g, float* out) '
            f"{{ {name}::dequant(blk, g, out); }}"
        )
        lines.append(
            f'extern "C" void ql_host_dequant_tab_{name}(const u8* tab, const u8* blk, int g, float* out) '
            f"{{ ql_dequant<{name}>(tab, blk, g, out); }}"
        )
        lines.append(f'extern "C" int ql_host_table_bytes_{name}() {{ return QlTables<{name}>::BYTES; }}')
        lines.append(
            f'extern "C" float ql_host_dot_f32_{name}(const u8* tab, const u8* blk, int c, const float* x) '
            f"{{ return ql_dot_f32<{name}>(tab, blk, c, x); }}"
        )
        lines.append(f'extern "C" int ql_host_has_dot_f32_{name}() {{ return QlDotF32<{name}>::HAS ? 1 : 0; }}')
        lines.append(
            f'extern "C" float ql_host_dequant_split_{name}(const u8* tab, const u8* blk, int g, float* out) '
            f"{{ return ql_dequant_split<{name}>(tab, blk, g, out); }}"
        )
        lines.append(f'extern "C" int ql_host_has_dequant_raw_{name}() {{ return QlDequantRaw<{name}>::HAS ? 1 : 0; }}')
        lines.append(
            f'extern "C" float ql_host_dequant_offset_{name}(const u8* blk, int g) '
            f"{{ return ql_dequant_offset<{name}>(blk, g); }}"
        )
        if not qt.is_float:
            lines.append(
                f'extern "C" float ql_host_vec_dot_{name}(const u8* blk, int c, const int* q, float d, float s) '
                f"{{ int qo[QlOrderQAt<{name}>::WORDS]; ql_order_q_at<{name}>(q, blk, qo); return {name}::vec_dot(blk, c, qo, d, s); }}"
            )
            lines.append(
                f'extern "C" float ql_host_vec_dot_tab_{name}(const u8* tab, const u8* blk, int c, const int* q, '
                f"float d, float s) {{ int qo[QlOrderQAt<{name}>::WORDS]; ql_order_q_at<{name}>(q, blk, qo); "
                f"return ql_vec_dot<{name}>(tab, blk, c, qo, d, s); }}"
            )
    return "\n".join(lines) + "\n"


def build_host_library(family: str, work_dir: Path) -> ctypes.CDLL:
    """Compile (or reuse) the family's harness in ``work_dir`` and load it."""
    compiler = host_compiler()
    if compiler is None:
        raise HostHarnessUnavailable("no host C++ compiler (g++ or clang++) on PATH")
    if not header_path(family).is_file():
        raise HostHarnessUnavailable(f"{FAMILY_HEADERS[family]} does not exist yet")
    source = harness_source(family)
    digest = hashlib.sha256(source.encode())
    for path in sorted(KERNEL_DIR.glob("*.cuh")):
        digest.update(path.read_bytes())
    work_dir.mkdir(parents=True, exist_ok=True)
    library = work_dir / f"ql_host_{family}_{digest.hexdigest()[:16]}.so"
    if not library.is_file():
        source_path = work_dir / f"ql_host_{family}.cpp"
        source_path.write_text(source)
        command = [compiler, "-x", "c++", "-std=c++17", "-O2", "-shared", "-fPIC", f"-I{KERNEL_DIR}",
                   "-o", str(library), str(source_path)]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"host harness for {family} did not compile:\n{result.stderr[-4000:]}")
    lib = ctypes.CDLL(str(library))
    _declare(lib, family)
    if family in FAMILIES_WITH_TABLES:
        fill_host_tables(lib)
    return lib


def _declare(lib: ctypes.CDLL, family: str) -> None:
    u8p, fp, ip = ctypes.c_void_p, ctypes.POINTER(ctypes.c_float), ctypes.POINTER(ctypes.c_int)
    for qt in family_types(family):
        dequant = getattr(lib, f"ql_host_dequant_{qt.name}")
        dequant.argtypes, dequant.restype = [u8p, ctypes.c_int, fp], None
        dequant_tab = getattr(lib, f"ql_host_dequant_tab_{qt.name}")
        dequant_tab.argtypes, dequant_tab.restype = [u8p, u8p, ctypes.c_int, fp], None
        table_bytes = getattr(lib, f"ql_host_table_bytes_{qt.name}")
        table_bytes.argtypes, table_bytes.restype = [], ctypes.c_int
        dot_f32 = getattr(lib, f"ql_host_dot_f32_{qt.name}")
        dot_f32.argtypes, dot_f32.restype = [u8p, u8p, ctypes.c_int, fp], ctypes.c_float
        has_dot_f32 = getattr(lib, f"ql_host_has_dot_f32_{qt.name}")
        has_dot_f32.argtypes, has_dot_f32.restype = [], ctypes.c_int
        split = getattr(lib, f"ql_host_dequant_split_{qt.name}")
        split.argtypes, split.restype = [u8p, u8p, ctypes.c_int, fp], ctypes.c_float
        has_raw = getattr(lib, f"ql_host_has_dequant_raw_{qt.name}")
        has_raw.argtypes, has_raw.restype = [], ctypes.c_int
        offset = getattr(lib, f"ql_host_dequant_offset_{qt.name}")
        offset.argtypes, offset.restype = [u8p, ctypes.c_int], ctypes.c_float
        if not qt.is_float:
            vec_dot = getattr(lib, f"ql_host_vec_dot_{qt.name}")
            vec_dot.argtypes = [u8p, ctypes.c_int, ip, ctypes.c_float, ctypes.c_float]
            vec_dot.restype = ctypes.c_float
            vec_dot_tab = getattr(lib, f"ql_host_vec_dot_tab_{qt.name}")
            vec_dot_tab.argtypes = [u8p, u8p, ctypes.c_int, ip, ctypes.c_float, ctypes.c_float]
            vec_dot_tab.restype = ctypes.c_float


def fill_host_tables(lib: ctypes.CDLL) -> None:
    """Copy engine.kernels.tables.device_table_arrays() into the library's table arrays."""
    from engine.kernels.tables import device_table_arrays

    for name, array in device_table_arrays().items():
        target = (ctypes.c_ubyte * array.nbytes).in_dll(lib, name)
        ctypes.memmove(target, array.ctypes.data, array.nbytes)


def host_dequant_block(lib: ctypes.CDLL, type_name: str, block: np.ndarray, block_elems: int) -> np.ndarray:
    """One block (uint8, block bytes) -> float32 (block_elems,) through the device function."""
    block = np.ascontiguousarray(block, dtype=np.uint8)
    out = np.empty(block_elems, dtype=np.float32)  # (QK,)
    fn = getattr(lib, f"ql_host_dequant_{type_name}")
    for g in range(block_elems // 8):
        fn(block.ctypes.data, g, out[8 * g :].ctypes.data_as(ctypes.POINTER(ctypes.c_float)))  # out[8g:8g+8]
    return out


def host_vec_dot(lib: ctypes.CDLL, type_name: str, block: np.ndarray, c: int, q: np.ndarray, d: float,
                 s: float, offset: int = 0) -> float:
    """vec_dot of chunk c of one block with one q8_1 block (q: int8 (32,)). The block sits at
    byte ``offset`` (mod 16) of a buffer padded by 16 bytes on both sides, as in a mat-vec tile
    (blocks of an even size that is not a multiple of 4 alternate between offsets 0 and 2)."""
    raw = np.ascontiguousarray(block, dtype=np.uint8).reshape(-1)
    padded = np.zeros(32 + offset + raw.size + 16, np.uint8)  # 16-B aligned start (numpy) + padding
    start = 16 + offset - (padded.ctypes.data % 16)
    padded[start : start + raw.size] = raw  # (block_bytes,) at address = offset (mod 16)
    q_words = np.ascontiguousarray(q, dtype=np.int8).view(np.int32)  # (8,): q[4i..4i+3] in word i
    fn = getattr(lib, f"ql_host_vec_dot_{type_name}")
    return float(fn(padded.ctypes.data + start, c, q_words.ctypes.data_as(ctypes.POINTER(ctypes.c_int)), d, s))


def host_table_bytes(lib: ctypes.CDLL, type_name: str) -> int:
    """SMEM_TABLE_BYTES of the type (0: no table staged in shared memory)."""
    return int(getattr(lib, f"ql_host_table_bytes_{type_name}")())


def host_dequant_block_tab(lib: ctypes.CDLL, type_name: str, table: np.ndarray, block: np.ndarray,
                           block_elems: int) -> np.ndarray:
    """Like host_dequant_block, through ql_dequant<T> reading the table at ``table`` (uint8 bytes)."""
    table = np.ascontiguousarray(table, dtype=np.uint8)  # (SMEM_TABLE_BYTES,) the staged copy
    block = np.ascontiguousarray(block, dtype=np.uint8)
    out = np.empty(block_elems, dtype=np.float32)  # (QK,)
    fn = getattr(lib, f"ql_host_dequant_tab_{type_name}")
    for g in range(block_elems // 8):
        fn(table.ctypes.data, block.ctypes.data, g,
           out[8 * g :].ctypes.data_as(ctypes.POINTER(ctypes.c_float)))  # out[8g:8g+8]
    return out


def host_vec_dot_tab(lib: ctypes.CDLL, type_name: str, table: np.ndarray, block: np.ndarray, c: int,
                     q: np.ndarray, d: float, s: float) -> float:
    """Like host_vec_dot, through ql_vec_dot<T> reading the table at ``table`` (uint8 bytes)."""
    table = np.ascontiguousarray(table, dtype=np.uint8)  # (SMEM_TABLE_BYTES,) the staged copy
    block = np.ascontiguousarray(block, dtype=np.uint8)
    q_words = np.ascontiguousarray(q, dtype=np.int8).view(np.int32)  # (8,): q[4i..4i+3] in word i
    fn = getattr(lib, f"ql_host_vec_dot_tab_{type_name}")
    return float(fn(table.ctypes.data, block.ctypes.data, c,
                    q_words.ctypes.data_as(ctypes.POINTER(ctypes.c_int)), d, s))


def host_has_dequant_raw(lib: ctypes.CDLL, type_name: str) -> bool:
    """Whether the type declares dequant_raw (QlDequantRaw<T>::HAS: the 1-column dmmv scales once per group)."""
    return bool(getattr(lib, f"ql_host_has_dequant_raw_{type_name}")())


def host_dequant_split(lib: ctypes.CDLL, type_name: str, block: np.ndarray, g: int,
                       table: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """ql_dequant_split<T> of group g of one block: (8 float32 values, scale); values x scale is
    the group as dequant gives it (the scale is 1 for a type without dequant_raw)."""
    block = np.ascontiguousarray(block, dtype=np.uint8)
    table_ptr = None if table is None else np.ascontiguousarray(table, dtype=np.uint8).ctypes.data
    out = np.empty(8, dtype=np.float32)  # (8,) elements 8g..8g+8
    fn = getattr(lib, f"ql_host_dequant_split_{type_name}")
    scale = fn(table_ptr, block.ctypes.data, g, out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)))
    return out, float(scale)


def host_dequant_offset(lib: ctypes.CDLL, type_name: str, block: np.ndarray, g: int) -> float:
    """ql_dequant_offset<T> of group g of one block: the offset of scale * value + offset (0 for
    a type without dequant_offset)."""
    block = np.ascontiguousarray(block, dtype=np.uint8)
    return float(getattr(lib, f"ql_host_dequant_offset_{type_name}")(block.ctypes.data, g))


def host_has_dot_f32(lib: ctypes.CDLL, type_name: str) -> bool:
    """Whether the type declares the whole-chunk dmmv fast path dot_f32 (QlDotF32<T>::HAS)."""
    return bool(getattr(lib, f"ql_host_has_dot_f32_{type_name}")())


def host_dot_f32(lib: ctypes.CDLL, type_name: str, block: np.ndarray, c: int, x: np.ndarray,
                 table: np.ndarray | None = None) -> float:
    """ql_dot_f32<T> of chunk c of one block with 32 floats x (the dmmv per-chunk dot); table:
    the staged table bytes for a type with SMEM_TABLE_BYTES (None: no table)."""
    block = np.ascontiguousarray(block, dtype=np.uint8)
    x = np.ascontiguousarray(x, dtype=np.float32)  # (32,) elements 32c..32c+32 of the activations
    table_ptr = None if table is None else np.ascontiguousarray(table, dtype=np.uint8).ctypes.data
    fn = getattr(lib, f"ql_host_dot_f32_{type_name}")
    return float(fn(table_ptr, block.ctypes.data, c, x.ctypes.data_as(ctypes.POINTER(ctypes.c_float))))
