"""Small GGUF files for the model_file tests: a valid one made with gguf.GGUFWriter, and
hostile variants made by patching bytes whose positions come from gguf.GGUFReader (an
independent reader), never from the code under test."""

from __future__ import annotations

import struct
from pathlib import Path

import gguf
import numpy as np


def write_small_gguf(path: Path, *, arch: str = "llama", drop_keys: tuple[str, ...] = (), with_tensors: bool = True) -> Path:
    """A tiny valid llama-shaped GGUF: a few hparam keys, a 5-token vocabulary, 3 tensors."""
    writer = gguf.GGUFWriter(str(path), arch)
    writer.add_block_count(1)
    writer.add_embedding_length(32)
    writer.add_head_count(4)
    writer.add_context_length(128)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_tokenizer_model("gpt2")
    writer.add_token_list(["a", "b", "c", "ab", "abc"])
    writer.add_token_scores([0.0, -1.0, -2.0, -3.0, -4.0])
    writer.add_file_type(int(gguf.LlamaFileType.MOSTLY_Q8_0))
    if with_tensors:
        rng = np.random.default_rng(0)
        writer.add_tensor("token_embd.weight", rng.standard_normal((5, 32), dtype=np.float32))  # numpy (vocab, n_embd)
        q8 = gguf.quants.quantize(rng.standard_normal((4, 32), dtype=np.float32), gguf.GGMLQuantizationType.Q8_0)
        writer.add_tensor("blk.0.attn_q.weight", q8, raw_dtype=gguf.GGMLQuantizationType.Q8_0)  # (4, 34) bytes
        writer.add_tensor("output_norm.weight", np.ones(32, dtype=np.float32))
    for key in drop_keys:
        writer.kv_data[0].pop(key)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def patch(path: Path, offset: int, data: bytes) -> None:
    with open(path, "r+b") as handle:
        handle.seek(offset)
        handle.write(data)


def tensor_field_offsets(path: Path, index: int) -> tuple[int, int]:
    """(offset of the type id, offset of the data offset) of tensor ``index``'s description."""
    tensor = gguf.GGUFReader(str(path)).tensors[index]
    name_len = len(tensor.name.encode("utf-8"))
    n_dims = len(tensor.shape)
    type_at = tensor.field.offset + 8 + name_len + 4 + 8 * n_dims  # name len u64 | name | n_dims u32 | dims u64[]
    return type_at, type_at + 4  # type u32 | offset u64


def kv_field_offset(path: Path, key: str) -> int:
    return gguf.GGUFReader(str(path)).fields[key].offset  # start of the key's length


