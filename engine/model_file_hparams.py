"""Hyperparameters from the ``<arch>.*`` metadata keys of a GGUF header.

Known architectures (those in :data:`ROPE_TYPES`, from llama.cpp's ``llama_model_rope_type``)
must carry block_count, embedding_length and attention.head_count: a file without them is
damaged. For an architecture this table does not know, inspection still succeeds: the
hyperparameters are read when the keys are there, else left as None; whether the
architecture can run is for the planner and runtime to say.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from engine import model_file_errors as errs
from engine.model_file_header import STRING_TYPE, ArrayRef
from engine.model_info import Hyperparams

_NORMAL = ("llama", "llama4", "deci", "baichuan", "starcoder", "internlm2", "minicpm", "xverse", "command-r",
           "cohere2", "olmo", "arctic", "deepseek", "deepseek2", "plm", "chatglm", "glm4", "granite",
           "granitemoe", "chameleon", "bailingmoe", "smollm3", "arcee", "ernie4_5", "mistral3", "refact", "mpt")
_NEOX = ("falcon", "grok", "dbrx", "stablelm", "bitnet", "qwen", "qwen2", "qwen2moe", "qwen3", "qwen3moe",
         "olmo2", "olmoe", "phi2", "phi3", "phimoe", "plamo", "gemma", "gemma2", "gemma3", "starcoder2",
         "openelm", "gptneox", "codeshell", "orion", "nemotron", "exaone", "minicpm3", "dots1", "hunyuan-moe")
ROPE_TYPES = MappingProxyType({**{a: "normal" for a in _NORMAL}, **{a: "neox" for a in _NEOX}})
REQUIRED_KEYS = ("block_count", "embedding_length", "attention.head_count")
DEFAULT_CONTEXT = 2048  # when <arch>.context_length is absent (llama.cpp's old default)
MAX_COUNT = 1 << 24  # no real layer count, width, head count or context is near this


def rope_type_for(architecture: str) -> str:
    return ROPE_TYPES.get(architecture, "normal")


def _number(path: str, values: dict[str, Any], key: str, default=None):
    """A scalar, or the largest element of a short per-layer array; ``default`` when absent
    (or a long numeric per-layer array, not decoded here). A string, a boolean or an empty
    array where a number belongs is damage: said plainly, never taken for "absent"."""
    if key not in values:
        return default
    value = values[key]
    if isinstance(value, ArrayRef):
        if value.elem_type == STRING_TYPE:
            raise _not_a_number(path, key, f"an array of {value.length} strings")
        return default
    if isinstance(value, tuple):
        if not value:
            raise _not_a_number(path, key, "an empty array")
        value = max(value)
    if isinstance(value, str):
        raise _not_a_number(path, key, f"the string {value[:40]!r}")  # (<= 40,) characters shown
    if isinstance(value, bool):
        raise _not_a_number(path, key, f"the boolean {value}")
    return value


def _not_a_number(path: str, key: str, what: str):
    return errs.corrupt(path, f"Metadata key {key!r} is {what}; it must be a number.", key=key)


def _positive_int(path: str, values: dict[str, Any], key: str, default: int | None) -> int | None:
    value = _number(path, values, key, default)
    if value is None:
        return None
    if isinstance(value, float) and not value.is_integer() or int(value) < 0 or isinstance(value, bool):
        raise errs.corrupt(path, f"Metadata key {key!r} is {value!r}; it must be a non-negative whole number.", key=key)
    if int(value) > MAX_COUNT:
        raise errs.corrupt(path, f"Metadata key {key!r} is {int(value)}, beyond any real model (limit {MAX_COUNT}).", key=key)
    return int(value)


def hparams_from_metadata(path: str, architecture: str, values: dict[str, Any], vocab_size: int) -> Hyperparams | None:
    """Hyperparameters of ``architecture``; None for an unknown architecture lacking its keys."""
    prefix = f"{architecture}."
    known = architecture in ROPE_TYPES
    missing = [key for key in REQUIRED_KEYS if _number(path, values, prefix + key) is None]
    if missing:
        if known:
            why = f"every {architecture} model needs it to be loaded (its layer count, width and head count)"
            raise errs.missing_key(path, prefix + missing[0], why)
        return None
    n_layers = _positive_int(path, values, prefix + "block_count", None)
    n_embd = _positive_int(path, values, prefix + "embedding_length", None)
    n_head = _positive_int(path, values, prefix + "attention.head_count", None)
    if not n_layers or not n_embd or not n_head:
        raise errs.corrupt(
            path, f"{prefix}block_count, embedding_length and attention.head_count must be positive; "
            f"they are {n_layers}, {n_embd} and {n_head}.", architecture=architecture,
        )
    head_dim = _positive_int(path, values, prefix + "attention.key_length", n_embd // n_head)
    return Hyperparams(
        n_layers=n_layers,
        n_embd=n_embd,
        n_head=n_head,
        n_head_kv=_positive_int(path, values, prefix + "attention.head_count_kv", n_head) or n_head,
        head_dim=head_dim,
        n_ff=_positive_int(path, values, prefix + "feed_forward_length", 0),
        n_ctx_train=_positive_int(path, values, prefix + "context_length", DEFAULT_CONTEXT),
        vocab_size=vocab_size,
        norm_eps=_norm_eps(path, values, prefix),
        rope_base=float(_number(path, values, prefix + "rope.freq_base", 10000.0)),
        rope_scale=_linear_rope_scale(path, values, prefix),
        rope_type=rope_type_for(architecture),
        rope_dim=_positive_int(path, values, prefix + "rope.dimension_count", 0),
    )


def _norm_eps(path: str, values: dict[str, Any], prefix: str) -> float:
    eps = _number(path, values, prefix + "attention.layer_norm_rms_epsilon")
    if eps is None:
        eps = _number(path, values, prefix + "attention.layer_norm_epsilon", 1e-5)
    return float(eps)


def _linear_rope_scale(path: str, values: dict[str, Any], prefix: str) -> float:
    """The linear RoPE scaling factor; 1.0 for none or for other scaling kinds (yarn stays in metadata)."""
    kind = values.get(prefix + "rope.scaling.type", "linear" if prefix + "rope.scaling.factor" in values else "none")
    factor = _number(path, values, prefix + "rope.scaling.factor")
    if factor is None:
        factor = _number(path, values, prefix + "rope.scale_linear")  # older files
    if kind != "linear" or factor is None or float(factor) <= 0:
        return 1.0
    return float(factor)
