"""The one table of GGML tensor types QuantLaunch understands.

Sizes come from ``gguf.GGML_QUANT_SIZES`` (never retyped). Each row's NumPy dequantizer
lives in ``engine.quant.dequant`` and registers itself by type name; the CUDA device
functions for a row live in ``engine/kernels`` and are instantiated from this table.
Adding a type = one row here + its dequantizer + its two device functions; the tests
loop over :data:`QUANT_TABLE`, so a new row is tested automatically.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from gguf import GGML_QUANT_SIZES, GGMLQuantizationType


@dataclass(frozen=True)
class QuantType:
    name: str  # GGML name, e.g. "Q4_K"
    ggml_type: GGMLQuantizationType
    family: str  # "float" | "legacy" | "k" | "iq" | "ternary" | "fp4"
    block_elems: int  # elements per block, from gguf
    block_bytes: int  # bytes per block, from gguf

    @property
    def is_float(self) -> bool:
        return self.family == "float"

    @property
    def bits_per_weight(self) -> float:
        return 8.0 * self.block_bytes / self.block_elems

    def tensor_bytes(self, n_elements: int) -> int:
        """Bytes of a tensor of ``n_elements`` (a multiple of ``block_elems``)."""
        return n_elements // self.block_elems * self.block_bytes


def _row(name: str, family: str) -> QuantType:
    ggml_type = GGMLQuantizationType[name]
    block_elems, block_bytes = GGML_QUANT_SIZES[ggml_type]
    return QuantType(name, ggml_type, family, block_elems, block_bytes)


_ROWS = (
    _row("F32", "float"),
    _row("F16", "float"),
    _row("BF16", "float"),
    _row("Q4_0", "legacy"),
    _row("Q4_1", "legacy"),
    _row("Q5_0", "legacy"),
    _row("Q5_1", "legacy"),
    _row("Q8_0", "legacy"),
    _row("Q2_K", "k"),
    _row("Q3_K", "k"),
    _row("Q4_K", "k"),
    _row("Q5_K", "k"),
    _row("Q6_K", "k"),
    _row("IQ1_S", "iq"),
    _row("IQ1_M", "iq"),
    _row("IQ2_XXS", "iq"),
    _row("IQ2_XS", "iq"),
    _row("IQ2_S", "iq"),
    _row("IQ3_XXS", "iq"),
    _row("IQ3_S", "iq"),
    _row("IQ4_NL", "iq"),
    _row("IQ4_XS", "iq"),
    _row("TQ1_0", "ternary"),
    _row("TQ2_0", "ternary"),
    _row("MXFP4", "fp4"),
)


def _index(rows: tuple[QuantType, ...]) -> MappingProxyType:
    table: dict[str, QuantType] = {}
    for row in rows:
        if row.name in table:
            raise ValueError(f"quant table: duplicate row for {row.name}")
        table[row.name] = row
    return MappingProxyType(table)


QUANT_TABLE: MappingProxyType = _index(_ROWS)  # name -> QuantType, read-only
QUANTIZED_TYPES: tuple[QuantType, ...] = tuple(r for r in _ROWS if not r.is_float)
_BY_ID = MappingProxyType({int(r.ggml_type): r for r in _ROWS})


class UnknownQuantType(KeyError):
    """A type name or id that this version of QuantLaunch does not know."""


def by_name(name: str) -> QuantType:
    try:
        return QUANT_TABLE[name.upper()]
    except KeyError:
        known = ", ".join(QUANT_TABLE)
        raise UnknownQuantType(f"unknown tensor type {name!r}; this version knows: {known}") from None


def by_id(type_id: int) -> QuantType:
    try:
        return _BY_ID[int(type_id)]
    except KeyError:
        raise UnknownQuantType(f"tensor type id {type_id} is not known to this version of QuantLaunch") from None


def is_known_id(type_id: int) -> bool:
    return int(type_id) in _BY_ID
