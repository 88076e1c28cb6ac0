"""Once-per-device self-checks of the CUDA backend's fused forms (engine/backends/cuda.py).

Each runs a fused form and the plain kernels on the same random data and returns a note:
``AGREES`` or why not (a failure inside a check is a note too). CudaOps uses a fused form
only when its note agrees, so a wrong kernel or an API change costs speed, never results.
``ops`` is the CudaOps under construction; the checks call its launch helpers directly.
"""

from __future__ import annotations

from typing import Any

import cupy
import numpy as np

from engine.backends.cuda_q8 import AGREES, q8_agreement
from engine.backends.cuda_types import CudaCache, Positions
from engine.model.config import LlamaConfig, RopeParams


def fused_q8_note(ops: Any, type_name: str) -> str:
    """The q8_1 written by ql_rms_norm (ops.fused_q8 set by the caller) against
    KernelSet.quantize_q8_1, the mat-vec kernels' own format."""
    rows = np.random.default_rng(7).standard_normal((2, 256)).astype(np.float32)  # (2, 256)
    rows[1, :32] = 0.0  # one all-zero chunk (d = 0)
    try:
        act = ops.rms_norm(ops.upload(rows), ops.upload(np.ones(256, np.float32)), 1e-5)
        ref_q, ref_ds = ops.kernels.quantize_q8_1(act.x, type_name)
        return q8_agreement((ops.download(act.xq), ops.download(act.xds)),
                            (ops.download(ref_q), ops.download(ref_ds)))
    except Exception as exc:  # an API change in engine.kernels: fall back, never fail the load
        return f"check failed: {type(exc).__name__}: {exc}"


def _worst(got: np.ndarray, want: np.ndarray) -> float:
    """max |got - want| relative to the largest |want|."""
    return float(np.abs(got - want).max() / (1e-6 + np.abs(want).max()))


def split_attention_note(ops: Any) -> str:
    """The split-KV decode attention against the one-kernel attention (a few lengths, empty
    splits included)."""
    rng = np.random.default_rng(11)
    n_head, n_head_kv, head_dim, n_ctx = 4, 2, 64, 48
    try:
        cache = CudaCache(*(ops.upload(rng.standard_normal((1, n_ctx, n_head_kv, head_dim))) for _ in "kv"))
        q = ops.upload(rng.standard_normal((1, n_head * head_dim)))  # (1, n_head * head_dim)
        with ops.device, ops.stream:
            buffer, worst = cupy.zeros((1,), cupy.int32), 0.0
            for start in (0, 13, n_ctx - 1):
                buffer.set(np.array([start], np.int32), stream=ops.stream)
                pos = Positions(buffer, start, 1)
                one = ops.download(ops._attention(q, cache, 0, pos, split=False).x)  # (1, n_head * head_dim)
                split = ops.download(ops._attention(q, cache, 0, pos, split=True).x)
                worst = max(worst, _worst(split, one))
        return AGREES if worst <= 1e-4 else f"differs by {worst:.1e} of the largest output"
    except Exception as exc:  # a launch failure: stay on the one-kernel attention
        return f"check failed: {type(exc).__name__}: {exc}"


def rope_in_attention_note(ops: Any) -> str:
    """The one-token rope + KV store + split attention of ql_attention_split_rope against
    ql_rope_kv_store followed by the split attention (a few positions, a neox and a partial
    rope): outputs and both caches."""
    return _one_token_attention_note(ops, lambda *a: ops._attend_qkv_rope_first(*a),
                                     lambda *a: ops._attend_qkv_rope_inside(*a, merged=False))


def cluster_merge_note(ops: Any) -> str:
    """sm_90: the split attention and its merge in one launch of clustered splits
    (ql_attention_split_rope_merged) against ql_attention_split_rope + ql_attention_merge."""
    return _one_token_attention_note(ops, lambda *a: ops._attend_qkv_rope_inside(*a, merged=False),
                                     lambda *a: ops._attend_qkv_rope_inside(*a, merged=True))


def _one_token_attention_note(ops: Any, reference: Any, candidate: Any) -> str:
    """A one-token attention form (candidate) against another (reference), each on its own copy
    of a cache (a few positions, a neox and a partial rope): outputs and both caches."""
    rng = np.random.default_rng(13)
    worst = 0.0
    try:
        for head_dim, rope_dim, neox in ((64, 64, False), (64, 48, True)):
            cfg = LlamaConfig("llama", 1, 4 * head_dim, 4, 2, head_dim, 64, 100, 1e-5,
                              RopeParams(10000.0, 1.0, rope_dim, neox))
            caches = [ops.new_cache(cfg, 1, 48) for _ in range(2)]
            history = ops.upload(rng.standard_normal((1, 48, cfg.n_head_kv, head_dim)))  # earlier rows
            for cache in caches:
                cache.k[...] = history
                cache.v[...] = -history
            for start in (0, 13, 47):
                qkv = rng.standard_normal((1, cfg.q_width + 2 * cfg.kv_width)).astype(np.float32)
                with ops.device, ops.stream:
                    ops.pos_buffer.set(np.array([start], np.int32), stream=ops.stream)
                    pos = Positions(ops.pos_buffer, start, 1)
                    two = ops.download(reference(ops.upload(qkv), cfg, caches[0], 0, pos).x)
                    one = ops.download(candidate(ops.upload(qkv), cfg, caches[1], 0, pos).x)
                    rows = [ops.download(c.k[0]) for c in caches] + [ops.download(c.v[0]) for c in caches]
                worst = max(worst, _worst(one, two), float(np.abs(rows[0] - rows[1]).max()),
                            float(np.abs(rows[2] - rows[3]).max()))
        return AGREES if worst <= 1e-4 else f"differs by {worst:.1e}"
    except Exception as exc:  # a launch failure: keep the form checked before
        return f"check failed: {type(exc).__name__}: {exc}"
