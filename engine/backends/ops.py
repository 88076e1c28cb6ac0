"""The small op interface a backend implements; the llama forward pass is written once
against it (engine/model/forward.py).

Arrays are backend arrays (NumPy on the CPU, CuPy on a GPU), always 2-D ``(T, width)``
float32 where T is the number of tokens in the step. Weights are handed to a backend as
:class:`RawTensor` (quantized bytes straight from the file); the backend decides how to
store them (dequantized float32 on the CPU, quantized on the GPU).

The outputs of ``rms_norm``, ``attend`` and ``swiglu`` are only ever passed on to ``linear``,
so a backend may return its own handle there (the CUDA backend returns the rows with their
q8_1 form). Optional fused ops, used by engine/model/forward.py when a backend has them:
``linear_add_(x, act, weight)`` (x += linear(act, weight) in place: the residual add done by
the mat-vec itself) and
``attend_qkv(qkv, cfg, cache, layer, pos)`` (rope + KV store + attention on [q | k | v]).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from engine.model.config import LlamaConfig, RopeParams


@dataclass(frozen=True)
class RawTensor:
    name: str  # e.g. "blk.0.attn_q.weight"
    type_name: str  # quant table name
    shape: tuple[int, ...]  # (rows, row_len) for matrices, (n,) for vectors: C order, not GGUF order
    data: np.ndarray  # uint8 view of the tensor's bytes (memory-mapped)


class Ops(Protocol):
    """What a backend provides to run blocks of the llama graph."""

    def upload(self, host: np.ndarray) -> Any: ...  # (T, n) float32 host -> backend array

    def download(self, x: Any) -> np.ndarray: ...  # backend array -> float32 host

    def load_vector(self, tensor: RawTensor) -> Any: ...  # (n,) float32

    def load_linear(self, tensors: tuple[RawTensor, ...]) -> Any: ...  # rows concatenated

    def new_cache(self, cfg: LlamaConfig, n_layers: int, n_ctx: int) -> Any: ...

    def positions(self, start_pos: int, n_tokens: int) -> Any: ...  # backend position handle

    def rms_norm(self, x: Any, weight: Any, eps: float) -> Any: ...  # (T, n) -> (T, n)

    def linear(self, x: Any, weight: Any) -> Any: ...  # (T, row_len) -> (T, rows)

    def rope(self, x: Any, n_heads: int, head_dim: int, pos: Any, rope: RopeParams) -> Any: ...

    def attend(self, q: Any, k: Any, v: Any, cache: Any, layer: int, pos: Any) -> Any: ...

    def swiglu(self, gate_up: Any, n_ff: int) -> Any: ...  # (T, 2*n_ff) -> (T, n_ff)

    def add_(self, x: Any, y: Any) -> Any: ...  # x += y, returns x
