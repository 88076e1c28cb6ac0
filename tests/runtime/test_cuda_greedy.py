"""Greedy decoding on the GPU (GPU only): ql_argmax against np.argmax on crafted rows (ties,
NaN, infinities, odd lengths; -1 where the winner is not finite), and
LlamaModel.next_token_greedy on the CUDA backend against np.argmax of the same model's step
logits, eager and graph-replayed, both kernel paths."""

from __future__ import annotations

import numpy as np
import pytest
from model_fixtures import PROMPT, small_model

from engine.backends.spec import BackendSpec
from engine.model import load_model

pytestmark = pytest.mark.gpu


def _rows() -> list[np.ndarray]:
    rng = np.random.default_rng(5)
    rows = [rng.standard_normal(n).astype(np.float32) for n in (1, 31, 1000, 32000, 49157)]
    tie = rng.standard_normal(5000).astype(np.float32)
    tie[[17, 2048, 4999]] = 9.0  # the first of equal maxima wins
    nan = rng.standard_normal(3000).astype(np.float32)
    nan[[1500, 2999]] = np.nan  # the first NaN wins over every number
    inf = np.full(777, -np.inf, np.float32)  # all -inf: index 0
    pos_inf = rng.standard_normal(2049).astype(np.float32)
    pos_inf[[3, 2048]] = np.inf
    late = np.zeros(40000, np.float32)
    late[-1] = 1e-30  # the only positive value, last
    return rows + [tie, nan, inf, pos_inf, late]


def test_device_argmax_equals_numpy_argmax():
    from engine.backends.cuda import CudaOps

    ops = CudaOps(0, "mmvq")
    with ops.device, ops.stream:
        for row in _rows():
            token = ops.argmax(ops.upload(row[None, :]))  # (1, n) -> int32 (1,)
            best = int(np.argmax(row))
            assert ops.download_token(token) == (best if np.isfinite(row[best]) else -1), row.shape


@pytest.mark.parametrize("path", ["mmvq", "dmmv"])
def test_next_token_greedy_equals_the_argmax_of_the_step_logits(tmp_path, path):
    model = load_model(small_model(tmp_path, "Q4_K", n_layers=3), BackendSpec.single_gpu(3, path), n_ctx=32)
    try:
        tokens = list(PROMPT) * 2  # enough steps for the decode graphs to be captured and replayed
        want = [int(np.argmax(model.forward([tok], pos))) for pos, tok in enumerate(tokens)]
        model.reset()
        assert [model.next_token_greedy(tok, pos) for pos, tok in enumerate(tokens)] == want
        model.reset()  # both kinds of step interleaved: each has its own graph
        for pos, tok in enumerate(tokens):
            step = model.next_token_greedy(tok, pos) if pos % 2 else int(np.argmax(model.forward([tok], pos)))
            assert step == want[pos], pos
    finally:
        model.close()


def _greedy_run(model, first: int, n: int) -> list[int]:
    """n tokens of the greedy continuation of ``first`` at position 0, one next_token_greedy call each."""
    tokens, token = [], first
    for pos in range(n):
        token = model.next_token_greedy(token, pos)
        tokens.append(token)
    return tokens


@pytest.mark.parametrize("path", ["mmvq", "dmmv"])
def test_chained_greedy_tokens_equal_step_by_step_greedy(tmp_path, path):
    """greedy_tokens (steps chained on the device, one queued ahead, graph-replayed) yields the
    tokens of one next_token_greedy call per step; a stream stopped early leaves the model usable
    at the next position (the step queued ahead only wrote a cache row past it)."""
    n_ctx = 24
    model = load_model(small_model(tmp_path, "Q4_K", n_layers=3), BackendSpec.single_gpu(3, path), n_ctx=n_ctx)
    try:
        want = _greedy_run(model, PROMPT[0], n_ctx)
        model.reset()
        stream = model.greedy_tokens(PROMPT[0], 0)
        assert list(stream) == want  # to the end of the context, then the stream stops
        model.reset()
        stream = model.greedy_tokens(PROMPT[0], 0)
        first = [next(stream) for _ in range(5)]  # tokens for positions 1..5; the step at 5 is queued
        stream.close()
        assert first == want[:5]
        assert model.next_token_greedy(first[-1], 5) == want[5]  # continues on the host path
        again = model.greedy_tokens(want[5], 6)  # a second stream picks up from there
        assert [next(again) for _ in range(4)] == want[6:10]
        again.close()
    finally:
        model.close()


def test_chained_greedy_needs_a_valid_start(tmp_path):
    model = load_model(small_model(tmp_path, "Q4_K", n_layers=2), BackendSpec.single_gpu(2, "mmvq"), n_ctx=8)
    try:
        with pytest.raises(ValueError):
            next(model.greedy_tokens(1, 8))  # past the context
        with pytest.raises(ValueError):
            next(model.greedy_tokens(model.n_vocab, 0))  # out of the vocabulary
    finally:
        model.close()
