"""upload_weight refuses what the kernels cannot take, with a diagnostic or a named error (no GPU)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.diagnostics import DiagnosticError
from engine.kernels.weights import kernel_type, padded_layout, upload_weight
from engine.quant.table import QUANT_TABLE


def test_unknown_type_is_a_diagnostic():
    with pytest.raises(DiagnosticError) as info:
        kernel_type("Q9_Z", "blk.0.ffn_up.weight")
    assert info.value.diagnostic.code == "QL-E-KERNEL-TYPE"
    assert "blk.0.ffn_up.weight" in info.value.diagnostic.title


def test_row_length_not_a_block_multiple_is_a_diagnostic():
    with pytest.raises(DiagnosticError) as info:
        upload_weight("Q4_K", np.zeros(144, np.uint8), (1, 200), name="blk.3.attn_k.weight")
    assert info.value.diagnostic.code == "QL-E-KERNEL-SHAPE"
    assert info.value.diagnostic.technical["row_len"] == 200


def test_wrong_byte_count_names_the_tensor():
    with pytest.raises(ValueError, match="output.weight"):
        upload_weight("Q8_0", np.zeros(33, np.uint8), (1, 32), name="output.weight")
    with pytest.raises(ValueError, match="uint8"):
        upload_weight("Q8_0", np.zeros(34, np.int8), (1, 32), name="output.weight")


@pytest.mark.parametrize("type_name", list(QUANT_TABLE))
def test_padded_rows_are_16_byte_aligned_and_hold_the_row(type_name):
    qt = QUANT_TABLE[type_name]
    for row_len in (qt.block_elems * 32, qt.block_elems * 3, 4096 + 3 * max(qt.block_elems, 32)):
        if row_len % qt.block_elems:
            continue
        padded_len, stored, stride = padded_layout(qt, row_len)
        assert stride % 16 == 0 and stride >= stored >= qt.tensor_bytes(row_len)
        assert padded_len >= row_len and padded_len % 32 == 0
