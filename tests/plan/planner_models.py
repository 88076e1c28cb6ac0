"""Synthetic ModelInfo builders for planner tests: a realistic llama-shaped tensor census for a
given shape and quant mix (no file involved)."""

from __future__ import annotations

from collections import defaultdict

from engine.model_info import CensusEntry, Hyperparams, ModelInfo, TensorInfo
from engine.quant.table import by_name

# Which type each tensor role gets, per file type (like llama.cpp's mixes, simplified).
MIXES = {
    "IQ1_S": {"attn_q": "IQ1_S", "attn_k": "IQ1_S", "attn_v": "Q4_K", "attn_output": "IQ2_XXS",
              "ffn_gate": "IQ1_S", "ffn_up": "IQ1_S", "ffn_down": "IQ2_XS", "token_embd": "Q2_K", "output": "Q6_K"},
    "IQ3_M": {"attn_q": "IQ3_S", "attn_k": "IQ3_S", "attn_v": "IQ4_NL", "attn_output": "IQ4_NL",
              "ffn_gate": "IQ3_S", "ffn_up": "IQ3_S", "ffn_down": "IQ4_XS", "token_embd": "IQ3_S", "output": "Q6_K"},
    "Q4_K_M": {"attn_q": "Q4_K", "attn_k": "Q4_K", "attn_v": "Q6_K", "attn_output": "Q4_K",
               "ffn_gate": "Q4_K", "ffn_up": "Q4_K", "ffn_down": "Q6_K", "token_embd": "Q4_K", "output": "Q6_K"},
    "Q8_0": dict.fromkeys(("attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down",
                           "token_embd", "output"), "Q8_0"),
    "F16": dict.fromkeys(("attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down",
                          "token_embd", "output"), "F16"),
}

SHAPES = {  # n_layers, n_embd, n_head, n_head_kv, n_ff, vocab, n_ctx_train
    "tiny": (4, 256, 4, 2, 512, 1024, 2048),
    "1b": (16, 2048, 32, 8, 8192, 128256, 131072),
    "8b": (32, 4096, 32, 8, 14336, 128256, 8192),
    "70b": (80, 8192, 64, 8, 28672, 128256, 8192),
}


def _tensor(name: str, type_name: str, shape: tuple[int, ...], offset: int) -> TensorInfo:
    n = 1
    for dim in shape:
        n *= dim
    return TensorInfo(name, type_name, shape, n, by_name(type_name).tensor_bytes(n), offset)


def _layer_shapes(hp: Hyperparams) -> dict[str, tuple[int, int]]:
    kv_width = hp.n_head_kv * hp.head_dim
    return {  # GGUF order: (row length, rows)
        "attn_q": (hp.n_embd, hp.n_embd), "attn_k": (hp.n_embd, kv_width), "attn_v": (hp.n_embd, kv_width),
        "attn_output": (hp.n_embd, hp.n_embd), "ffn_gate": (hp.n_embd, hp.n_ff),
        "ffn_up": (hp.n_embd, hp.n_ff), "ffn_down": (hp.n_ff, hp.n_embd),
    }


def make_model(file_type: str = "Q4_K_M", shape: str = "8b", architecture: str = "llama",
               overrides: dict[str, str] | None = None, with_hparams: bool = True) -> ModelInfo:
    n_layers, n_embd, n_head, n_head_kv, n_ff, vocab, n_ctx = SHAPES[shape]
    hp = Hyperparams(n_layers, n_embd, n_head, n_head_kv, n_embd // n_head, n_ff, n_ctx, vocab, 1e-5)
    mix = {**MIXES[file_type], **(overrides or {})}
    tensors, offset = [], 0

    def add(name, type_name, dims):
        nonlocal offset
        tensors.append(_tensor(name, type_name, dims, offset))
        offset += tensors[-1].n_bytes

    add("token_embd.weight", mix["token_embd"], (n_embd, vocab))
    for layer in range(n_layers):
        add(f"blk.{layer}.attn_norm.weight", "F32", (n_embd,))
        for role, dims in _layer_shapes(hp).items():
            add(f"blk.{layer}.{role}.weight", mix[role], dims)
        add(f"blk.{layer}.ffn_norm.weight", "F32", (n_embd,))
    add("output_norm.weight", "F32", (n_embd,))
    add("output.weight", mix["output"], (n_embd, vocab))
    return _model(file_type, architecture, hp if with_hparams else None, tuple(tensors), offset)


def _model(file_type, architecture, hp, tensors, size) -> ModelInfo:
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for t in tensors:
        entry = sums[t.type_name]
        entry[0], entry[1], entry[2] = entry[0] + 1, entry[1] + t.n_bytes, entry[2] + t.n_elements
    census = tuple(sorted((CensusEntry(k, *v) for k, v in sums.items()), key=lambda e: -e.n_bytes))
    return ModelInfo(
        path=f"/synthetic/{file_type}.gguf", file_size=size + 4096, architecture=architecture,
        name=f"synthetic {file_type}", file_type=file_type, hparams=hp, tokenizer_model="gpt2",
        tokenizer_pre="", bos_token_id=1, eos_token_id=2, add_bos=True, has_chat_template=False,
        tensors=tensors, census=census,
    )
