"""Quant types: the table (sizes, families), IQ lookup tables, NumPy reference dequantizers,
and valid random blocks for tests and benchmarks."""

from engine.quant.blocks import float_bytes, quantize_floats, random_blocks
from engine.quant.dequant import dequantize, has_dequantizer
from engine.quant.grids import LookupTables, lookup_tables
from engine.quant.table import (
    QUANT_TABLE,
    QUANTIZED_TYPES,
    QuantType,
    UnknownQuantType,
    by_id,
    by_name,
    is_known_id,
)

__all__ = [
    "QUANT_TABLE",
    "QUANTIZED_TYPES",
    "LookupTables",
    "QuantType",
    "UnknownQuantType",
    "by_id",
    "by_name",
    "dequantize",
    "float_bytes",
    "has_dequantizer",
    "is_known_id",
    "lookup_tables",
    "quantize_floats",
    "random_blocks",
]
