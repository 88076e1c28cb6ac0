"""general.alignment: honoured when valid (offsets match gguf.GGUFReader), refused when not."""

from __future__ import annotations

import struct

import gguf
import numpy as np
import pytest
from model_file_cases import kv_field_offset, patch

from engine.diagnostics import DiagnosticError
from engine.model_file import inspect_model


def _aligned_file(path, alignment: int):
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_custom_alignment(alignment)
    writer.add_block_count(1)
    writer.add_embedding_length(32)
    writer.add_head_count(4)
    writer.add_tensor("a.weight", np.ones((3, 32), dtype=np.float32))  # 384 bytes: the next start needs padding
    writer.add_tensor("b.weight", np.ones((1, 32), dtype=np.float16))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


@pytest.mark.parametrize("alignment", [32, 64, 256, 4096])
def test_custom_alignment_offsets(tmp_path, alignment):
    path = _aligned_file(tmp_path / f"a{alignment}.gguf", alignment)
    info = inspect_model(path)
    reference = gguf.GGUFReader(str(path))
    assert [t.offset for t in info.tensors] == [t.data_offset for t in reference.tensors]
    assert all(t.offset % alignment == 0 for t in info.tensors)


@pytest.mark.parametrize("bad", [0, 3, 48])
def test_bad_alignment_is_a_diagnostic(tmp_path, bad):
    path = _aligned_file(tmp_path / "bad.gguf", 64)
    value_at = kv_field_offset(path, "general.alignment") + 8 + len("general.alignment") + 4  # key len | key | type
    patch(path, value_at, struct.pack("<I", bad))
    with pytest.raises(DiagnosticError) as caught:
        inspect_model(path)
    assert caught.value.diagnostic.code == "QL-E-FILE-CORRUPT"
    assert "general.alignment" in caught.value.diagnostic.detail
