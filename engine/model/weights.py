"""Raw tensor bytes from a GGUF file (memory-mapped), by name, validated against the config."""

from __future__ import annotations

import numpy as np

from engine.backends.ops import RawTensor
from engine.diagnostics import DiagnosticError, Remedy, error
from engine.model.config import ArchPreset, LlamaConfig
from engine.model_info import ModelInfo, TensorInfo
from engine.quant.dequant import dequantize
from engine.quant.table import by_name


def _bad_tensor(info: ModelInfo, name: str, why: str) -> DiagnosticError:
    return DiagnosticError(
        error(
            "QL-E-MODEL-TENSOR",
            f"The model file has a bad or missing tensor: {name}",
            f"{why}. The file may be truncated, damaged or made for another architecture.",
            Remedy("choose_other_file", "Choose another model file"),
            path=info.path,
            tensor=name,
        )
    )


def expected_shapes(cfg: LlamaConfig) -> dict[str, tuple[int, ...]]:
    """Per-block tensor name -> (rows, row_len) (or (n,) for norms)."""
    return {
        "attn_norm": (cfg.n_embd,),
        "attn_q": (cfg.q_width, cfg.n_embd),
        "attn_k": (cfg.kv_width, cfg.n_embd),
        "attn_v": (cfg.kv_width, cfg.n_embd),
        "attn_output": (cfg.n_embd, cfg.q_width),
        "ffn_norm": (cfg.n_embd,),
        "ffn_gate": (cfg.n_ff, cfg.n_embd),
        "ffn_up": (cfg.n_ff, cfg.n_embd),
        "ffn_down": (cfg.n_embd, cfg.n_ff),
    }


def _squeezed(shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(d for d in shape if d != 1)


class WeightFile:
    """Named raw tensors of one model file; shapes in C order (rows, row_len)."""

    def __init__(self, info: ModelInfo):
        self.info = info
        self._by_name: dict[str, TensorInfo] = {t.name: t for t in info.tensors}
        self._map = np.memmap(info.path, dtype=np.uint8, mode="r")  # (file_size,)

    def has(self, name: str) -> bool:
        return name in self._by_name

    def get(self, name: str, shape: tuple[int, ...]) -> RawTensor:
        tensor = self._by_name.get(name)
        if tensor is None:
            raise _bad_tensor(self.info, name, "it is missing")
        c_shape = tuple(reversed(tensor.shape))  # GGUF ne0-first -> C order (rows, row_len)
        if _squeezed(c_shape) != _squeezed(shape):
            raise _bad_tensor(self.info, name, f"its shape is {c_shape}, expected {shape}")
        end = tensor.offset + tensor.n_bytes
        if end > self._map.shape[0]:
            raise _bad_tensor(self.info, name, "its data runs past the end of the file")
        data = self._map[tensor.offset : end]  # (n_bytes,) uint8: the tensor's blocks
        return RawTensor(name, tensor.type_name, shape, data)

    def block(self, preset: ArchPreset, cfg: LlamaConfig, layer: int) -> dict[str, RawTensor]:
        shapes = expected_shapes(cfg)
        return {n: self.get(f"blk.{layer}.{n}.weight", shapes[n]) for n in preset.layer_tensors}

    def close(self) -> None:
        self._map = None


class EmbeddingTable:
    """Token embedding of any stored type; only the looked-up rows are dequantized."""

    def __init__(self, raw: RawTensor):
        rows, row_len = raw.shape
        self.raw = raw
        self.row_len = row_len
        self.row_bytes = by_name(raw.type_name).tensor_bytes(row_len)  # bytes of one row's blocks

    def lookup(self, tokens: np.ndarray) -> np.ndarray:
        """(T,) token ids -> (T, n_embd) float32, dequantizing only those rows."""
        table = self.raw.data.reshape(-1, self.row_bytes)  # (vocab, row_bytes): one row's blocks each
        rows = np.ascontiguousarray(table[np.asarray(tokens, dtype=np.int64)])  # (T, row_bytes)
        return dequantize(self.raw.type_name, rows, (len(tokens), self.row_len))  # (T, n_embd)
