"""Greedy decoding on damaged weights: the model's own greedy tokens (no logits on the host) say
NOT_FINITE_TOKEN where the logits were not finite, and generation turns that into
QL-E-MODEL-NAN instead of emitting the NaN's index as a token. The rule is checked against
np.argmax + np.isfinite; on the CPU backend here, on the GPU (device argmax, chained) there."""

from __future__ import annotations

import numpy as np
import pytest
from damaged_models import DAMAGE, FlakyModel, damaged_model

from engine.backends.spec import BackendSpec
from engine.diagnostics import DiagnosticError
from engine.generate import GenerationParams, generate
from engine.model import load_model
from engine.sampling import NOT_FINITE_TOKEN, SamplerParams, greedy_token


def _numpy_rule(row: np.ndarray) -> int:
    best = int(np.argmax(row))  # the first NaN, else the first of the largest
    return best if np.isfinite(row[best]) else -1


def not_finite_rows() -> list[np.ndarray]:
    rng = np.random.default_rng(11)
    finite = rng.standard_normal(3000).astype(np.float32)
    nan = finite.copy()
    nan[[1500, 2999]] = np.nan
    pos_inf = finite.copy()
    pos_inf[7] = np.inf
    all_neg_inf = np.full(777, -np.inf, np.float32)
    some_neg_inf = finite.copy()
    some_neg_inf[:100] = -np.inf  # a finite winner: an ordinary token
    nan_and_inf = pos_inf.copy()
    nan_and_inf[2500] = np.nan
    return [finite, nan, pos_inf, all_neg_inf, some_neg_inf, nan_and_inf]


def test_greedy_token_is_the_argmax_or_not_finite():
    answers = [greedy_token(row) for row in not_finite_rows()]
    assert answers == [_numpy_rule(row) for row in not_finite_rows()]
    assert answers[0] >= 0 and answers[4] >= 0  # finite winners are real tokens
    assert answers[1] == answers[2] == answers[3] == answers[5] == NOT_FINITE_TOKEN


class FlakyGreedyModel(FlakyModel):
    """FlakyModel with its own greedy tokens (the contract LlamaModel.next_token_greedy keeps)."""

    def next_token_greedy(self, token, pos):
        return greedy_token(self.forward([token], pos))


def test_not_finite_greedy_token_mid_decode_is_a_clear_error(tiny_tokenizer):
    model = FlakyGreedyModel(bad_step=4)
    params = GenerationParams(max_tokens=10, sampler=SamplerParams.greedy(), seed=1, stop_at_eog=False)
    seen: list[str] = []
    with pytest.raises(DiagnosticError) as caught:
        generate(model, tiny_tokenizer, [1, 2, 3], params, on_text=seen.append)
    assert caught.value.diagnostic.code == "QL-E-MODEL-NAN"
    assert model.steps == 5  # the prefill and four decode steps ran; none after the bad one


def test_finite_greedy_tokens_still_generate(tiny_tokenizer):
    params = GenerationParams(max_tokens=6, sampler=SamplerParams.greedy(), seed=1, stop_at_eog=False)
    result = generate(FlakyGreedyModel(bad_step=1000), tiny_tokenizer, [1, 2, 3], params)
    assert result.token_ids == (3,) * 6


def _damaged_greedy(model) -> tuple[int, list[int]]:
    """(next_token_greedy at position 0, the greedy_tokens stream from position 0 to its end)."""
    first = model.next_token_greedy(1, 0)
    model.reset()
    return first, list(model.greedy_tokens(1, 0))


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_greedy_on_damaged_weights_says_not_finite_on_the_cpu(tmp_path, damage):
    model = load_model(damaged_model(tmp_path, *DAMAGE[damage]), n_ctx=16)
    try:
        assert _damaged_greedy(model) == (NOT_FINITE_TOKEN, [NOT_FINITE_TOKEN])  # the stream ends there
    finally:
        model.close()


@pytest.mark.gpu
@pytest.mark.parametrize("path", ["mmvq", "dmmv"])
@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_greedy_on_damaged_weights_says_not_finite_on_the_gpu(tmp_path, damage, path):
    """Step by step (ql_argmax) and chained on the device (ql_argmax_chain), graphs replayed."""
    model = load_model(damaged_model(tmp_path, *DAMAGE[damage]), BackendSpec.single_gpu(2, path), n_ctx=16)
    try:
        assert _damaged_greedy(model) == (NOT_FINITE_TOKEN, [NOT_FINITE_TOKEN])
    finally:
        model.close()


@pytest.mark.gpu
def test_device_argmax_and_chain_say_not_finite_as_numpy_does():
    """ql_argmax and ql_argmax_chain on crafted rows against the NumPy rule; the chain's step
    buffer keeps the winning index (a valid id for the step queued ahead) and advances."""
    from engine.backends.cuda import CudaOps

    ops = CudaOps(0, "mmvq")
    with ops.device, ops.stream:
        for pos, row in enumerate(not_finite_rows()):
            want = _numpy_rule(row)
            assert ops.download_token(ops.argmax(ops.upload(row[None, :]))) == want, pos
            ops.set_step(5, pos)
            step = ops.argmax_chain(ops.upload(row[None, :]))
            ops.stream.synchronize()
            assert ops.chained_token(pos) == want, pos
            assert step.get().tolist() == [int(np.argmax(row)), pos + 1], pos
