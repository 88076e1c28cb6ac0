"""The CPU forward pass against the independent float64 reference (reference_llama.py).

Tolerance (float32 vs float64 on the same dequantized weights):
|got - ref| <= 1e-4 + 1e-4 * max|ref|, per logit.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from model_fixtures import PROMPT, max_error_ratio, small_model
from reference_llama import ReferenceLlama

from engine.model import load_model, model_from_info
from engine.model.config import config_for
from engine.model_file import inspect_model
from engine.quant.table import QUANT_TABLE

ATOL, RTOL = 1e-4, 1e-4


@pytest.mark.parametrize("weight_type", list(QUANT_TABLE))
def test_cpu_logits_match_reference_for_every_type(tmp_path, weight_type):
    path = small_model(tmp_path, weight_type)
    ref = ReferenceLlama(path).logits(PROMPT)  # (T, vocab) float64
    model = load_model(path, n_ctx=16)
    got = model.forward(PROMPT, 0, all_logits=True)
    assert got.shape == ref.shape and got.dtype == np.float32
    assert max_error_ratio(got, ref, ATOL, RTOL) <= 1.0


@pytest.mark.parametrize("tied", [False, True])
def test_tied_and_separate_output_head(tmp_path, tied):
    path = small_model(tmp_path, "Q8_0", tied_output=tied)
    model = load_model(path, n_ctx=16)
    assert model.tied_output is tied
    ref = ReferenceLlama(path).logits(PROMPT)
    assert max_error_ratio(model.forward(PROMPT, 0, all_logits=True), ref, ATOL, RTOL) <= 1.0


@pytest.mark.parametrize("n_head_kv", [1, 4])
def test_grouped_and_full_attention_heads(tmp_path, n_head_kv):
    path = small_model(tmp_path, "Q4_K", n_head_kv=n_head_kv)
    ref = ReferenceLlama(path).logits(PROMPT)
    got = load_model(path, n_ctx=16).forward(PROMPT, 0, all_logits=True)
    assert max_error_ratio(got, ref, ATOL, RTOL) <= 1.0


@pytest.mark.parametrize("neox", [False, True])
def test_both_rope_layouts(tmp_path, neox):
    path = small_model(tmp_path, "Q6_K")
    info = inspect_model(path)
    cfg = config_for(info)
    cfg = dataclasses.replace(cfg, rope=dataclasses.replace(cfg.rope, neox=neox, base=5000.0, scale=2.0))
    model = model_from_info(info, n_ctx=16, config=cfg)
    ref_model = ReferenceLlama(path, neox=neox)
    ref_model.base, ref_model.pos_scale = 5000.0, 2.0  # the same override, applied independently
    ref = ref_model.logits(PROMPT)
    assert max_error_ratio(model.forward(PROMPT, 0, all_logits=True), ref, ATOL, RTOL) <= 1.0


def test_rope_layouts_differ(tmp_path):
    """Guard against a test that cannot fail: the two layouts give different logits."""
    path = small_model(tmp_path, "F16")
    normal = ReferenceLlama(path).logits(PROMPT)
    neox = ReferenceLlama(path, neox=True).logits(PROMPT)
    assert np.abs(normal[-1] - neox[-1]).max() > 1e-3 * np.abs(normal).max()


def test_kv_cache_decode_equals_whole_prompt(tmp_path):
    model = load_model(small_model(tmp_path, "IQ4_XS"), n_ctx=16)
    whole = model.forward(PROMPT, 0, all_logits=True)  # (T, vocab)
    model.reset()
    steps = np.stack([model.forward([tok], pos) for pos, tok in enumerate(PROMPT)])
    np.testing.assert_allclose(steps, whole, rtol=1e-4, atol=1e-4 * np.abs(whole).max())
    model.reset()
    head = model.forward(PROMPT[:3], 0, all_logits=True)
    tail = model.forward(PROMPT[3:], 3, all_logits=True)  # continue a cached prompt in a batch
    np.testing.assert_allclose(np.concatenate([head, tail]), whole, rtol=1e-4, atol=1e-4 * np.abs(whole).max())
    np.testing.assert_allclose(model.forward(PROMPT[3:], 3), whole[-1], rtol=1e-4, atol=1e-4 * np.abs(whole).max())


def test_context_overflow_and_bad_tokens_raise_value_error(tmp_path):
    model = load_model(small_model(tmp_path, "Q4_0"), n_ctx=4)
    with pytest.raises(ValueError):
        model.forward([1, 2, 3], 2)
    with pytest.raises(ValueError):
        model.forward([300], 0)
    assert model.forward([1, 2, 3, 4], 0).shape == (300,)


def test_next_token_greedy_is_the_argmax_of_the_step_logits(tmp_path):
    model = load_model(small_model(tmp_path, "Q4_K"), n_ctx=16)
    want = [int(np.argmax(model.forward([tok], pos))) for pos, tok in enumerate(PROMPT)]
    model.reset()
    assert [model.next_token_greedy(tok, pos) for pos, tok in enumerate(PROMPT)] == want
    with pytest.raises(ValueError):
        model.next_token_greedy(300, 0)  # out of the vocabulary
    with pytest.raises(ValueError):
        model.next_token_greedy(1, 16)  # past the context


def test_greedy_tokens_are_repeated_next_token_greedy_until_the_context_is_full(tmp_path):
    model = load_model(small_model(tmp_path, "Q4_K"), n_ctx=12)
    want, token = [], PROMPT[0]
    for pos in range(12):
        token = model.next_token_greedy(token, pos)
        want.append(token)
    model.reset()
    assert list(model.greedy_tokens(PROMPT[0], 0)) == want  # stops after position n_ctx - 1
    model.reset()
    assert list(model.greedy_tokens(want[4], 5)) != []  # any start inside the context
    with pytest.raises(ValueError):
        next(model.greedy_tokens(1, 12))  # past the context
