"""Inspect a GGUF model file: header only, memory-mapped, safe on hostile files.

``inspect_model(path)`` returns a :class:`~engine.model_info.ModelInfo` or raises one
:class:`~engine.diagnostics.DiagnosticError` (codes in ``engine.model_file_errors``). It
never reads tensor data, never trusts a count before checking it against the file size,
and turns any unexpected failure into a diagnostic.
"""

from __future__ import annotations

import mmap
import os
import stat
from pathlib import Path
from typing import Any

import gguf

from engine import model_file_errors as errs
from engine.diagnostics import DiagnosticError
from engine.file_types import file_type_name, guess_file_type
from engine.model_file_header import TYPE_NAMES, ArrayRef, RawHeader, RawTensor, decode_array, read_header
from engine.model_file_hparams import hparams_from_metadata
from engine.model_info import CensusEntry, ModelInfo, TensorInfo
from engine.quant.table import by_id, is_known_id


def inspect_model(path: str | os.PathLike) -> ModelInfo:
    """Everything the planner and launcher need to know about a GGUF file, from its header."""
    path_str = str(path)
    try:
        with _open_mapped(path_str) as (buf, size):
            header = read_header(buf, size, path_str)
            return _model_info(path_str, header)
    except DiagnosticError:
        raise
    except Exception as exc:  # any surprise on a hostile file becomes a diagnostic, never a traceback
        raise errs.corrupt(path_str, f"The header could not be parsed: {type(exc).__name__}: {exc}.", error=repr(exc)) from exc


def load_metadata_array(path: str | os.PathLike, key: str) -> list:
    """The elements of one metadata array (e.g. "tokenizer.ggml.tokens"), decoded from the file.

    Raises the file's diagnostic when it is damaged, or QL-E-FILE-MISSING-KEY when absent.
    """
    path_str = str(path)
    with _open_mapped(path_str) as (buf, size):
        header = read_header(buf, size, path_str)
        value = header.values.get(key)
        if isinstance(value, tuple):
            return list(value)
        if not isinstance(value, ArrayRef):
            raise errs.missing_key(path_str, key, "it is not an array in this file" if key in header.values else "it is absent")
        return decode_array(buf, value)


class _open_mapped:
    """Context manager: (read-only mmap, size) of a regular file, with diagnostics for the rest."""

    def __init__(self, path: str):
        self.path, self.file, self.map = path, None, None

    def __enter__(self) -> tuple[Any, int]:
        size = regular_file_size(self.path)
        try:
            self.file = open(self.path, "rb")  # noqa: SIM115 - closed in __exit__
            if size == 0:
                return b"", 0
            self.map = mmap.mmap(self.file.fileno(), 0, access=mmap.ACCESS_READ)
        except OSError as exc:
            self.__exit__(None, None, None)
            raise errs.unreadable(self.path, exc.strerror or str(exc)) from None
        return self.map, len(self.map)

    def __exit__(self, *exc_info) -> None:
        if self.map is not None:
            try:
                self.map.close()
            except BufferError:  # a view into the map is still alive; the GC closes it
                pass
        if self.file is not None:
            self.file.close()


