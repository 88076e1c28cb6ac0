"""The CUDA backend's fused decode ops, one by one, against the CPU backend and a NumPy
q8_1 reference (GPU only): add + RMSNorm (+ q8_1), rope + KV store + attention (+ q8_1),
SwiGLU (+ q8_1), and the once-per-device check that the fused q8_1 matches the kernels'."""

from __future__ import annotations

import numpy as np
import pytest
from q8_reference import quantize_q8_1_reference

import engine.model  # noqa: F401  (first: engine.backends.cpu imports engine.model.config)
from engine.backends.cpu import CpuOps
from engine.backends.cuda_q8 import AGREES, q8_agreement
from engine.backends.ops import RawTensor
from engine.model.config import LlamaConfig, RopeParams
from engine.quant.blocks import random_blocks
from engine.quant.table import by_name

pytestmark = pytest.mark.gpu
RTOL = 1e-4


def _ops(fused_q8: bool = True):
    from engine.backends.cuda import CudaOps

    ops = CudaOps(0, "mmvq")
    ops.fused_q8 = fused_q8  # the op tests check the q8_1 against NumPy themselves
    return ops


def _assert_q8_of(act, ops) -> None:
    """act.xq/xds are the q8_1 of act.x (NumPy reference, one rounding step of slack)."""
    rows = ops.download(act.x)  # (T, n)
    got = (ops.download(act.xq), ops.download(act.xds))
    assert q8_agreement(got, quantize_q8_1_reference(rows)) == AGREES


def _close(got, want, rtol=RTOL) -> None:
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * float(np.abs(want).max()))


# widths: one batch of float4 loads per thread (4096), several (8192 + 64), part of one (256,
# 200), and floats (not a multiple of 4: 250, and 5002 = several batches of floats)
@pytest.mark.parametrize("n_tokens,width", [(1, 4096), (3, 256), (2, 200), (1, 2048 + 96), (2, 8192 + 64), (1, 250),
                                            (2, 5002)])
def test_rms_norm_matches_cpu_and_writes_q8_1(n_tokens, width):
    rng = np.random.default_rng(width + n_tokens)
    x = rng.standard_normal((n_tokens, width)).astype(np.float32)  # (T, n)
    w = (1.0 + 0.1 * rng.standard_normal(width)).astype(np.float32)  # (n,)
    ops, cpu = _ops(), CpuOps()
    with ops.device, ops.stream:
        gx, gw = ops.upload(x), ops.upload(w)
        act = ops.rms_norm(gx, gw, 1e-5)
        np.testing.assert_array_equal(ops.download(gx), x)  # the input is read only
        _close(ops.download(act.x), cpu.rms_norm(x, w, 1e-5))
        if width % 32:
            assert act.xq is None  # no q8_1 for widths the mat-vecs cannot take
        else:
            _assert_q8_of(act, ops)


