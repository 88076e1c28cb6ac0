"""A bounded reader of the GGUF header (metadata + tensor descriptions), never the data.

Why not ``gguf.GGUFReader``: it builds NumPy views for every array element (about 10 s for
a 150k-token vocabulary on a small machine) and trusts the counts in the file (a header
claiming 2^60 tensors loops or allocates for ages). This reader checks every count and
length against the bytes that remain BEFORE it acts on it, skips numeric arrays by
arithmetic, and keeps long arrays as references (:class:`ArrayRef`) decoded on demand.

Layout (little-endian), GGUF v2/v3:
  magic "GGUF" (4) | version u32 | n_tensors u64 | n_kv u64
  n_kv x (key: u64 len + utf-8 | value type u32 | value)
  n_tensors x (name: u64 len + utf-8 | n_dims u32 | dims u64[n_dims] | type u32 | offset u64)
  padding to general.alignment (default 32) | tensor data (offsets relative to here)
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from engine import model_file_errors as errs

GGUF_MAGIC = b"GGUF"
SUPPORTED_VERSIONS = (2, 3)
DEFAULT_ALIGNMENT = 32
FIXED_HEADER_BYTES = 24  # magic 4 + version 4 + n_tensors 8 + n_kv 8
MIN_TENSOR_INFO_BYTES = 24  # name len 8 + n_dims 4 + type 4 + offset 8 (zero dims, empty name)
MIN_KV_BYTES = 13  # key len 8 + value type 4 + a one-byte value
MAX_DIMS = 4  # GGML_MAX_DIMS
MAX_NAME_BYTES = 65535  # keys and tensor names
MAX_STRING_VALUE_BYTES = 16 * 1024 * 1024  # one scalar string (chat templates are ~10 KB)
MAX_STRING_ARRAY_LEN = 4 * 1024 * 1024  # vocabularies are <= ~300k entries
MAX_PLAUSIBLE_ARRAY_LEN = 1 << 32  # numeric arrays (scores, token types) are vocabulary-sized
MAX_PLAUSIBLE_COUNT = 1 << 24  # tensors or metadata entries; real files have < 100k
SMALL_ARRAY_LEN = 64  # numeric arrays up to this length are decoded eagerly

STRING_TYPE = 8
ARRAY_TYPE = 9
# GGUF value type id -> struct format (little-endian scalars)
SCALAR_FORMATS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
TYPE_NAMES = {0: "uint8", 1: "int8", 2: "uint16", 3: "int16", 4: "uint32", 5: "int32", 6: "float32", 7: "bool",
              8: "string", 9: "array", 10: "uint64", 11: "int64", 12: "float64"}


@dataclass(frozen=True)
class ArrayRef:
    """A metadata array left in the file: ``length`` elements of ``elem_type`` at ``offset``."""

    elem_type: int  # GGUF value type id of the elements
    length: int
    offset: int  # absolute offset of the first element

    def summary(self) -> str:
        return f"[array of {self.length}]"


@dataclass(frozen=True)
class RawTensor:
    name: str
    dims: tuple[int, ...]  # GGUF order: dims[0] is the row length
    type_id: int
    rel_offset: int  # relative to the start of the data section
    info_offset: int  # where this description starts in the file


@dataclass(frozen=True)
class RawHeader:
    version: int
    file_size: int
    alignment: int
    data_start: int  # absolute offset of the data section
    values: dict[str, Any]  # key -> scalar, or tuple (short numeric array), or ArrayRef
    value_types: dict[str, int]  # key -> GGUF value type id
    tensors: tuple[RawTensor, ...]


class _Cursor:
    """Reads from a buffer, refusing to step past its end (a truncation diagnostic instead)."""

    def __init__(self, buf, size: int, path: str):
        self.buf, self.size, self.path, self.pos = buf, size, path, 0

    def take(self, n_bytes: int, what: str) -> int:
        start = self.pos
        if n_bytes > self.size - start:
            detail = (
                f"While reading {what} at byte offset {start}, the file needed {n_bytes} more bytes "
                f"but only {self.size - start} remain (the file is {self.size} bytes)."
            )
            raise errs.truncated(self.path, detail, offset=start, needed=n_bytes, file_size=self.size)
        self.pos = start + n_bytes
        return start

    def scalar(self, fmt: str, what: str):
        start = self.take(struct.calcsize(fmt), what)
        return struct.unpack_from(fmt, self.buf, start)[0]

    def raw_string(self, what: str, limit: int) -> bytes:
        length = self.scalar("<Q", f"the length of {what}")
        if length > limit:
            raise errs.corrupt(
                self.path,
                f"{what} at byte offset {self.pos - 8} claims a length of {length} bytes, over the limit of {limit}.",
                offset=self.pos - 8, length=length,
            )
        start = self.take(length, what)
        return bytes(self.buf[start : start + length])  # (length,) utf-8 bytes

    def text(self, what: str, limit: int) -> str:
        start = self.pos
        raw = self.raw_string(what, limit)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise errs.corrupt(self.path, f"{what} at byte offset {start} is not valid UTF-8.", offset=start) from None

    def remaining(self) -> int:
        return self.size - self.pos


def read_fixed_header(cur: _Cursor) -> tuple[int, int, int]:
    """(version, n_tensors, n_kv), each checked against what the file size allows."""
    head = bytes(cur.buf[:16])  # first bytes, for the "what is this file" guess
    if cur.size < 4 or head[:4] != GGUF_MAGIC:
        if cur.size < 4 and GGUF_MAGIC.startswith(head):
            raise errs.truncated(cur.path, f"The file is only {cur.size} bytes long; a GGUF header needs 24.", file_size=cur.size)
        raise errs.not_gguf(cur.path, head)
    cur.take(4, "the magic")
    version = cur.scalar("<I", "the GGUF version")
    if version not in SUPPORTED_VERSIONS:
        raise _version_error(cur.path, version)
    n_tensors = cur.scalar("<Q", "the tensor count")
    n_kv = cur.scalar("<Q", "the metadata count")
    room = cur.remaining()
    # A count the file cannot hold is either absurd (damage: say so now) or plausible (a
    # truncated file: reading on reports where it ends). Either way the loops stay bounded,
    # since every entry consumes at least MIN_*_BYTES of the file.
    too_many = n_tensors * MIN_TENSOR_INFO_BYTES + n_kv * MIN_KV_BYTES > room
    if too_many and max(n_tensors, n_kv) > MAX_PLAUSIBLE_COUNT:
        detail = (
            f"The header claims {n_tensors} tensors and {n_kv} metadata entries, but the {cur.size}-byte file "
            f"has room for at most {room // MIN_TENSOR_INFO_BYTES} tensor descriptions."
        )
        raise errs.corrupt(cur.path, detail, n_tensors=n_tensors, n_kv=n_kv, file_size=cur.size)
    return version, n_tensors, n_kv


def _version_error(path: str, version: int):
    if version & 0xFFFF == 0 and version != 0:
        detail = "The file is a big-endian GGUF (made for IBM mainframes); QuantLaunch reads little-endian files only."
    elif version == 1:
        detail = "The file is GGUF version 1 (2023, before 64-bit counts); re-convert it with a current llama.cpp."
    else:
        detail = f"The file declares GGUF version {version}; this version of QuantLaunch reads versions 2 and 3."
    return errs.version(path, detail, version=version)


def _read_array(cur: _Cursor, key: str) -> ArrayRef | tuple:
    elem_type = cur.scalar("<I", f"the element type of array {key!r}")
    length = cur.scalar("<Q", f"the length of array {key!r}")
    if elem_type == STRING_TYPE:
        return _skip_string_array(cur, key, length)
    if elem_type not in SCALAR_FORMATS:
        what = "an array of arrays" if elem_type == ARRAY_TYPE else f"an array of unknown type id {elem_type}"
        raise errs.corrupt(cur.path, f"Metadata key {key!r} is {what}, which GGUF does not allow.", key=key, type_id=elem_type)
    fmt = SCALAR_FORMATS[elem_type]
    if length > MAX_PLAUSIBLE_ARRAY_LEN:
        raise _array_too_long(cur, key, length)
    start = cur.take(length * struct.calcsize(fmt), f"the {length} elements of array {key!r}")  # truncation if short
    if length <= SMALL_ARRAY_LEN:
        return struct.unpack_from(f"<{length}{fmt[1]}", cur.buf, start)  # (length,) values
    return ArrayRef(elem_type, length, start)


def _skip_string_array(cur: _Cursor, key: str, length: int) -> ArrayRef:
    if length > MAX_STRING_ARRAY_LEN:
        raise _array_too_long(cur, key, length)
    start = cur.pos  # a plausible length the file cannot hold is a truncation, found while walking
    end, bad_index = _walk_strings(cur.buf, cur.size, start, length)
    if bad_index is not None:
        detail = f"Array {key!r} (starting at byte offset {start}) runs past the end of the file at element {bad_index} of {length}."
        raise errs.truncated(cur.path, detail, key=key, offset=start, length=length)
    cur.pos = end
    return ArrayRef(STRING_TYPE, length, start)


def _walk_strings(buf, size: int, pos: int, length: int) -> tuple[int, int | None]:
    """(end offset, None) after ``length`` strings from ``pos``, or (pos, index) of the first that overruns."""
    unpack = struct.Struct("<Q").unpack_from
    for index in range(length):
        if pos + 8 > size:
            return pos, index
        pos += 8 + unpack(buf, pos)[0]  # u64 length + bytes
        if pos > size:
            return pos, index
    return pos, None


def _array_too_long(cur: _Cursor, key: str, length: int):
    detail = f"Metadata array {key!r} (length field ending at byte offset {cur.pos}) claims {length} elements, beyond any real model."
    return errs.corrupt(cur.path, detail, key=key, length=length, offset=cur.pos)


def _read_value(cur: _Cursor, key: str, value_type: int):
    if value_type in SCALAR_FORMATS:
        return cur.scalar(SCALAR_FORMATS[value_type], f"the value of {key!r}")
    if value_type == STRING_TYPE:
        raw = cur.raw_string(f"the value of {key!r}", MAX_STRING_VALUE_BYTES)
        return raw.decode("utf-8", errors="replace")
    if value_type == ARRAY_TYPE:
        return _read_array(cur, key)
    raise errs.corrupt(
        cur.path, f"Metadata key {key!r} has value type id {value_type}, which GGUF does not define.",
        key=key, type_id=value_type, offset=cur.pos - 4,
    )


def read_metadata(cur: _Cursor, n_kv: int) -> tuple[dict[str, Any], dict[str, int]]:
    values: dict[str, Any] = {}
    types: dict[str, int] = {}
    for index in range(n_kv):
        start = cur.pos
        key = cur.text(f"the name of metadata entry #{index}", MAX_NAME_BYTES)
        if key in values:
            raise errs.corrupt(cur.path, f"Metadata key {key!r} appears twice (again at byte offset {start}).", key=key)
        value_type = cur.scalar("<I", f"the value type of {key!r}")
        values[key] = _read_value(cur, key, value_type)
        types[key] = value_type
    return values, types


def read_tensor_infos(cur: _Cursor, n_tensors: int) -> tuple[RawTensor, ...]:
    tensors: list[RawTensor] = []
    seen: set[str] = set()
    for index in range(n_tensors):
        start = cur.pos
        name = cur.text(f"the name of tensor #{index}", MAX_NAME_BYTES)
        if name in seen:
            raise errs.corrupt(cur.path, f"Tensor {name!r} is described twice (again at byte offset {start}).", tensor=name)
        seen.add(name)
        n_dims = cur.scalar("<I", f"the dimension count of tensor {name!r}")
        if n_dims > MAX_DIMS:
            raise errs.corrupt(
                cur.path, f"Tensor {name!r} (described at byte offset {start}) has {n_dims} dimensions; GGUF allows at most {MAX_DIMS}.",
                tensor=name, n_dims=n_dims,
            )
        dims_at = cur.take(8 * n_dims, f"the shape of tensor {name!r}")
        dims = struct.unpack_from(f"<{n_dims}Q", cur.buf, dims_at)  # (n_dims,) u64, ne0 first
        type_id = cur.scalar("<I", f"the type of tensor {name!r}")
        rel_offset = cur.scalar("<Q", f"the data offset of tensor {name!r}")
        tensors.append(RawTensor(name, tuple(int(d) for d in dims), type_id, rel_offset, start))
    return tuple(tensors)


def _alignment(path: str, values: dict[str, Any], types: dict[str, int]) -> int:
    if "general.alignment" not in values:
        return DEFAULT_ALIGNMENT
    alignment = values["general.alignment"]
    if types["general.alignment"] != 4 or alignment == 0 or alignment & (alignment - 1):
        raise errs.corrupt(
            path, f"general.alignment is {alignment!r} ({TYPE_NAMES.get(types['general.alignment'], '?')}); it must be a uint32 power of two.",
            key="general.alignment",
        )
    return int(alignment)


def read_header(buf, size: int, path: str) -> RawHeader:
    """Parse and bound-check the header in ``buf`` (bytes-like, e.g. an mmap) of ``size`` bytes."""
    cur = _Cursor(buf, size, path)
    version, n_tensors, n_kv = read_fixed_header(cur)
    values, types = read_metadata(cur, n_kv)
    tensors = read_tensor_infos(cur, n_tensors)
    alignment = _alignment(path, values, types)
    data_start = -(-cur.pos // alignment) * alignment  # round up to the alignment
    return RawHeader(version, size, alignment, data_start, values, types, tensors)


def decode_array(buf, ref: ArrayRef) -> list:
    """The elements of an :class:`ArrayRef` (already bound-checked by :func:`read_header`)."""
    if ref.elem_type == STRING_TYPE:
        out, pos = [], ref.offset
        unpack = struct.Struct("<Q").unpack_from
        for _ in range(ref.length):
            length = unpack(buf, pos)[0]
            out.append(bytes(buf[pos + 8 : pos + 8 + length]).decode("utf-8", errors="replace"))  # u64 len | bytes
            pos += 8 + length
        return out
    fmt = SCALAR_FORMATS[ref.elem_type]
    return list(struct.unpack_from(f"<{ref.length}{fmt[1]}", buf, ref.offset))  # (length,) values
