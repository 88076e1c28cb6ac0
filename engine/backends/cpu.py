"""The CPU backend (NumPy): weights dequantized to float32 at load; correct first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.backends.ops import RawTensor
from engine.model.config import LlamaConfig, RopeParams
from engine.quant.dequant import dequantize


@dataclass(frozen=True)
class CpuCache:
    k: np.ndarray  # (n_layers, n_ctx, n_head_kv, head_dim) float32
    v: np.ndarray  # (n_layers, n_ctx, n_head_kv, head_dim) float32


def rope_tables(positions: np.ndarray, rope: RopeParams) -> tuple[np.ndarray, np.ndarray]:
    """cos and sin, each (T, rope.dim // 2), for linear-scaled positions."""
    inv_freq = rope.base ** (-np.arange(0, rope.dim, 2, dtype=np.float64) / rope.dim)  # (dim/2,)
    angles = np.outer(positions / rope.scale, inv_freq)  # (T, dim/2)
    return np.cos(angles).astype(np.float32), np.sin(angles).astype(np.float32)


class CpuOps:
    """Implements engine.backends.ops.Ops with NumPy float32."""

    name = "cpu"

    def upload(self, host: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(host, dtype=np.float32)

    def download(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x, dtype=np.float32)

    def load_vector(self, tensor: RawTensor) -> np.ndarray:
        return dequantize(tensor.type_name, tensor.data, tensor.shape).reshape(-1)  # (n,)

    def load_linear(self, tensors: tuple[RawTensor, ...]) -> np.ndarray:
        mats = [dequantize(t.type_name, t.data, t.shape) for t in tensors]  # each (rows, row_len)
        return np.ascontiguousarray(np.concatenate(mats, axis=0).T)  # (row_len, sum rows): x @ w

    def new_cache(self, cfg: LlamaConfig, n_layers: int, n_ctx: int) -> CpuCache:
        shape = (n_layers, n_ctx, cfg.n_head_kv, cfg.head_dim)
        return CpuCache(np.zeros(shape, np.float32), np.zeros(shape, np.float32))

    def positions(self, start_pos: int, n_tokens: int) -> np.ndarray:
        return np.arange(start_pos, start_pos + n_tokens)  # (T,)

    def rms_norm(self, x: np.ndarray, weight: np.ndarray, eps: float) -> np.ndarray:
        mean_sq = np.mean(np.square(x, dtype=np.float32), axis=-1, keepdims=True)  # (T, 1)
        return x / np.sqrt(mean_sq + np.float32(eps)) * weight

    def linear(self, x: np.ndarray, weight: np.ndarray) -> np.ndarray:
        return x @ weight  # (T, row_len) @ (row_len, rows) -> (T, rows)

    def rope(self, x: np.ndarray, n_heads: int, head_dim: int, pos: np.ndarray, rope: RopeParams) -> np.ndarray:
        cos, sin = rope_tables(pos, rope)  # (T, dim/2)
        heads = x.reshape(x.shape[0], n_heads, head_dim).copy()  # (T, H, head_dim)
        if rope.neox:
            half = rope.dim // 2
            a, b = heads[..., :half], heads[..., half : rope.dim]  # (T, H, dim/2) each: halves
        else:
            a, b = heads[..., 0 : rope.dim : 2], heads[..., 1 : rope.dim : 2]  # (T, H, dim/2): even, odd
        c, s = cos[:, None, :], sin[:, None, :]  # (T, 1, dim/2)
        a_rot, b_rot = a * c - b * s, a * s + b * c
        if rope.neox:
            heads[..., :half], heads[..., half : rope.dim] = a_rot, b_rot
        else:
            heads[..., 0 : rope.dim : 2], heads[..., 1 : rope.dim : 2] = a_rot, b_rot
        return heads.reshape(x.shape[0], n_heads * head_dim)  # (T, H * head_dim)

    def attend(self, q, k, v, cache: CpuCache, layer: int, pos: np.ndarray) -> np.ndarray:
        n_tokens = q.shape[0]
        _, _, n_kv_heads, head_dim = cache.k.shape
        first, end = int(pos[0]), int(pos[-1]) + 1
        cache.k[layer, first:end] = k.reshape(n_tokens, n_kv_heads, head_dim)  # (T, Hkv, D)
        cache.v[layer, first:end] = v.reshape(n_tokens, n_kv_heads, head_dim)
        keys, values = cache.k[layer, :end], cache.v[layer, :end]  # (S, Hkv, D) each, S = end
        n_heads = q.shape[1] // head_dim
        group = n_heads // n_kv_heads
        qh = q.reshape(n_tokens, n_kv_heads, group, head_dim)  # (T, Hkv, G, D): head h -> kv h // G
        scores = np.einsum("tkgd,skd->kgts", qh, keys) / np.float32(np.sqrt(head_dim))  # (Hkv, G, T, S)
        future = np.arange(end)[None, :] > pos[:, None]  # (T, S): key after the query's position
        scores = np.where(future, -np.inf, scores)
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        scores /= scores.sum(axis=-1, keepdims=True)
        out = np.einsum("kgts,skd->tkgd", scores, values)  # (T, Hkv, G, D)
        return out.reshape(n_tokens, n_heads * head_dim).astype(np.float32)

    def swiglu(self, gate_up: Any, n_ff: int) -> np.ndarray:
        if isinstance(gate_up, tuple):
            gate, up = gate_up
        else:
            gate, up = gate_up[:, :n_ff], gate_up[:, n_ff:]  # (T, n_ff) each: [gate | up]
        return gate * (0.5 + 0.5 * np.tanh(0.5 * gate)) * up  # silu(gate) * up, overflow-free

    def add_(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        x += y
        return x
