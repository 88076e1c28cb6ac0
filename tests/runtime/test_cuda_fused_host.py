"""Host-side checks of the CUDA backend's fused decode ops (no GPU needed):

* the q8_1 agreement check the backend runs once per device (engine.backends.cuda_q8);
* NumPy emulations of the thread -> index arithmetic of cuda_ops.cu (ql_rope_kv_store's
  pair mapping, the warp -> q8_1 chunk mapping of the norm, attention and SwiGLU kernels),
  compared with the CPU backend. The emulations mirror the kernel code line by line; the
  GPU tests (test_backend_cuda.py, test_cuda_fused_ops.py) run the kernels themselves.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from q8_reference import quantize_q8_1_reference

from engine.backends.cuda_q8 import AGREES, q8_agreement
from engine.model.config import RopeParams


def _q8(seed: int = 0, shape=(2, 256)):
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)  # (T, n)
    x[1, :32] = 0.0  # a zero chunk
    return quantize_q8_1_reference(x)


def test_reference_q8_1_dequantizes_within_half_a_step():
    x = np.random.default_rng(1).standard_normal((3, 128)).astype(np.float32)  # (T, n)
    q, ds = quantize_q8_1_reference(x)
    back = q.astype(np.float64) * ds[..., :1]  # (T, n/32, 32)
    assert np.all(np.abs(back - x.reshape(3, 4, 32)) <= ds[..., :1] * 0.5 + 1e-7)
    assert np.allclose(ds[..., 1], ds[..., 0] * q.astype(np.int64).sum(-1), rtol=1e-6)


def test_agreement_accepts_same_and_one_step_rounding():
    q, ds = _q8()
    assert q8_agreement((q, ds), (q.copy(), ds.copy())) == AGREES
    q2, ds2 = q.copy(), ds.copy()
    q2[0, 3, 5] += 1 if q2[0, 3, 5] < 127 else -1  # one rounding tie resolved the other way
    ds2[0, 3, 1] = ds2[0, 3, 0] * q2[0, 3].astype(np.int32).sum()
    assert q8_agreement((q2, ds2), (q, ds)) == AGREES


@pytest.mark.parametrize("change", ["layout", "dtype", "scale", "values", "sum_of_x"])
def test_agreement_rejects_another_format(change):
    q, ds = _q8()
    x = np.random.default_rng(0).standard_normal((2, 256)).astype(np.float32)  # the same rows as _q8
    x[1, :32] = 0.0
    other = {
        "layout": (q.reshape(2, 256), ds),  # (T, n) instead of (T, n/32, 32)
        "dtype": (q, ds.astype(np.float16)),  # half scales
        "scale": (q, ds * np.array([2.0, 1.0], np.float32)),  # d doubled
        "values": (np.roll(q, 1, axis=-1), ds),  # values in another order
        "sum_of_x": (q, np.stack([ds[..., 0], x.reshape(2, 8, 32).sum(-1)], -1)),  # ggml-style s = sum(x)
    }[change]
    assert q8_agreement(other, (q, ds)) != AGREES


# ---- emulation of ql_rope_kv_store (one "thread" per (t, head, pair)) --------------------
def _emulate_rope_kv_store(qkv, cache_k, cache_v, start, n_head, n_head_kv, head_dim, rope: RopeParams):
    """Mirror of cuda_ops.cu ql_rope_kv_store; qkv (T, (n_head + 2 n_head_kv) * head_dim) in place."""
    n_tokens = qkv.shape[0]
    pairs, half, n_all = head_dim // 2, rope.dim // 2, n_head + 2 * n_head_kv
    for idx in range(n_tokens * n_all * pairs):
        p, head, t = idx % pairs, (idx // pairs) % n_all, idx // (pairs * n_all)
        v = qkv[t, head * head_dim : (head + 1) * head_dim]  # (head_dim,) view
        rotated = p < half
        a = (p if rope.neox else 2 * p) if rotated else rope.dim + 2 * (p - half)
        b = (p + half if rope.neox else 2 * p + 1) if rotated else a + 1
        x0, x1 = np.float32(v[a]), np.float32(v[b])
        if rotated and head < n_head + n_head_kv:
            theta = (start + t) / rope.scale * 2.0 ** (-2.0 * p / rope.dim * math.log2(rope.base))
            c, s = math.cos(theta), math.sin(theta)
            x0, x1 = x0 * c - x1 * s, x0 * s + x1 * c
        if head < n_head:
            v[a], v[b] = x0, x1
            continue
        is_k = head < n_head + n_head_kv
        kv_head = head - n_head if is_k else head - n_head - n_head_kv
        dst = (cache_k if is_k else cache_v)[start + t, kv_head]  # (head_dim,) view
        dst[a], dst[b] = x0, x1


@pytest.mark.parametrize("neox", [False, True])
@pytest.mark.parametrize("rope_dim", [16, 12])  # full head, and a partial rotary dim
def test_rope_kv_store_mapping_matches_cpu_rope_and_cache(neox, rope_dim):
    n_head, n_head_kv, head_dim, n_tokens, start = 4, 2, 16, 3, 5
    rope = RopeParams(base=10000.0, scale=2.0, dim=rope_dim, neox=neox)
    rng = np.random.default_rng(3)
    qkv = rng.standard_normal((n_tokens, (n_head + 2 * n_head_kv) * head_dim)).astype(np.float32)  # [q|k|v]
    q_width, kv_width = n_head * head_dim, n_head_kv * head_dim
    from engine.backends.cpu import CpuOps  # after engine.model (import order of the package)

    cpu = CpuOps()
    pos = cpu.positions(start, n_tokens)
    want_q = cpu.rope(qkv[:, :q_width], n_head, head_dim, pos, rope)  # (T, q_width)
    want_k = cpu.rope(qkv[:, q_width : q_width + kv_width], n_head_kv, head_dim, pos, rope)  # (T, kv_width)
    want_v = qkv[:, q_width + kv_width :].copy()  # (T, kv_width)
    cache_k = np.zeros((16, n_head_kv, head_dim), np.float32)  # (n_ctx, Hkv, D)
    cache_v = np.zeros_like(cache_k)
    _emulate_rope_kv_store(qkv, cache_k, cache_v, start, n_head, n_head_kv, head_dim, rope)
    np.testing.assert_allclose(qkv[:, :q_width], want_q, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(cache_k[start : start + n_tokens].reshape(n_tokens, -1), want_k, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(cache_v[start : start + n_tokens].reshape(n_tokens, -1), want_v)
    assert not cache_k[:start].any() and not cache_k[start + n_tokens :].any()


# ---- the warp -> q8_1 chunk mapping of the fused kernels ---------------------------------
def _norm_thread_slots(n_tokens, n, block=256):
    """ql_rms_norm: grid (T, ceil(n / block)); CTA (t, s), thread tid writes i = s * block + tid
    when i < n; lane = tid & 31."""
    for t in range(n_tokens):
        for s in range(-(-n // block)):
            for tid in range(block):
                i = s * block + tid
                if i < n:
                    yield t * n + i, ((t * n + i) >> 5, tid & 31)


def _attention_thread_slots(n_tokens, n_head, head_dim, block=256):
    """ql_attention's output loop: block (h, t), thread d < head_dim; lane = d & 31."""
    for t in range(n_tokens):
        for h in range(n_head):
            for d in range(min(head_dim, block)):  # head_dim <= 256 = blockDim: one pass
                flat = (t * n_head + h) * head_dim + d
                yield flat, (flat >> 5, d & 31)


