"""The llama block, written once against the op interface (engine/backends/ops.py).

A :class:`Segment` is a contiguous range of blocks on one backend (the CPU, or one
device with its kernel path), with its share of the KV cache. The model chains segments.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.backends.ops import Ops, RawTensor
from engine.model.config import LlamaConfig


@dataclass(frozen=True)
class BlockWeights:
    attn_norm: Any  # (n_embd,)
    qkv: Any  # rows: q_width + 2 * kv_width, row_len n_embd (or a tuple of three when not fusable)
    attn_output: Any  # (n_embd, q_width)
    ffn_norm: Any  # (n_embd,)
    gate_up: Any  # rows: 2 * n_ff, row_len n_embd (or a tuple of two)
    ffn_down: Any  # (n_embd, n_ff)


def _fusable(tensors: tuple[RawTensor, ...]) -> bool:
    return len({t.type_name for t in tensors}) == 1


def load_block(ops: Ops, raw: dict[str, RawTensor]) -> BlockWeights:
    """Hand one block's raw tensors to the backend; same-typed q/k/v and gate/up are fused."""

    def linear_group(names: tuple[str, ...]) -> Any:
        tensors = tuple(raw[n] for n in names)
        if _fusable(tensors):
            return ops.load_linear(tensors)
        return tuple(ops.load_linear((t,)) for t in tensors)

    return BlockWeights(
        attn_norm=ops.load_vector(raw["attn_norm"]),
        qkv=linear_group(("attn_q", "attn_k", "attn_v")),
        attn_output=ops.load_linear((raw["attn_output"],)),
        ffn_norm=ops.load_vector(raw["ffn_norm"]),
        gate_up=linear_group(("ffn_gate", "ffn_up")),
        ffn_down=ops.load_linear((raw["ffn_down"],)),
    )


def _add_linear(ops: Ops, x: Any, act: Any, weight: Any) -> Any:
    """x += act @ W^T in place (the residual add); one fused op where the backend has it."""
    fused = getattr(ops, "linear_add_", None)
    if fused is not None:
        return fused(x, act, weight)
    return ops.add_(x, ops.linear(act, weight))


def _self_attention(ops: Ops, cfg: LlamaConfig, w: BlockWeights, h: Any, cache: Any, layer: int, pos: Any) -> Any:
    """Q/K/V projections, rope, KV store and attention of the normed input h: (T, q_width)."""
    if isinstance(w.qkv, tuple):
        q, k, v = (ops.linear(h, wt) for wt in w.qkv)
        q = ops.rope(q, cfg.n_head, cfg.head_dim, pos, cfg.rope)  # (T, n_head * head_dim)
        k = ops.rope(k, cfg.n_head_kv, cfg.head_dim, pos, cfg.rope)  # (T, n_head_kv * head_dim)
        return ops.attend(q, k, v, cache, layer, pos)
    qkv = ops.linear(h, w.qkv)  # (T, q_width + 2 * kv_width): [q | k | v]
    fused = getattr(ops, "attend_qkv", None)  # rope + KV store + attention in fewer launches
    if fused is not None:
        return fused(qkv, cfg, cache, layer, pos)
    qk_width = cfg.q_width + cfg.kv_width
    qk = ops.rope(qkv[:, :qk_width], cfg.n_head + cfg.n_head_kv, cfg.head_dim, pos, cfg.rope)  # q, k heads
    q, k = qk[:, : cfg.q_width], qk[:, cfg.q_width :]  # (T, q_width), (T, kv_width)
    return ops.attend(q, k, qkv[:, qk_width:], cache, layer, pos)  # v: (T, kv_width)


def block_forward(ops: Ops, cfg: LlamaConfig, w: BlockWeights, x: Any, cache: Any, layer: int, pos: Any) -> Any:
    """One llama block on ``x`` (T, n_embd), in place; ``layer`` indexes the segment's cache."""
    h = ops.rms_norm(x, w.attn_norm, cfg.norm_eps)  # (T, n_embd)
    attn = _self_attention(ops, cfg, w, h, cache, layer, pos)  # (T, n_head * head_dim)
    _add_linear(ops, x, attn, w.attn_output)  # x += attention output
    h = ops.rms_norm(x, w.ffn_norm, cfg.norm_eps)
    if isinstance(w.gate_up, tuple):
        gate_up = tuple(ops.linear(h, wt) for wt in w.gate_up)  # (gate, up), (T, n_ff) each
    else:
        gate_up = ops.linear(h, w.gate_up)  # (T, 2 * n_ff): [gate | up]
    return _add_linear(ops, x, ops.swiglu(gate_up, cfg.n_ff), w.ffn_down)  # x += feed-forward output


class Segment:
    """Blocks [start, end) on one backend, with their KV cache; the last one also owns the
    ``tail`` (final norm + output head)."""

    def __init__(self, ops: Ops, cfg: LlamaConfig, layers: tuple[int, int], n_ctx: int):
        self.ops = ops
        self.cfg = cfg
        self.layers = layers
        self.n_ctx = n_ctx
        self.blocks: list[BlockWeights] = []
        self.cache = ops.new_cache(cfg, layers[1] - layers[0], n_ctx)
        self.tail: Callable[[Any], Any] | None = None

    def add_block(self, raw: dict[str, RawTensor]) -> None:
        self.blocks.append(load_block(self.ops, raw))

    def run_blocks(self, x: Any, pos: Any) -> Any:
        for index, block in enumerate(self.blocks):
            x = block_forward(self.ops, self.cfg, block, x, self.cache, index, pos)
        return x

    def run(self, x: Any, start_pos: int, *, with_tail: bool = False, last_only: bool = False) -> Any:
        """This segment's blocks on ``x`` (T, n_embd), then the tail if asked (T or 1, n_vocab)."""
        pos = self.ops.positions(start_pos, x.shape[0])
        x = self.run_blocks(x, pos)
        if with_tail and self.tail is not None:
            x = self.tail(x[-1:] if last_only else x)  # (1 or T, n_embd) -> (.., n_vocab)
        return x

    def reset(self) -> None:
        """Nothing to clear: attention reads only the positions written since start_pos 0."""

    def close(self) -> None:
        self.blocks = []
        self.cache = None
