"""Per-architecture configuration: a table of frozen presets + the config read from GGUF.

Dispatch is on ``general.architecture`` (parsed metadata), never on a file name. Adding an
architecture that shares the llama graph = one row in :data:`ARCH_PRESETS`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType

from engine.diagnostics import DiagnosticError, Remedy, error
from engine.model_info import Hyperparams, ModelInfo

LAYER_TENSORS = (
    "attn_norm",
    "attn_q",
    "attn_k",
    "attn_v",
    "attn_output",
    "ffn_norm",
    "ffn_gate",
    "ffn_up",
    "ffn_down",
)


@dataclass(frozen=True)
class ArchPreset:
    name: str  # general.architecture value
    rope_type: str  # "normal" (adjacent pairs, GGUF-permuted Q/K) | "neox" (halves)
    layer_tensors: tuple[str, ...] = LAYER_TENSORS  # "blk.N.<name>.weight"


def _index(presets: tuple[ArchPreset, ...]) -> MappingProxyType:
    table: dict[str, ArchPreset] = {}
    for preset in presets:
        if preset.name in table:
            raise ValueError(f"architecture table: duplicate preset {preset.name}")
        table[preset.name] = preset
    return MappingProxyType(table)


# llama and mistral share the graph and the tensor names in GGUF.
ARCH_PRESETS: MappingProxyType = _index((ArchPreset("llama", "normal"), ArchPreset("mistral", "normal")))


@dataclass(frozen=True)
class RopeParams:
    base: float
    scale: float  # linear scaling: positions are divided by it
    dim: int  # rotated dims per head (<= head_dim)
    neox: bool  # True: pairs (i, i + dim/2); False: pairs (2i, 2i + 1)


@dataclass(frozen=True)
class LlamaConfig:
    arch: str
    n_layers: int
    n_embd: int
    n_head: int
    n_head_kv: int
    head_dim: int
    n_ff: int
    n_vocab: int
    norm_eps: float
    rope: RopeParams

    @property
    def q_width(self) -> int:
        return self.n_head * self.head_dim

    @property
    def kv_width(self) -> int:
        return self.n_head_kv * self.head_dim


def _bad_model(info: ModelInfo, why: str) -> DiagnosticError:
    return DiagnosticError(
        error(
            "QL-E-MODEL-HPARAMS",
            "The model's settings are incomplete or inconsistent",
            f"{why}. The file may be damaged or made by an incompatible converter.",
            Remedy("choose_other_file", "Choose another model file"),
            path=info.path,
        )
    )


def preset_for(info: ModelInfo) -> ArchPreset:
    """The preset for the file's architecture, or a diagnostic naming the supported ones."""
    preset = ARCH_PRESETS.get(info.architecture)
    if preset is None:
        supported = ", ".join(ARCH_PRESETS)
        raise DiagnosticError(
            error(
                "QL-E-ARCH",
                f"not supported yet: {info.architecture} (supported: {supported})",
                f"This model uses the '{info.architecture}' architecture, which this version of "
                f"QuantLaunch cannot run yet. Supported architectures: {supported}.",
                Remedy("choose_other_file", "Choose another model file"),
                architecture=info.architecture,
                path=info.path,
            )
        )
    return preset


def _positive_finite(value: float) -> bool:
    return math.isfinite(value) and value > 0


def config_for(info: ModelInfo) -> LlamaConfig:
    """The runtime config from GGUF metadata; raises DiagnosticError before any weight is read."""
    preset = preset_for(info)
    hp: Hyperparams | None = info.hparams
    if hp is None:
        raise _bad_model(info, f"the '{info.architecture}' hyperparameters are missing")
    rope_dim = hp.rope_dim or hp.head_dim
    arch = info.architecture
    checks = (
        (hp.n_layers > 0 and hp.n_embd > 0 and hp.n_ff > 0 and hp.vocab_size > 0,
         f"a size is zero or missing: {hp.n_layers} layers, width {hp.n_embd}, feed-forward width {hp.n_ff} "
         f"({arch}.feed_forward_length), vocabulary {hp.vocab_size}"),
        (hp.n_head > 0 and hp.n_head_kv > 0 and hp.n_head % hp.n_head_kv == 0,
         f"{hp.n_head} attention heads cannot be shared by {hp.n_head_kv} key/value heads"),
        (hp.head_dim > 0 and rope_dim % 2 == 0 and rope_dim <= hp.head_dim,
         f"the head dimension is {hp.head_dim} and the RoPE dimension {rope_dim}; the head dimension must be "
         "positive and the RoPE dimension even and no larger"),
        (_positive_finite(hp.rope_base) and _positive_finite(hp.rope_scale),
         f"the RoPE base {hp.rope_base} or scale {hp.rope_scale} is not a positive finite number"),
        (math.isfinite(hp.norm_eps) and hp.norm_eps >= 0,
         f"the normalization epsilon {hp.norm_eps} is not a finite number >= 0"),
    )
    for ok, why in checks:
        if not ok:
            raise _bad_model(info, why)
    rope_type = hp.rope_type if hp.rope_type in ("normal", "neox") else preset.rope_type
    rope = RopeParams(float(hp.rope_base), float(hp.rope_scale), int(rope_dim), rope_type == "neox")
    return LlamaConfig(
        arch=info.architecture,
        n_layers=hp.n_layers,
        n_embd=hp.n_embd,
        n_head=hp.n_head,
        n_head_kv=hp.n_head_kv,
        head_dim=hp.head_dim,
        n_ff=hp.n_ff,
        n_vocab=hp.vocab_size,
        norm_eps=float(hp.norm_eps),
        rope=rope,
    )