def _swiglu_thread_slots(n_tokens, n_ff, block=256):
    """ql_swiglu: flat idx = block * blockDim + tid; lane = tid & 31."""
    total = n_tokens * n_ff
    for blk in range(-(-total // block)):
        for tid in range(block):
            idx = blk * block + tid
            if idx < total:
                yield idx, (idx >> 5, tid & 31)


@pytest.mark.parametrize("slots", [
    lambda: _norm_thread_slots(2, 4096), lambda: _norm_thread_slots(3, 4096 // 8 + 96), lambda: _norm_thread_slots(1, 96),
    lambda: _attention_thread_slots(2, 4, 64), lambda: _attention_thread_slots(1, 3, 128),
    lambda: _swiglu_thread_slots(2, 512), lambda: _swiglu_thread_slots(1, 96),
])
def test_each_value_lands_in_its_own_q8_chunk_slot(slots):
    """Every output value is quantized exactly once, into slot (flat // 32, flat % 32) of the
    (T, width/32, 32) layout, by lane flat % 32 of a warp that holds the whole chunk."""
    seen = {}
    for flat, (chunk, lane) in slots():
        assert (chunk, lane) == (flat // 32, flat % 32)
        assert flat not in seen
        seen[flat] = chunk
    assert sorted(seen) == list(range(len(seen)))


# ---- emulation of ql_attention_split + ql_attention_merge (flash-decoding merge) ---------
def _emulate_split_attention(scores: np.ndarray, values: np.ndarray, n_split: int) -> np.ndarray:
    """Mirror of the two kernels for one (t, h): scores (n_kv,), values (n_kv, D) -> (D,)."""
    n_kv = scores.shape[0]
    chunk = (n_kv + n_split - 1) // n_split
    parts = []  # (m_s, l_s, o_s) per split, as part_ml / part_o
    for s in range(n_split):
        j0, j1 = min(n_kv, s * chunk), min(n_kv, s * chunk + chunk)
        if j1 == j0:
            parts.append((-np.inf, 0.0, np.zeros(values.shape[1])))  # the empty-split values the kernel writes
            continue
        m = scores[j0:j1].max()
        e = np.exp(scores[j0:j1] - m)  # (j1 - j0,)
        parts.append((m, e.sum(), e @ values[j0:j1]))  # o_s unnormalised: (D,)
    big = max(m for m, _, _ in parts)
    weights = [np.exp(m - big) if total > 0 else 0.0 for m, total, _ in parts]  # as the merge kernel
    denom = sum(w * total for w, (_, total, _) in zip(weights, parts, strict=True))
    return sum(w * o for w, (_, _, o) in zip(weights, parts, strict=True)) / denom


@pytest.mark.parametrize("n_kv", [1, 2, 7, 8, 9, 41, 128, 1000])
@pytest.mark.parametrize("n_split", [1, 3, 8])
def test_split_kv_merge_equals_one_softmax(n_kv, n_split):
    rng = np.random.default_rng(n_kv * 10 + n_split)
    scores = rng.standard_normal(n_kv) * 8.0  # (n_kv,) wide range: the max matters
    values = rng.standard_normal((n_kv, 16))  # (n_kv, D)
    p = np.exp(scores - scores.max())
    want = (p / p.sum()) @ values  # (D,)
    np.testing.assert_allclose(_emulate_split_attention(scores, values, n_split), want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n_kv,n_split", [(1, 8), (5, 8), (41, 8), (1024, 8), (3, 3)])
def test_split_kv_ranges_cover_every_key_once_and_split_0_is_never_empty(n_kv, n_split):
    chunk = (n_kv + n_split - 1) // n_split
    ranges = [(min(n_kv, s * chunk), min(n_kv, s * chunk + chunk)) for s in range(n_split)]
    keys = [j for j0, j1 in ranges for j in range(j0, j1)]
    assert keys == list(range(n_kv))
    assert ranges[0][1] > ranges[0][0]


def _cuda_ops_define(name: str) -> int:
    import re

    from engine.backends.cuda import layer_module_source

    return int(re.search(rf"#define {name} (\d+)", layer_module_source()).group(1))


@pytest.mark.parametrize("n_keys", [0, 1, 7, 8, 31, 32, 33, 100, 257, 1100])
def test_split_scores_and_values_take_every_key_of_the_split_once(n_keys):
    """ql_split_scores / ql_split_values: warp w takes keys base + u * n_warps for base = j0 + w,
    j0 + w + QL_KEYS_AT_ONCE * n_warps, ...; lane u writes key u's score at sc[j - j0], which
    lives in shared memory up to QL_SPLIT_SC_SHARED keys."""
    n_warps, at_once = 256 // 32, _cuda_ops_define("QL_KEYS_AT_ONCE")  # QL_BLOCK threads per CTA
    j0 = 13
    j1 = j0 + n_keys
    taken = []  # (key, writing lane)
    for warp in range(n_warps):
        for base in range(j0 + warp, j1, at_once * n_warps):
            taken += [(base + u * n_warps, u) for u in range(at_once) if base + u * n_warps < j1]
    assert sorted(j for j, _ in taken) == list(range(j0, j1))
    assert all(lane < 32 for _, lane in taken)
    assert (n_keys <= _cuda_ops_define("QL_SPLIT_SC_SHARED")) == (n_keys < 1100)  # the shared row, then global