def regular_file_size(path: str) -> int:
    """The size of the regular, readable, non-empty file at ``path``; else the diagnostic inspect gives."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise errs.not_found(path) from None
    except OSError as exc:
        raise errs.unreadable(path, exc.strerror or str(exc)) from None
    if stat.S_ISDIR(info.st_mode):
        raise errs.unreadable(path, "it is a folder, not a model file")
    if not stat.S_ISREG(info.st_mode):
        raise errs.unreadable(path, "it is not a regular file (a device, pipe or socket)")
    if not os.access(path, os.R_OK):
        raise errs.unreadable(path, "permission denied")
    if info.st_size == 0:
        raise errs.truncated(path, f"The file {path} is empty (0 bytes).", file_size=0)
    return info.st_size


_GGML_IDS = frozenset(int(t) for t in gguf.GGMLQuantizationType)  # ids gguf can name (I32, F64, ...)


def _tensor_info(path: str, header: RawHeader, raw: RawTensor) -> TensorInfo:
    if not is_known_id(raw.type_id):
        known_as = gguf.GGMLQuantizationType(raw.type_id).name if raw.type_id in _GGML_IDS else None
        raise errs.unknown_type(path, raw.name, raw.type_id, known_as)
    row = by_id(raw.type_id)
    n_elements = 1
    for dim in raw.dims:
        n_elements *= dim
    if raw.dims and raw.dims[0] % row.block_elems:
        raise errs.corrupt(
            path, f"Tensor {raw.name!r} has rows of {raw.dims[0]} elements, not a multiple of the "
            f"{row.block_elems}-element blocks of its type {row.name}.", tensor=raw.name,
        )
    if raw.rel_offset % header.alignment:
        raise errs.corrupt(
            path, f"Tensor {raw.name!r} starts at data offset {raw.rel_offset}, not a multiple of the "
            f"file's alignment {header.alignment}.", tensor=raw.name, offset=raw.rel_offset,
        )
    n_bytes = row.tensor_bytes(n_elements)
    offset = header.data_start + raw.rel_offset
    if offset + n_bytes > header.file_size:
        detail = (
            f"Tensor {raw.name!r} ({row.name}, {n_bytes} bytes) starts at byte offset {offset} and would end at "
            f"{offset + n_bytes}, past the end of the {header.file_size}-byte file."
        )
        raise errs.truncated(path, detail, tensor=raw.name, offset=offset, n_bytes=n_bytes, file_size=header.file_size)
    return TensorInfo(raw.name, row.name, raw.dims, n_elements, n_bytes, offset)



def _check_overlaps(path: str, tensors: tuple[TensorInfo, ...]) -> None:
    ordered = sorted((t for t in tensors if t.n_bytes), key=lambda t: t.offset)
    for before, after in zip(ordered, ordered[1:], strict=False):
        if before.offset + before.n_bytes > after.offset:
            detail = (
                f"Tensor {before.name!r} (bytes {before.offset}..{before.offset + before.n_bytes}) overlaps "
                f"tensor {after.name!r} (starting at byte {after.offset})."
            )
            raise errs.corrupt(path, detail, tensors=[before.name, after.name])


def _census(tensors: tuple[TensorInfo, ...]) -> tuple[CensusEntry, ...]:
    totals: dict[str, list[int]] = {}
    for tensor in tensors:
        entry = totals.setdefault(tensor.type_name, [0, 0, 0])  # count, bytes, elements
        entry[0] += 1
        entry[1] += tensor.n_bytes
        entry[2] += tensor.n_elements
    entries = (CensusEntry(name, *numbers) for name, numbers in totals.items())
    return tuple(sorted(entries, key=lambda e: (-e.n_bytes, e.type_name)))


def _scalar_metadata(values: dict[str, Any]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, ArrayRef):
            summary[key] = value.summary()
        elif isinstance(value, tuple):
            summary[key] = f"[array of {len(value)}]"
        else:
            summary[key] = value
    return summary


def _vocab_size(values: dict[str, Any], architecture: str, tensors: tuple[TensorInfo, ...]) -> int:
    tokens = values.get("tokenizer.ggml.tokens")
    if isinstance(tokens, ArrayRef | tuple):
        return tokens.length if isinstance(tokens, ArrayRef) else len(tokens)
    declared = values.get(f"{architecture}.vocab_size")
    if isinstance(declared, int) and not isinstance(declared, bool):
        return declared
    embedding = next((t for t in tensors if t.name == "token_embd.weight" and len(t.shape) == 2), None)
    return embedding.shape[1] if embedding else 0  # GGUF dims [n_embd, vocab]


def _optional_int(values: dict[str, Any], key: str) -> int | None:
    value = values.get(key)
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def _file_type(values: dict[str, Any], tensors: tuple[TensorInfo, ...]) -> str:
    type_id = _optional_int(values, "general.file_type")
    name = file_type_name(type_id) if type_id is not None else None
    return name or guess_file_type((t.type_name, t.n_bytes) for t in tensors)


def _architecture(path: str, header: RawHeader) -> str:
    key, why = "general.architecture", "without it no one can tell which model family this is"
    if key not in header.values:
        raise errs.missing_key(path, key, why)
    architecture = header.values[key]
    if not isinstance(architecture, str):
        kind = TYPE_NAMES.get(header.value_types[key], "?")
        raise errs.corrupt(path, f"Metadata key {key!r} is stored as {kind}, not as a string naming the model family.", key=key)
    if not architecture:
        raise errs.corrupt(path, f"Metadata key {key!r} is empty; {why}.", key=key)
    return architecture


def _model_info(path: str, header: RawHeader) -> ModelInfo:
    values = header.values
    tensors = tuple(_tensor_info(path, header, raw) for raw in header.tensors)
    _check_overlaps(path, tensors)
    architecture = _architecture(path, header)
    tokenizer_model = values.get("tokenizer.ggml.model", "")
    add_bos_default = tokenizer_model == "llama"  # SentencePiece vocabularies add BOS unless told otherwise
    name = values.get("general.name")
    return ModelInfo(
        path=path,
        file_size=header.file_size,
        architecture=architecture,
        name=name if isinstance(name, str) and name else Path(path).stem,
        file_type=_file_type(values, tensors),
        hparams=hparams_from_metadata(path, architecture, values, _vocab_size(values, architecture, tensors)),
        tokenizer_model=str(tokenizer_model),
        tokenizer_pre=str(values.get("tokenizer.ggml.pre", "")),
        bos_token_id=_optional_int(values, "tokenizer.ggml.bos_token_id"),
        eos_token_id=_optional_int(values, "tokenizer.ggml.eos_token_id"),
        add_bos=bool(values.get("tokenizer.ggml.add_bos_token", add_bos_default)),
        has_chat_template=isinstance(values.get("tokenizer.chat_template"), str),
        tensors=tensors,
        census=_census(tensors),
        metadata={"GGUF.version": header.version, **_scalar_metadata(values)},
    )
