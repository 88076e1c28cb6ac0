"""The tokenizer facts a GGUF file carries, read into one frozen record (no tokenizing here).

``read_vocab`` accepts a path, an open ``gguf.GGUFReader`` or a ``ModelInfo`` (whose
``path`` is opened). Missing or malformed vocabularies become a ``DiagnosticError``.
"""

from __future__ import annotations

import mmap
import re
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from engine.diagnostics import DiagnosticError, error


class TokenType(IntEnum):
    """``tokenizer.ggml.token_type`` values (llama.cpp's llama_token_type)."""

    UNDEFINED = 0
    NORMAL = 1
    UNKNOWN = 2
    CONTROL = 3
    USER_DEFINED = 4
    UNUSED = 5
    BYTE = 6


@dataclass(frozen=True)
class GGUFVocab:
    model: str  # tokenizer.ggml.model: "gpt2" (byte-level BPE) | "llama" (SentencePiece)
    pre: str  # tokenizer.ggml.pre, "" if absent
    tokens: tuple[str, ...]  # token text as stored (byte-level chars for gpt2, "▁" for llama)
    token_types: tuple[int, ...]  # TokenType per token
    scores: tuple[float, ...]  # per token; empty when the file has none
    merges: tuple[str, ...]  # "left right" per merge, rank order; empty for llama
    bos_id: int | None
    eos_id: int | None
    eot_id: int | None
    eom_id: int | None
    unk_id: int | None
    add_bos: bool
    add_eos: bool
    add_space_prefix: bool
    chat_template: str | None


def _bad_vocab(path: str, why: str) -> DiagnosticError:
    return DiagnosticError(
        error(
            "QL-E-TOKENIZER",
            "The model's tokenizer cannot be read",
            f"{why}. The file may be damaged or made by a converter this engine does not know.",
            path=path,
        )
    )


_BYTE_TOKEN = re.compile(r"<0x[0-9A-Fa-f]{2}>")
ARRAY_KEYS = ("tokenizer.ggml.tokens", "tokenizer.ggml.token_type", "tokenizer.ggml.scores", "tokenizer.ggml.merges")


class _ReaderFields:
    """Metadata lookups on an open ``gguf.GGUFReader``."""

    def __init__(self, reader: Any):
        self._reader = reader
        self.path = str(getattr(reader, "path", "<reader>"))

    def get(self, key: str, default: Any = None) -> Any:
        field = self._reader.fields.get(key)
        return default if field is None else field.contents()


class _FileFields:
    """Metadata lookups through the engine's bounded header reader (fast on big vocabularies;
    a damaged file becomes the file's diagnostic). Only the tokenizer arrays are decoded."""

    def __init__(self, path: str):
        from engine.model_file_header import ArrayRef, decode_array, read_header

        self.path = path
        try:
            with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                header = read_header(buf, len(buf), path)
                values = dict(header.values)
                for key in ARRAY_KEYS:
                    if isinstance(values.get(key), ArrayRef):
                        values[key] = decode_array(buf, values[key])
        except DiagnosticError:
            raise
        except Exception as exc:  # unreadable, empty, truncated, hostile: never a traceback
            raise _bad_vocab(path, f"The file cannot be read ({type(exc).__name__}: {exc})") from exc
        self._values = values

    def get(self, key: str, default: Any = None) -> Any:
        value = self._values.get(key, default)
        return list(value) if isinstance(value, tuple) else value


def _fields(source: Any) -> Any:
    from gguf import GGUFReader

    if isinstance(source, GGUFReader):
        return _ReaderFields(source)
    from engine.model_file import regular_file_size

    path = str(getattr(source, "path", source))
    regular_file_size(path)  # inspect's diagnostics for a missing, unreadable or empty file
    return _FileFields(path)


def _kind(value: Any) -> str:
    return {str: "a string", bool: "a boolean", list: "an array", int: "an integer"}.get(type(value), f"a {type(value).__name__}")


def _optional_id(fields: Any, key: str, n_vocab: int) -> int | None:
    value = fields.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise _bad_vocab(fields.path, f"{key} is {_kind(value)} ({value!r:.40}), not a token id (a whole number)")
    return value if 0 <= value < n_vocab else None


