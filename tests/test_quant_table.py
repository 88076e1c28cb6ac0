"""The quant table: every row agrees with gguf's sizes, names are unique, lookups fail loudly."""

import pytest
from gguf import GGML_QUANT_SIZES, GGMLQuantizationType

from engine.quant import QUANT_TABLE, QUANTIZED_TYPES, UnknownQuantType, by_id, by_name

REQUIRED = (
    "F32 F16 BF16 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q2_K Q3_K Q4_K Q5_K Q6_K IQ1_S IQ1_M IQ2_XXS IQ2_XS "
    "IQ2_S IQ3_XXS IQ3_S IQ4_NL IQ4_XS TQ1_0 TQ2_0 MXFP4"
).split()


def test_table_holds_every_required_type():
    assert sorted(QUANT_TABLE) == sorted(REQUIRED)


@pytest.mark.parametrize("name", sorted(QUANT_TABLE))
def test_row_sizes_come_from_gguf(name):
    row = QUANT_TABLE[name]
    assert (row.block_elems, row.block_bytes) == GGML_QUANT_SIZES[GGMLQuantizationType[name]]
    assert by_id(int(row.ggml_type)) is row
    assert by_name(name.lower()) is row


def test_quantized_types_exclude_floats():
    assert {q.name for q in QUANTIZED_TYPES} == set(REQUIRED) - {"F32", "F16", "BF16"}


def test_unknown_type_id_is_named_in_the_error():
    with pytest.raises(UnknownQuantType, match="999"):
        by_id(999)
    with pytest.raises(UnknownQuantType, match="Q9_9"):
        by_name("Q9_9")


def test_tensor_bytes_uses_block_geometry():
    q4k = QUANT_TABLE["Q4_K"]
    assert q4k.tensor_bytes(4096 * 4096) == 4096 * 4096 // 256 * 144
    assert q4k.bits_per_weight == pytest.approx(4.5)
