"""Sampling filters against direct probability computations; draws checked statistically."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from engine.sampling import (
    SamplerParams,
    apply_repetition_penalty,
    make_rng,
    min_p_filter,
    sample,
    softmax,
    top_k_filter,
    top_p_filter,
    typical_filter,
)

LOGITS = arrays(np.float64, st.integers(2, 60), elements=st.floats(-20, 20, allow_nan=False, width=32))


def direct_probs(logits) -> np.ndarray:
    e = np.exp(np.asarray(logits, np.float64) - np.max(logits))
    return e / e.sum()


def kept(filtered: np.ndarray) -> set[int]:
    return set(np.flatnonzero(np.isfinite(filtered)).tolist())


@settings(max_examples=60, deadline=None)
@given(LOGITS, st.integers(1, 70))
def test_top_k_keeps_the_k_largest(logits, k):
    keep = kept(top_k_filter(logits, k))
    assert len(keep) == min(k, logits.size)
    dropped = set(range(logits.size)) - keep
    if dropped:
        assert min(logits[list(keep)]) >= max(logits[list(dropped)])


@settings(max_examples=80, deadline=None)
@given(LOGITS, st.floats(0.01, 0.99))
def test_top_p_keeps_the_smallest_set_reaching_p(logits, p):
    probs = direct_probs(logits)
    keep = sorted(kept(top_p_filter(logits, p)), key=lambda i: -probs[i])
    mass = probs[keep].sum()
    assert mass >= p - 1e-12 or len(keep) == logits.size
    assert probs[keep[:-1]].sum() < p + 1e-12  # one token fewer would not reach p
    dropped = set(range(logits.size)) - set(keep)
    if dropped:
        assert min(probs[keep]) >= max(probs[list(dropped)])


@settings(max_examples=60, deadline=None)
@given(LOGITS, st.floats(0.0001, 1.0))
def test_min_p_keeps_tokens_above_fraction_of_top(logits, p):
    probs = direct_probs(logits)
    keep = kept(min_p_filter(logits, p))
    threshold = p * probs.max()
    assert {i for i in range(logits.size) if probs[i] >= threshold * (1 + 1e-9)} <= keep
    assert not {i for i in range(logits.size) if probs[i] < threshold * (1 - 1e-9)} & keep


@settings(max_examples=60, deadline=None)
@given(LOGITS, st.floats(0.05, 0.95))
def test_typical_keeps_the_most_typical_set_reaching_p(logits, p):
    probs = direct_probs(logits)
    entropy = -sum(q * np.log(q) for q in probs if q > 0)
    distance = [abs(-np.log(q) - entropy) if q > 0 else np.inf for q in probs]
    order = sorted(range(logits.size), key=lambda i: (distance[i], i))
    needed, total = [], 0.0
    for i in order:
        needed.append(i)
        total += probs[i]
        if total >= p:
            break
    assert kept(typical_filter(logits, p)) == set(needed)


def test_min_p_exact_case():
    logits = np.log(np.array([0.5, 0.3, 0.1, 0.06, 0.04]))
    assert kept(min_p_filter(logits, 0.2)) == {0, 1, 2}  # 0.1 >= 0.2 * 0.5 ; 0.06 < 0.1


def test_repetition_penalty_direct():
    logits = np.array([2.0, -1.0, 0.5, 3.0, -2.0])
    out = apply_repetition_penalty(logits, [0, 1, 1, 3], penalty=2.0, window=3)  # window: [1, 1, 3]
    np.testing.assert_array_equal(out, [2.0, -2.0, 0.5, 1.5, -2.0])
    np.testing.assert_array_equal(apply_repetition_penalty(logits, [0, 1, 1, 3], 2.0, 0), [1.0, -2.0, 0.5, 1.5, -2.0])


def test_greedy_is_argmax_after_penalty():
    logits = np.array([1.0, 4.0, 3.5, 0.0])
    greedy = SamplerParams.greedy()
    assert sample(logits, greedy, [], make_rng(0)) == 1
    penalised = SamplerParams(temperature=0.0, repetition_penalty=1.5, repetition_range=8)
    assert sample(logits, penalised, [1], make_rng(0)) == 2  # 4 / 1.5 < 3.5


def test_temperature_distribution_matches_softmax():
    logits = np.array([1.0, 0.2, -0.5, 2.0, 0.0])
    params = SamplerParams(temperature=0.7, top_k=0, top_p=1.0, min_p=0.0)
    rng = make_rng(1234)
    draws = np.array([sample(logits, params, [], rng) for _ in range(20000)])
    freq = np.bincount(draws, minlength=logits.size) / draws.size
    np.testing.assert_allclose(freq, direct_probs(logits / 0.7), atol=0.02)


def test_truncated_tokens_are_never_drawn_and_rest_is_renormalised():
    logits = np.array([3.0, 2.9, 1.0, 0.5, -1.0, 2.5])
    params = SamplerParams(temperature=1.0, top_k=3, top_p=1.0, min_p=0.0)
    rng = make_rng(7)
    draws = np.array([sample(logits, params, [], rng) for _ in range(10000)])
    assert set(draws.tolist()) <= {0, 1, 5}
    freq = np.bincount(draws, minlength=6)[[0, 1, 5]] / draws.size
    np.testing.assert_allclose(freq, direct_probs(logits[[0, 1, 5]]), atol=0.02)


def test_seeded_draws_are_reproducible():
    logits = np.random.default_rng(0).normal(size=500)
    params = SamplerParams(temperature=1.2, top_k=100, top_p=0.9, min_p=0.01)
    first = [sample(logits, params, [], r) for r in [make_rng(42)] for _ in range(50)]
    second = [sample(logits, params, [], r) for r in [make_rng(42)] for _ in range(50)]
    assert first == second
    assert len(set(first)) > 1


def test_softmax_handles_minus_inf():
    probs = softmax(np.array([0.0, -np.inf, 0.0]))
    np.testing.assert_allclose(probs, [0.5, 0.0, 0.5])


@pytest.mark.parametrize("value", [1.0, 1.5])
def test_disabled_filters_are_identity(value):
    logits = np.random.default_rng(3).normal(size=30)
    np.testing.assert_array_equal(top_p_filter(logits, value), logits)
    np.testing.assert_array_equal(typical_filter(logits, value), logits)
    np.testing.assert_array_equal(top_k_filter(logits, 0), logits)
    np.testing.assert_array_equal(min_p_filter(logits, 0.0), logits)


def test_params_from_profile_defaults():
    from engine.settings import SamplerDefaults

    defaults = SamplerDefaults(temperature=0.3, top_k=7, top_p=0.5, min_p=0.2, typical=0.9, rep_pen=1.3, rep_pen_range=9)
    params = SamplerParams.from_defaults(defaults)
    assert (params.temperature, params.top_k, params.top_p, params.min_p, params.typical) == (0.3, 7, 0.5, 0.2, 0.9)
    assert (params.repetition_penalty, params.repetition_range) == (1.3, 9)