@pytest.mark.parametrize("n_tokens", [1, 3, 8, 11])  # mat-vec columns (q8_1 and float) and the GEMM path
@pytest.mark.parametrize("type_name", ["Q4_K", "Q8_0", "F16"])
def test_linear_add_adds_the_product_into_x(n_tokens, type_name):
    """x += linear(act, W) in place, from a normed activation (with its q8_1 on mmvq) and from
    plain rows: equal to x + the CPU backend's linear within the path's tolerance."""
    rng = np.random.default_rng(n_tokens)
    rows, row_len = 96, 256
    qt = by_name(type_name)
    raw = random_blocks(type_name, rows * row_len // qt.block_elems, rng).reshape(-1)  # (rows * row_bytes,)
    tensor = RawTensor("blk.0.attn_output.weight", type_name, (rows, row_len), raw)
    x = rng.standard_normal((n_tokens, rows)).astype(np.float32)  # (T, rows): the residual stream
    h = rng.standard_normal((n_tokens, row_len)).astype(np.float32)  # (T, row_len)
    ops, cpu = _ops(), CpuOps()
    want = x + cpu.linear(h, cpu.load_linear((tensor,)))
    with ops.device, ops.stream:
        weight = ops.load_linear((tensor,))
        for act in (ops.rms_norm(ops.upload(h), ops.upload(np.ones(row_len, np.float32)), 0.0), ops.upload(h)):
            gx = ops.upload(x)
            if not hasattr(act, "xq"):
                expect = want
            else:  # the normed rows: the product of the normed h
                expect = x + cpu.linear(ops.download(act.x), cpu.load_linear((tensor,)))
            out = ops.linear_add_(gx, act, weight)
            assert out is gx or out.data.ptr == gx.data.ptr  # in place
            tol = 2e-2 if (n_tokens <= 8 and type_name != "F16") else 5e-3  # q8_1 rounding / fp16 GEMM
            _close(ops.download(gx), expect, tol)


@pytest.mark.parametrize("n_tokens", [1, 4])
def test_swiglu_matches_cpu_and_writes_q8_1(n_tokens):
    gate_up = np.random.default_rng(n_tokens).standard_normal((n_tokens, 2 * 512)).astype(np.float32)  # [g|u]
    ops = _ops()
    with ops.device, ops.stream:
        act = ops.swiglu(ops.upload(gate_up), 512)
        _close(ops.download(act.x), CpuOps().swiglu(gate_up, 512))
        _assert_q8_of(act, ops)


def _cfg(head_dim: int, rope_dim: int, neox: bool) -> LlamaConfig:
    return LlamaConfig("llama", 1, 4 * head_dim, 4, 2, head_dim, 64, 100, 1e-5, RopeParams(10000.0, 1.0, rope_dim, neox))


@pytest.mark.parametrize("split_kv,rope_inside", [(False, False), (True, False), (True, True)])
@pytest.mark.parametrize("head_dim,rope_dim,neox", [(64, 64, False), (128, 128, True), (64, 48, False), (48, 48, True)])
def test_attend_qkv_matches_cpu_rope_and_attention(head_dim, rope_dim, neox, split_kv, rope_inside):
    """A 5-token step then 1-token steps (the decode shape: split-KV kernels when split_kv, with
    rope + KV store inside the split kernel when rope_inside), each against the CPU backend;
    1 + 5 + 1 + ... keys cover empty splits and uneven chunks."""
    cfg = _cfg(head_dim, rope_dim, neox)
    ops, cpu = _ops(), CpuOps()
    ops.split_kv, ops.rope_in_attention = split_kv, rope_inside
    gpu_cache, cpu_cache = ops.new_cache(cfg, 1, 16), cpu.new_cache(cfg, 1, 16)
    rng = np.random.default_rng(head_dim + rope_dim)
    for start, n_tokens in ((0, 1), (1, 5), (6, 1), (7, 1), (8, 1)):
        qkv = rng.standard_normal((n_tokens, cfg.q_width + 2 * cfg.kv_width)).astype(np.float32)  # [q|k|v]
        pos = cpu.positions(start, n_tokens)
        q = cpu.rope(qkv[:, : cfg.q_width], cfg.n_head, head_dim, pos, cfg.rope)  # (T, q_width)
        k = cpu.rope(qkv[:, cfg.q_width : cfg.q_width + cfg.kv_width], cfg.n_head_kv, head_dim, pos, cfg.rope)
        want = cpu.attend(q, k, qkv[:, cfg.q_width + cfg.kv_width :], cpu_cache, 0, pos)  # (T, q_width)
        with ops.device, ops.stream:
            act = ops.attend_qkv(ops.upload(qkv), cfg, gpu_cache, 0, ops.positions(start, n_tokens))
            _close(ops.download(act.x), want, 1e-4)
            _close(ops.download(gpu_cache.k[0, : start + n_tokens]), cpu_cache.k[0, : start + n_tokens], 1e-4)
            _close(ops.download(gpu_cache.v[0, : start + n_tokens]), cpu_cache.v[0, : start + n_tokens], 1e-6)
            if head_dim % 32:
                assert act.xq is None
            else:
                _assert_q8_of(act, ops)


@pytest.mark.parametrize("path,expected", [("mmvq", True), ("mmvq-soft", True), ("dmmv", None)])
def test_fused_q8_1_is_checked_against_the_kernels_on_first_quantized_weight(path, expected):
    from engine.backends.cuda import CudaOps

    ops = CudaOps(0, path)
    blocks = random_blocks("Q4_0", 8 * 256 // 32, np.random.default_rng(0)).reshape(-1)  # (8 rows * 8 blocks * 18,)
    ops.load_linear((RawTensor("blk.0.attn_q.weight", "Q4_0", (8, 256), blocks),))
    assert ops.fused_q8 is expected, ops.fused_q8_note


def test_split_kv_attention_self_check_agrees():
    from engine.backends.cuda import CudaOps

    ops = CudaOps(0, "mmvq")
    assert ops.split_kv, ops.split_kv_note
    assert ops.rope_in_attention, ops.rope_in_attention_note


def test_cluster_merge_self_check_agrees_on_sm90_and_is_off_below():
    """ql_attention_split_rope_merged (clustered splits, the merge through distributed shared
    memory) against the split kernel + ql_attention_merge: used on sm_90+, never below."""
    import cupy

    from engine.backends.cuda import CudaOps

    ops = CudaOps(0, "mmvq")
    if int(cupy.cuda.Device(0).compute_capability) >= 90:
        assert ops.cluster_merge, ops.cluster_merge_note
    else:
        assert not ops.cluster_merge and ops.k_attn_merged is None
