"""Write synthetic llama-family GGUF models of any shape and any quant type.

Tensors are named and shaped exactly as llama.cpp expects (GGUF dims, ne0 first):
  token_embd.weight [n_embd, vocab]        output_norm.weight [n_embd]   output.weight [n_embd, vocab]
  blk.N.attn_norm.weight [n_embd]          blk.N.ffn_norm.weight [n_embd]
  blk.N.attn_q.weight [n_embd, n_embd]     blk.N.attn_k/v.weight [n_embd, n_embd_kv]
  blk.N.attn_output.weight [n_embd, n_embd]
  blk.N.ffn_gate/up.weight [n_embd, n_ff]  blk.N.ffn_down.weight [n_ff, n_embd]
  (qwen2 / NeoX rope only) blk.N.attn_q/k/v.bias [n_embd] / [n_embd_kv]
Weights are normal with std 1/sqrt(row length), quantized by ``engine.quant.blocks``;
norms are F32 near 1. Data is streamed tensor by tensor, so memory stays bounded.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import gguf
import numpy as np

from engine.file_types import file_type_for_weight_type
from engine.model_file_errors import unreadable
from engine.quant.blocks import quantize_floats
from engine.quant.table import by_name
from engine.synth_spec import SynthSpec
from engine.synth_vocab import SynthVocab, build_vocab


@dataclass(frozen=True)
class PlannedTensor:
    name: str
    role: str  # matrix role, "norm" or "bias"
    type_name: str
    shape: tuple[int, ...]  # GGUF dims: shape[0] is the row length (ne0)

    @property
    def n_bytes(self) -> int:
        elements = int(np.prod(self.shape))
        return by_name(self.type_name).tensor_bytes(elements)


def plan_tensors(spec: SynthSpec) -> tuple[PlannedTensor, ...]:
    """Every tensor of the model, in file order."""
    def matrix(name: str, role: str, ne0: int, ne1: int) -> PlannedTensor:
        return PlannedTensor(name, role, spec.type_for(role), (ne0, ne1))

    def vector(name: str, role: str, length: int) -> PlannedTensor:
        return PlannedTensor(name, role, "F32", (length,))

    planned = [matrix("token_embd.weight", "token_embd", spec.n_embd, spec.vocab_size)]
    for layer in range(spec.n_layers):
        blk = f"blk.{layer}"
        planned += [
            vector(f"{blk}.attn_norm.weight", "norm", spec.n_embd),
            matrix(f"{blk}.attn_q.weight", "attn_q", spec.n_embd, spec.n_embd),
            matrix(f"{blk}.attn_k.weight", "attn_k", spec.n_embd, spec.n_embd_kv),
            matrix(f"{blk}.attn_v.weight", "attn_v", spec.n_embd, spec.n_embd_kv),
        ]
        if spec.architecture == "qwen2":
            planned += [
                vector(f"{blk}.attn_q.bias", "bias", spec.n_embd),
                vector(f"{blk}.attn_k.bias", "bias", spec.n_embd_kv),
                vector(f"{blk}.attn_v.bias", "bias", spec.n_embd_kv),
            ]
        planned += [
            matrix(f"{blk}.attn_output.weight", "attn_output", spec.n_embd, spec.n_embd),
            vector(f"{blk}.ffn_norm.weight", "norm", spec.n_embd),
            matrix(f"{blk}.ffn_gate.weight", "ffn_gate", spec.n_embd, spec.n_ff),
            matrix(f"{blk}.ffn_up.weight", "ffn_up", spec.n_embd, spec.n_ff),
            matrix(f"{blk}.ffn_down.weight", "ffn_down", spec.n_ff, spec.n_embd),
        ]
    planned.append(vector("output_norm.weight", "norm", spec.n_embd))
    if not spec.tied_output:
        planned.append(matrix("output.weight", "output", spec.n_embd, spec.vocab_size))
    return tuple(planned)


def tensor_values(tensor: PlannedTensor, rng: np.random.Generator) -> np.ndarray:
    """Float32 values, (ne1, ne0) for matrices or (ne0,) for vectors."""
    if tensor.role == "norm":
        return (1.0 + 0.1 * rng.standard_normal(tensor.shape[0])).astype(np.float32)  # (n,)
    if tensor.role == "bias":
        return (0.02 * rng.standard_normal(tensor.shape[0])).astype(np.float32)  # (n,)
    ne0, ne1 = tensor.shape
    std = 1.0 / np.sqrt(ne0)
    return rng.standard_normal((ne1, ne0), dtype=np.float32) * np.float32(std)  # (rows=ne1, K=ne0)


def tensor_bytes(tensor: PlannedTensor, values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The stored bytes: uint8 (rows, bytes per row) for every type (F32 included)."""
    rows = values.reshape(-1, tensor.shape[0])  # (ne1 or 1, ne0)
    return quantize_floats(tensor.type_name, rows, rng)  # (rows, ne0 // block_elems * block_bytes)


