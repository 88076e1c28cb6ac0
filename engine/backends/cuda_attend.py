"""The CUDA backend's attention (a mixin of engine.backends.cuda.CudaOps): KV store, the
one-kernel attention, the split-KV decode attention and its merge, rope inside it, and on sm_90
the split attention and the merge in one launch of clustered splits. Kernels: cuda_attention.cu,
cuda_attention_cluster.cu.
"""

from __future__ import annotations

import math
from typing import Any

import cupy
import numpy as np

from engine.backends.cuda_types import Activation, CudaCache, Positions
from engine.model.config import LlamaConfig

THREADS = 256  # block size of the layer ops; ql_attention's required one (its shared partial sums)
MAX_KV_SPLITS = 8  # split-KV decode attention: at most this many blocks per head
ATTN_CLUSTER = 8  # splits of ql_attention_split_rope_merged (QL_ATTN_CLUSTER, cuda_attention_cluster.cu; sm_90+)


def launch_blocks(n: int) -> tuple[int]:
    """A 1-D grid of THREADS-thread blocks covering n threads."""
    return ((n + THREADS - 1) // THREADS,)


class AttentionOps:
    """The attention ops of CudaOps; uses its launch, q8_1 buffers, rope and k_* kernels."""

    def _n_splits(self, n_head: int) -> int:
        return max(1, min(MAX_KV_SPLITS, (2 * self.n_sm) // n_head))  # about two blocks per SM

    def attend(self, q: Any, k: Any, v: Any, cache: CudaCache, layer: int, pos: Positions) -> Any:
        n_tokens, kv_width = k.shape
        if k.strides != v.strides:
            k, v = cupy.ascontiguousarray(k), cupy.ascontiguousarray(v)
        self.launch(self.k_store, launch_blocks(n_tokens * kv_width), (THREADS,),
                     (k, v, np.int32(k.strides[0] // 4), cache.k[layer], cache.v[layer], pos.buffer,
                      np.int32(n_tokens), np.int32(kv_width)))
        return self._attention(q, cache, layer, pos)

    def _attention(self, q: Any, cache: CudaCache, layer: int, pos: Positions, split: bool | None = None) -> Activation:
        """Attention of q (T, n_head * head_dim; row stride free) over cache rows 0..pos+t.
        One-token steps use the split-KV kernels (when checked) unless ``split`` says otherwise."""
        n_tokens = q.shape[0]
        _, n_ctx, n_head_kv, head_dim = cache.k.shape
        n_head = q.shape[1] // head_dim
        score_stride = n_ctx if n_tokens == 1 else pos.start + n_tokens  # fixed for a captured step
        scores = cupy.empty((n_tokens, n_head, score_stride), cupy.float32)
        inputs = (q, np.int32(q.strides[0] // 4), cache.k[layer], cache.v[layer])
        geometry = (pos.buffer, np.int32(n_head // n_head_kv), np.int32(head_dim), np.int32(n_head_kv * head_dim),
                    np.float32(1.0 / math.sqrt(head_dim)))
        if (self.split_kv and n_tokens == 1) if split is None else split:
            n_split = self._n_splits(n_head)
            part_o = cupy.empty((n_tokens, n_head, n_split, head_dim), cupy.float32)  # unnormalised partial outputs
            part_ml = cupy.empty((n_tokens, n_head, n_split, 2), cupy.float32)  # (max score, sum of exp)
            self.launch(self.k_attn_split, (n_head, n_tokens, n_split), (THREADS,),
                              (*inputs, scores, np.int32(score_stride), *geometry, part_o, part_ml))
            return self._merge(part_o, part_ml, n_head, head_dim)
        out = cupy.empty((n_tokens, n_head * head_dim), cupy.float32)
        want_q = self._wants_q8(n_tokens, n_head * head_dim) and head_dim % 32 == 0
        xq, xds = self._q8_buffers(n_tokens, n_head * head_dim, want_q)
        self.launch(self.k_attn, (n_head, n_tokens), (THREADS,),
                    (*inputs, out, scores, np.int32(score_stride), *geometry, xq, xds, np.int32(want_q)))
        return Activation(out, xq, xds) if want_q else Activation(out)

    def _merge(self, part_o: Any, part_ml: Any, n_head: int, head_dim: int) -> Activation:
        """The split-KV partials (T, n_head, n_split, ...) merged into (T, n_head * head_dim), + q8_1."""
        n_tokens, _, n_split, _ = part_o.shape
        out = cupy.empty((n_tokens, n_head * head_dim), cupy.float32)
        want_q = self._wants_q8(n_tokens, n_head * head_dim) and head_dim % 32 == 0
        xq, xds = self._q8_buffers(n_tokens, n_head * head_dim, want_q)
        self.launch(self.k_attn_merge, (n_head, n_tokens), (THREADS,), (part_o, part_ml, out, np.int32(head_dim),
                                                                       np.int32(n_split), xq, xds, np.int32(want_q)))
        return Activation(out, xq, xds) if want_q else Activation(out)

    def attend_qkv(self, qkv: Any, cfg: LlamaConfig, cache: CudaCache, layer: int, pos: Positions) -> Activation:
        """Rope + KV store and attention on the fused projection qkv (T, q_width + 2 * kv_width):
        [q | k | v]. One-token steps: one launch for rope, KV store and the split attention
        (+ the merge) when checked; otherwise rope + KV store in one launch, then attention."""
        rope = cfg.rope
        if qkv.strides[1] != 4 or cfg.head_dim % 2 or rope.dim % 2 or rope.dim > cfg.head_dim:
            return self._attend_qkv_unfused(qkv, cfg, cache, layer, pos)
        if self.rope_in_attention and qkv.shape[0] == 1:
            return self._attend_qkv_rope_inside(qkv, cfg, cache, layer, pos)
        return self._attend_qkv_rope_first(qkv, cfg, cache, layer, pos)

    def _attend_qkv_rope_first(self, qkv: Any, cfg: LlamaConfig, cache: CudaCache, layer: int,
                               pos: Positions) -> Activation:
        rope = cfg.rope
        n_tokens = qkv.shape[0]
        n = n_tokens * (cfg.n_head + 2 * cfg.n_head_kv) * (cfg.head_dim // 2)  # threads: (t, head, pair)
        self.launch(self.k_rope_kv, launch_blocks(n), (THREADS,),
                       (qkv, np.int32(qkv.strides[0] // 4), cache.k[layer], cache.v[layer], pos.buffer,
                        np.int32(n_tokens), np.int32(cfg.n_head), np.int32(cfg.n_head_kv), np.int32(cfg.head_dim),
                        np.int32(rope.dim), np.int32(rope.neox), np.float32(math.log2(rope.base)),
                        np.float32(1.0 / rope.scale)))
        return self._attention(qkv[:, : cfg.q_width], cache, layer, pos)  # q: (T, q_width), rotated in place

    def _attend_qkv_rope_inside(self, qkv: Any, cfg: LlamaConfig, cache: CudaCache, layer: int,
                                pos: Positions, merged: bool | None = None) -> Activation:
        """One token (qkv (1, ...), contiguous rows): ql_attention_split_rope + the merge, or on
        sm_90 (when checked, or as ``merged`` says) both in one launch of clustered splits."""
        rope, head_dim = cfg.rope, cfg.head_dim
        _, n_ctx, _, _ = cache.k.shape
        merged = self.cluster_merge if merged is None else merged
        n_split = ATTN_CLUSTER if merged else self._n_splits(cfg.n_head)
        scores = cupy.empty((1, cfg.n_head, n_ctx), cupy.float32)
        args = (qkv, cache.k[layer], cache.v[layer], scores, np.int32(n_ctx), pos.buffer,
                np.int32(cfg.n_head // cfg.n_head_kv), np.int32(head_dim), np.int32(cfg.kv_width),
                np.float32(1.0 / math.sqrt(head_dim)), np.int32(rope.dim), np.int32(rope.neox),
                np.float32(math.log2(rope.base)), np.float32(1.0 / rope.scale))
        if merged:
            out = cupy.empty((1, cfg.n_head * head_dim), cupy.float32)
            want_q = self._wants_q8(1, cfg.n_head * head_dim) and head_dim % 32 == 0
            xq, xds = self._q8_buffers(1, cfg.n_head * head_dim, want_q)
            self.launch(self.k_attn_merged, (cfg.n_head, 1, n_split), (THREADS,),
                        (*args, out, xq, xds, np.int32(want_q)))
            return Activation(out, xq, xds) if want_q else Activation(out)
        part_o = cupy.empty((1, cfg.n_head, n_split, head_dim), cupy.float32)  # unnormalised partial outputs
        part_ml = cupy.empty((1, cfg.n_head, n_split, 2), cupy.float32)  # (max score, sum of exp)
        self.launch(self.k_attn_split_rope, (cfg.n_head, 1, n_split), (THREADS,), (*args, part_o, part_ml))
        return self._merge(part_o, part_ml, cfg.n_head, head_dim)

    def _attend_qkv_unfused(self, qkv: Any, cfg: LlamaConfig, cache: CudaCache, layer: int, pos: Positions) -> Any:
        qk_width = cfg.q_width + cfg.kv_width
        qk = self.rope(qkv[:, :qk_width], cfg.n_head + cfg.n_head_kv, cfg.head_dim, pos, cfg.rope)  # q, k heads
        return self.attend(qk[:, : cfg.q_width], qk[:, cfg.q_width :], qkv[:, qk_width:], cache, layer, pos)
