"""GGUF ``general.file_type`` ids <-> names like "Q4_K_M" or "IQ3_M".

The ids come from ``gguf.LlamaFileType`` (never retyped): ``MOSTLY_Q4_K_M`` becomes
"Q4_K_M", ``ALL_F32`` becomes "F32". When a file has no ``general.file_type`` the name is
guessed from the type holding the most tensor bytes and marked "(guessed)".
"""

from __future__ import annotations

from collections.abc import Iterable
from types import MappingProxyType

from gguf import LlamaFileType

GUESSED_SUFFIX = " (guessed)"
_PREFIXES = ("MOSTLY_", "ALL_")


def _plain_name(enum_name: str) -> str:
    for prefix in _PREFIXES:
        if enum_name.startswith(prefix):
            return enum_name[len(prefix) :]
    return enum_name


def _build_tables() -> tuple[MappingProxyType, MappingProxyType]:
    by_id: dict[int, str] = {}
    by_name: dict[str, int] = {}
    for member in LlamaFileType:
        if member.name == "GUESSED":
            continue
        name = _plain_name(member.name)
        if name in by_name:
            raise ValueError(f"file types: two ids map to the name {name}")
        by_id[int(member.value)] = name
        by_name[name] = int(member.value)
    return MappingProxyType(by_id), MappingProxyType(by_name)


FILE_TYPE_NAMES, FILE_TYPE_IDS = _build_tables()  # id -> name, name -> id (read-only)


def file_type_name(type_id: int) -> str | None:
    """The name of a ``general.file_type`` id, or None when the id is unknown.

    A file made by llama.cpp's quantizer with ``--leave-output-tensor`` style options may
    carry the GUESSED flag (1024) on top of the id; it is stripped.
    """
    guessed_flag = int(LlamaFileType.GUESSED)
    plain_id = int(type_id) & ~guessed_flag if int(type_id) > guessed_flag else int(type_id)
    return FILE_TYPE_NAMES.get(plain_id)


def file_type_id(name: str) -> int:
    """The ``general.file_type`` id for a name like "Q4_K_M" (case-insensitive)."""
    key = name.strip().upper()
    if key not in FILE_TYPE_IDS:
        known = ", ".join(FILE_TYPE_IDS)
        raise KeyError(f"unknown file type {name!r}; known: {known}")
    return FILE_TYPE_IDS[key]


def guess_file_type(bytes_by_type: Iterable[tuple[str, int]]) -> str:
    """"Q4_K (guessed)" from (tensor type name, bytes) pairs; "unknown" when there are none."""
    totals: dict[str, int] = {}
    for type_name, n_bytes in bytes_by_type:
        totals[type_name] = totals.get(type_name, 0) + int(n_bytes)
    if not totals:
        return "unknown"
    dominant = max(sorted(totals), key=lambda name: totals[name])
    return dominant + GUESSED_SUFFIX


def file_type_for_weight_type(type_name: str) -> int | None:
    """A plausible ``general.file_type`` id for a model whose weights are mostly ``type_name``.

    "Q6_K" -> Q6_K, "Q4_K" -> Q4_K_M (the common mix), "IQ3_XXS" -> IQ3_XXS; None when no
    file type names that weight type (e.g. "IQ1_M" maps to IQ1_M, "MXFP4" to MXFP4_MOE).
    """
    key = type_name.strip().upper()
    for candidate in (key, f"{key}_M", f"{key}_MOE"):
        if candidate in FILE_TYPE_IDS:
            return FILE_TYPE_IDS[candidate]
    return None
