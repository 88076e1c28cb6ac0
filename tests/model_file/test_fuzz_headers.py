"""Mutated GGUF headers: inspect_model returns a ModelInfo or raises DiagnosticError, nothing
else, in bounded time (hypothesis deadline) and bounded memory (tracemalloc peak)."""

from __future__ import annotations

import struct
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from model_file_cases import write_small_gguf

from engine.diagnostics import DiagnosticError
from engine.model_file import inspect_model
from engine.model_info import ModelInfo

MAX_PEAK_BYTES = 32 * 1024 * 1024  # the file is ~1.6 KB; nothing should allocate more than this


@pytest.fixture(scope="module")
def valid_bytes(tmp_path_factory) -> bytes:
    return write_small_gguf(tmp_path_factory.mktemp("fuzz") / "seed.gguf").read_bytes()


def _outcome(path: Path):
    tracemalloc.start()
    try:
        result = inspect_model(path)
    except DiagnosticError as exc:
        result = exc
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak < MAX_PEAK_BYTES
    assert isinstance(result, ModelInfo | DiagnosticError)
    if isinstance(result, DiagnosticError):
        assert result.diagnostic.code.startswith("QL-E-FILE-") and result.diagnostic.detail
    return result


_ABSURD = st.sampled_from([0, 1, 2**31, 2**32 - 1, 2**32, 2**40, 2**59, 2**60, 2**63, 2**64 - 1])
_FUZZ = settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture])


@_FUZZ
@given(data=st.data())
def test_overwritten_bytes(tmp_path, valid_bytes, data):
    mutated = bytearray(valid_bytes)
    header_end = 720  # the header of the seed file ends before its data (tensor data starts at 704+)
    for _ in range(data.draw(st.integers(1, 6))):
        position = data.draw(st.integers(0, header_end - 1))
        mutated[position] = data.draw(st.integers(0, 255))
    path = tmp_path / "mutated.gguf"
    path.write_bytes(bytes(mutated))
    _outcome(path)


@_FUZZ
@given(data=st.data())
def test_absurd_u64_anywhere_in_header(tmp_path, valid_bytes, data):
    mutated = bytearray(valid_bytes)
    position = data.draw(st.integers(0, 700))
    mutated[position : position + 8] = struct.pack("<Q", data.draw(_ABSURD))  # any field, aligned or not
    path = tmp_path / "absurd.gguf"
    path.write_bytes(bytes(mutated))
    _outcome(path)


@_FUZZ
@given(cut=st.integers(0, 1700))
def test_truncated_anywhere(tmp_path, valid_bytes, cut):
    path = tmp_path / "cut.gguf"
    path.write_bytes(valid_bytes[:cut])
    result = _outcome(path)
    if cut < len(valid_bytes) - 128:  # output_norm (the last 128 bytes) missing at least
        assert isinstance(result, DiagnosticError)
        assert result.diagnostic.code == "QL-E-FILE-TRUNCATED"


def test_seed_file_is_valid(valid_bytes, tmp_path):
    path = tmp_path / "seed.gguf"
    path.write_bytes(valid_bytes)
    assert isinstance(_outcome(path), ModelInfo)
    assert len(valid_bytes) > 1400
