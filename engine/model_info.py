"""What inspection learns about a GGUF model: pure, frozen data (no I/O here).

Produced by ``engine.model_file.inspect_model``; consumed by the planner, the runtime,
the CLI and the launcher.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Hyperparams:
    n_layers: int
    n_embd: int  # embedding width
    n_head: int
    n_head_kv: int
    head_dim: int
    n_ff: int  # feed-forward width
    n_ctx_train: int  # trained context length
    vocab_size: int
    norm_eps: float
    rope_base: float = 10000.0
    rope_scale: float = 1.0  # linear scaling factor (1.0 = none)
    rope_type: str = "normal"  # "normal" (llama) | "neox"
    rope_dim: int = 0  # rotated dims per head (0 = head_dim)


@dataclass(frozen=True)
class TensorInfo:
    name: str  # e.g. "blk.0.attn_q.weight"
    type_name: str  # quant table name, e.g. "Q4_K"
    shape: tuple[int, ...]  # GGUF order: shape[0] is the row length (ne0)
    n_elements: int
    n_bytes: int
    offset: int  # absolute byte offset of the data in the file

    @property
    def layer(self) -> int | None:
        """Block index for "blk.N.*" tensors, else None."""
        parts = self.name.split(".")
        if len(parts) > 2 and parts[0] == "blk" and parts[1].isdigit():
            return int(parts[1])
        return None


@dataclass(frozen=True)
class CensusEntry:
    type_name: str
    count: int
    n_bytes: int
    n_elements: int


@dataclass(frozen=True)
class ModelInfo:
    path: str
    file_size: int
    architecture: str  # general.architecture, e.g. "llama"
    name: str  # general.name, or the file stem
    file_type: str  # e.g. "Q4_K_M", "IQ3_M" (from general.file_type), or "unknown"
    hparams: Hyperparams | None  # None when the architecture's keys are missing
    tokenizer_model: str  # tokenizer.ggml.model, e.g. "gpt2", "llama"
    tokenizer_pre: str  # tokenizer.ggml.pre, e.g. "smollm", "" if absent
    bos_token_id: int | None
    eos_token_id: int | None
    add_bos: bool
    has_chat_template: bool
    tensors: tuple[TensorInfo, ...]
    census: tuple[CensusEntry, ...]  # sorted by bytes, descending
    metadata: dict[str, Any] = field(default_factory=dict)  # scalar metadata (arrays summarised)

    @property
    def total_tensor_bytes(self) -> int:
        return sum(t.n_bytes for t in self.tensors)

    def layer_bytes(self, layer: int) -> int:
        return sum(t.n_bytes for t in self.tensors if t.layer == layer)

    def non_layer_bytes(self) -> int:
        return sum(t.n_bytes for t in self.tensors if t.layer is None)

    def type_names(self) -> tuple[str, ...]:
        return tuple(e.type_name for e in self.census)