def _flag(fields: Any, key: str, default: bool) -> bool:
    value = fields.get(key, default)
    if not isinstance(value, bool):
        raise _bad_vocab(fields.path, f"{key} is {_kind(value)} ({value!r:.40}), not true or false")
    return value


def _array(fields: Any, key: str, elem: Any, what: str) -> list | None:
    """The array at ``key`` (None when absent), every element an ``elem`` (never a bool)."""
    value = fields.get(key)
    if value is None:
        return None
    if not isinstance(value, list):
        raise _bad_vocab(fields.path, f"{key} is {_kind(value)}, not an array")
    for index, item in enumerate(value):
        if not isinstance(item, elem) or isinstance(item, bool):
            raise _bad_vocab(fields.path, f"Element {index} of {key} is {_kind(item)} ({item!r:.40}), not {what}")
    return value


def _check_merges(path: str, tokens: list[str], merges: list[str]) -> None:
    """Every byte-level BPE merge "left right" joins two vocabulary tokens into a third."""
    known = set(tokens)
    for index, merge in enumerate(merges):
        left, sep, right = merge.partition(" ")  # "left right"
        if sep and left in known and right in known and left + right in known:
            continue
        missing = next((t for t in (left, right, left + right) if t not in known), None)
        why = f"names {missing!r}, which is not a token" if sep else "has no space between its two tokens"
        raise _bad_vocab(path, f"Merge {index} of tokenizer.ggml.merges ({merge!r:.60}) {why}")


def _check_byte_tokens(path: str, tokens: list[str], types: list[int]) -> None:
    """SentencePiece byte tokens are spelled "<0xHH>" (the byte they stand for, in hex)."""
    for token_id, (text, kind) in enumerate(zip(tokens, types, strict=True)):
        if kind == TokenType.BYTE and not _BYTE_TOKEN.fullmatch(text):
            raise _bad_vocab(path, f"Token {token_id} ({text!r:.40}) is marked as a byte token, but is not spelled <0xHH>")


def read_vocab(source: Any) -> GGUFVocab:
    """The vocabulary of a GGUF path, an open ``gguf.GGUFReader`` or a ``ModelInfo``."""
    fields = _fields(source)
    path = fields.path
    model = str(fields.get("tokenizer.ggml.model", "") or "")
    tokens = _array(fields, "tokenizer.ggml.tokens", str, "a string")
    if not model or not tokens:
        raise _bad_vocab(path, "The file has no tokenizer.ggml.model or tokenizer.ggml.tokens")
    n_vocab = len(tokens)
    types = _array(fields, "tokenizer.ggml.token_type", int, "a whole number") or [int(TokenType.NORMAL)] * n_vocab
    scores = _array(fields, "tokenizer.ggml.scores", int | float, "a number") or []
    if len(types) != n_vocab or (scores and len(scores) != n_vocab):
        raise _bad_vocab(path, f"Token types/scores ({len(types)}/{len(scores)}) do not match {n_vocab} tokens")
    merges = _array(fields, "tokenizer.ggml.merges", str, "a string") or []
    if model == "gpt2":
        _check_merges(path, tokens, merges)
    is_spm = model == "llama"
    if is_spm:
        _check_byte_tokens(path, tokens, types)
    return GGUFVocab(
        model=model,
        pre=str(fields.get("tokenizer.ggml.pre", "") or ""),
        tokens=tuple(str(t) for t in tokens),
        token_types=tuple(int(t) for t in types),
        scores=tuple(float(s) for s in scores),
        merges=tuple(merges),
        bos_id=_optional_id(fields, "tokenizer.ggml.bos_token_id", n_vocab),
        eos_id=_optional_id(fields, "tokenizer.ggml.eos_token_id", n_vocab),
        eot_id=_optional_id(fields, "tokenizer.ggml.eot_token_id", n_vocab),
        eom_id=_optional_id(fields, "tokenizer.ggml.eom_token_id", n_vocab),
        unk_id=_optional_id(fields, "tokenizer.ggml.unknown_token_id", n_vocab),
        add_bos=_flag(fields, "tokenizer.ggml.add_bos_token", is_spm),
        add_eos=_flag(fields, "tokenizer.ggml.add_eos_token", False),
        add_space_prefix=_flag(fields, "tokenizer.ggml.add_space_prefix", is_spm),
        chat_template=fields.get("tokenizer.chat_template"),
    )
