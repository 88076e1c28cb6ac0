"""Quant types: the table (sizes, families) and NumPy reference dequantizers."""

from engine.quant.table import (
    QUANT_TABLE,
    QUANTIZED_TYPES,
    QuantType,
    UnknownQuantType,
    by_id,
    by_name,
    is_known_id,
)

__all__ = ["QUANT_TABLE", "QUANTIZED_TYPES", "QuantType", "UnknownQuantType", "by_id", "by_name", "is_known_id"]
