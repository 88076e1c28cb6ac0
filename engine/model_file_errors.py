"""The diagnostics model inspection raises: one place for their codes and words.

Every function returns a :class:`DiagnosticError` ready to raise; its detail names the
facts (which tensor, which key, which offset, which id) so a bug report needs no log.
"""

from __future__ import annotations

from engine.diagnostics import DiagnosticError, Remedy, error

NOT_FOUND = "QL-E-FILE-NOT-FOUND"
UNREADABLE = "QL-E-FILE-UNREADABLE"
NOT_GGUF = "QL-E-FILE-NOT-GGUF"
TRUNCATED = "QL-E-FILE-TRUNCATED"
VERSION = "QL-E-FILE-VERSION"
CORRUPT = "QL-E-FILE-CORRUPT"
UNKNOWN_TYPE = "QL-E-FILE-UNKNOWN-TYPE"
MISSING_KEY = "QL-E-FILE-MISSING-KEY"

_OTHER_FILE = Remedy("choose_other_file", "Choose another model file")

# Leading bytes of formats people mistake for GGUF -> what they are.
_KNOWN_SIGNATURES = (
    (b"lmgg", "an old GGML file (before GGUF, 2023); convert it with llama.cpp's convert tools"),
    (b"fmgg", "an old GGMF file (before GGUF, 2023); convert it with llama.cpp's convert tools"),
    (b"tjgg", "an old GGJT file (before GGUF, 2023); convert it with llama.cpp's convert tools"),
    (b"PK\x03\x04", "a ZIP archive (a PyTorch checkpoint or a compressed download): unpack or convert it"),
    (b"\x80\x02", "a Python pickle (a PyTorch .bin checkpoint): convert it to GGUF first"),
    (b"<!DOCTYPE", "a web page, not a model: the download probably failed"),
    (b"<html", "a web page, not a model: the download probably failed"),
    (b"version https://git-lfs", "a Git LFS pointer, not the model: fetch the real file with git lfs pull"),
)


def _fail(code: str, title: str, detail: str, path: str, **technical) -> DiagnosticError:
    return DiagnosticError(error(code, title, detail, _OTHER_FILE, path=path, **technical))


def not_found(path: str) -> DiagnosticError:
    return _fail(NOT_FOUND, "Model file not found", f"There is no file at {path}.", path)


def unreadable(path: str, why: str) -> DiagnosticError:
    return _fail(UNREADABLE, "Model file cannot be read", f"{path}: {why}.", path, reason=why)


def not_gguf(path: str, head: bytes) -> DiagnosticError:
    what = "a file of another format"
    for signature, description in _KNOWN_SIGNATURES:
        if head.startswith(signature):
            what = description
            break
    else:
        if len(head) >= 10 and head[8:10] == b'{"':
            what = "a safetensors file: convert it to GGUF first"
    detail = f"{path} does not start with the GGUF magic bytes b'GGUF' (it starts with {head[:8]!r}); it looks like {what}."
    return _fail(NOT_GGUF, "Not a GGUF model file", detail, path, first_bytes=head[:16].hex())


def truncated(path: str, detail: str, **technical) -> DiagnosticError:
    return _fail(TRUNCATED, "Model file is truncated", detail + " The download or copy is probably incomplete.", path, **technical)


def version(path: str, detail: str, **technical) -> DiagnosticError:
    return _fail(VERSION, "Unsupported GGUF version", detail, path, **technical)


def corrupt(path: str, detail: str, **technical) -> DiagnosticError:
    return _fail(CORRUPT, "Model file is damaged", detail, path, **technical)


def unknown_type(path: str, tensor: str, type_id: int, known_as: str | None) -> DiagnosticError:
    ggml_name = f" ({known_as} in GGML)" if known_as else ""
    detail = (
        f"Tensor {tensor!r} has type id {type_id}{ggml_name}, which this version of QuantLaunch does not know. "
        "A newer QuantLaunch may support it; otherwise choose a file with another quantization."
    )
    return _fail(UNKNOWN_TYPE, "Unknown tensor type", detail, path, tensor=tensor, type_id=type_id)


def missing_key(path: str, key: str, why: str) -> DiagnosticError:
    detail = f"The metadata key {key!r} is missing; {why}."
    return _fail(MISSING_KEY, "Model file lacks required metadata", detail, path, key=key)