def hostile_files(tmp: Path) -> dict[str, tuple[Path, str, str]]:
    """case name -> (path, expected diagnostic code, a fact the detail must name)."""
    cases: dict[str, tuple[Path, str, str]] = {}

    def valid(name: str, **kwargs) -> Path:
        return write_small_gguf(tmp / f"{name}.gguf", **kwargs)

    text = tmp / "notes.txt"
    text.write_text("just some text, not a model\n")
    cases["not_gguf"] = (text, "QL-E-FILE-NOT-GGUF", "GGUF")
    empty = tmp / "empty.gguf"
    empty.write_bytes(b"")
    cases["empty"] = (empty, "QL-E-FILE-TRUNCATED", "empty")
    whole = valid("whole").read_bytes()
    cut = tmp / "cut_header.gguf"
    cut.write_bytes(whole[:100])
    cases["truncated_header"] = (cut, "QL-E-FILE-TRUNCATED", "offset")
    cut_data = tmp / "cut_data.gguf"
    cut_data.write_bytes(whole[:-40])
    cases["truncated_data"] = (cut_data, "QL-E-FILE-TRUNCATED", "output_norm.weight")
    bad_magic = valid("bad_magic")
    patch(bad_magic, 0, b"GGUX")
    cases["bad_magic"] = (bad_magic, "QL-E-FILE-NOT-GGUF", "GGUX")
    for version in (1, 99, 3 << 24):
        versioned = valid(f"version_{version}")
        patch(versioned, 4, struct.pack("<I", version))
        cases[f"version_{version}"] = (versioned, "QL-E-FILE-VERSION", "version" if version != 3 << 24 else "big-endian")
    huge_tensors = valid("huge_tensor_count")
    patch(huge_tensors, 8, struct.pack("<Q", 1 << 60))
    cases["absurd_tensor_count"] = (huge_tensors, "QL-E-FILE-CORRUPT", str(1 << 60))
    huge_kv = valid("huge_kv_count")
    patch(huge_kv, 16, struct.pack("<Q", (1 << 64) - 1))
    cases["absurd_kv_count"] = (huge_kv, "QL-E-FILE-CORRUPT", str((1 << 64) - 1))
    long_key = valid("long_key")
    patch(long_key, kv_field_offset(long_key, "llama.block_count"), struct.pack("<Q", 1 << 40))
    cases["absurd_key_length"] = (long_key, "QL-E-FILE-CORRUPT", str(1 << 40))
    long_array = valid("long_array")
    tokens_at = kv_field_offset(long_array, "tokenizer.ggml.tokens") + 8 + len("tokenizer.ggml.tokens") + 4 + 4
    patch(long_array, tokens_at, struct.pack("<Q", 1 << 59))  # key len | key | type u32 | elem type u32 | LENGTH
    cases["absurd_array_length"] = (long_array, "QL-E-FILE-CORRUPT", "tokenizer.ggml.tokens")
    past_end = valid("past_end")
    patch(past_end, tensor_field_offsets(past_end, 1)[1], struct.pack("<Q", 1 << 20))
    cases["tensor_past_end"] = (past_end, "QL-E-FILE-TRUNCATED", "blk.0.attn_q.weight")
    overlap = valid("overlap")
    patch(overlap, tensor_field_offsets(overlap, 1)[1], struct.pack("<Q", 32))  # into token_embd's bytes 0..640
    cases["overlapping_tensors"] = (overlap, "QL-E-FILE-CORRUPT", "blk.0.attn_q.weight")
    unknown = valid("unknown_type")
    patch(unknown, tensor_field_offsets(unknown, 1)[0], struct.pack("<I", 200))
    cases["unknown_type_id"] = (unknown, "QL-E-FILE-UNKNOWN-TYPE", "type id 200")
    cases["no_architecture"] = (valid("no_arch", drop_keys=("general.architecture",)), "QL-E-FILE-MISSING-KEY", "general.architecture")
    cases["no_block_count"] = (valid("no_blocks", drop_keys=("llama.block_count",)), "QL-E-FILE-MISSING-KEY", "llama.block_count")
    folder = tmp / "a_folder.gguf"
    folder.mkdir()
    cases["directory"] = (folder, "QL-E-FILE-UNREADABLE", "folder")
    cases["missing_path"] = (tmp / "does_not_exist.gguf", "QL-E-FILE-NOT-FOUND", "does_not_exist.gguf")
    return cases


def rewrite_gguf(src: Path, dst: Path, changes: dict[str, tuple | None]) -> Path:
    """A copy of ``src`` (read with gguf.GGUFReader) whose metadata has ``changes`` applied:
    key -> (value, GGUFValueType[, element type]) written as given (any type, even a wrong
    one), or None to drop the key. Tensor descriptions and data are copied byte for byte."""
    reader = gguf.GGUFReader(str(src))
    writer = gguf.GGUFWriter(str(dst), "llama")
    writer.kv_data[0].clear()  # the architecture it adds comes back from the source below
    for key, field in reader.fields.items():
        if key.startswith("GGUF.") or key in changes:
            continue
        value_type = gguf.GGUFValueType(field.types[0])
        sub_type = gguf.GGUFValueType(field.types[-1]) if value_type == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(key, field.contents(), value_type, sub_type=sub_type)
    for key, change in changes.items():
        if change is not None:
            writer.add_key_value(key, *change)
    raw = src.read_bytes()
    for tensor in reader.tensors:
        n_rows = int(np.prod(tensor.shape[1:]))  # GGUF dims [ne0, ne1, ...]: rows = product past ne0
        byte_shape = (*reversed([int(d) for d in tensor.shape[1:]]), int(tensor.n_bytes) // n_rows)  # NumPy order, bytes last
        writer.add_tensor_info(tensor.name, byte_shape, np.dtype(np.uint8), int(tensor.n_bytes), raw_dtype=tensor.tensor_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for tensor in reader.tensors:
        start = int(tensor.data_offset)
        writer.write_tensor_data(np.frombuffer(raw[start : start + int(tensor.n_bytes)], dtype=np.uint8))  # (n_bytes,) raw blocks
    writer.close()
    return dst