def synth_tensors(spec: SynthSpec, rng_seed: int = 0) -> Iterator[tuple[PlannedTensor, np.ndarray, np.ndarray]]:
    """(tensor, float values, stored bytes) in file order; the same seed gives the same bytes."""
    rng = np.random.default_rng(rng_seed)
    for tensor in plan_tensors(spec):
        values = tensor_values(tensor, rng)
        yield tensor, values, tensor_bytes(tensor, values, rng)


def write_synthetic_model(path: str | Path, spec: SynthSpec, rng_seed: int = 0) -> Path:
    """Write ``spec`` as a GGUF file at ``path``; returns the path. Raises QL-E-SYNTH-SPEC on a bad spec."""
    spec.validate()
    out = Path(path)
    vocab = build_vocab(spec.tokenizer, spec.vocab_size, with_chat=spec.chat_template is not None)
    writer = gguf.GGUFWriter(str(out), spec.architecture)
    _add_model_keys(writer, spec)
    add_vocab_keys(writer, vocab, spec.chat_template)
    planned = plan_tensors(spec)
    for tensor in planned:
        writer.add_tensor_info(tensor.name, _byte_shape(tensor), np.dtype(np.uint8), tensor.n_bytes,
                               raw_dtype=by_name(tensor.type_name).ggml_type)
    try:
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_ti_data_to_file()
        for _tensor, _values, data in synth_tensors(spec, rng_seed):
            writer.write_tensor_data(np.ascontiguousarray(data).reshape(-1))  # (n_bytes,) uint8
    except OSError as exc:
        raise unreadable(str(out), f"cannot write: {exc.strerror or exc}") from None
    finally:
        writer.close()
    return out


def _byte_shape(tensor: PlannedTensor) -> tuple[int, ...]:
    """GGUFWriter's byte shape (NumPy order, last axis in bytes): (n_bytes,) or (ne1, bytes per row)."""
    if len(tensor.shape) == 1:
        return (tensor.n_bytes,)  # 1-D: GGUF dims [ne0]
    return (tensor.shape[1], tensor.n_bytes // tensor.shape[1])  # (rows = ne1, bytes per row)


def _add_model_keys(writer: gguf.GGUFWriter, spec: SynthSpec) -> None:
    writer.add_name(spec.name)
    writer.add_block_count(spec.n_layers)
    writer.add_embedding_length(spec.n_embd)
    writer.add_head_count(spec.n_head)
    writer.add_head_count_kv(spec.n_head_kv)
    writer.add_feed_forward_length(spec.n_ff)
    writer.add_context_length(spec.n_ctx_train)
    writer.add_layer_norm_rms_eps(spec.norm_eps)
    writer.add_rope_freq_base(spec.rope_base)
    writer.add_rope_dimension_count(spec.head_dim)
    writer.add_vocab_size(spec.vocab_size)
    file_type = spec.file_type if spec.file_type is not None else file_type_for_weight_type(spec.weight_type)
    if file_type is not None:
        writer.add_file_type(file_type)


def add_vocab_keys(writer: gguf.GGUFWriter, vocab: SynthVocab, chat_template: str | None, *,
                   model: str | None = None, pre: str | None = None) -> None:
    """Write the tokenizer.* keys of ``vocab`` (``model``/``pre`` override the vocabulary's names)."""
    writer.add_tokenizer_model(model or vocab.model)
    writer.add_tokenizer_pre(pre if pre is not None else vocab.pre)
    writer.add_token_list(list(vocab.tokens))
    writer.add_token_types(list(vocab.token_types))
    if vocab.scores:
        writer.add_token_scores(list(vocab.scores))
    if vocab.merges:
        writer.add_token_merges(list(vocab.merges))
    writer.add_bos_token_id(vocab.bos_id)
    writer.add_eos_token_id(vocab.eos_id)
    if vocab.unk_id is not None:
        writer.add_unk_token_id(vocab.unk_id)
    writer.add_add_bos_token(vocab.add_bos)
    if chat_template is not None:
        writer.add_chat_template(chat_template)


__all__ = ["SynthSpec", "add_vocab_keys", "plan_tensors", "synth_tensors", "write_synthetic_model"]
