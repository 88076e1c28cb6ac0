"""Choosing the next token from logits: pure functions on NumPy arrays.

Each filter takes logits of shape (n_vocab,) and returns a new float64 array of the same
shape in which removed tokens are ``-inf``. The chain follows llama.cpp's default order:
repetition penalty -> top-k -> typical -> top-p -> min-p -> temperature -> draw.
Every filter keeps at least one token. Randomness comes only from the ``rng`` passed in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SamplerParams:
    temperature: float = 0.8  # <= 0: greedy (argmax)
    top_k: int = 40  # <= 0: off
    top_p: float = 0.95  # >= 1: off
    min_p: float = 0.05  # <= 0: off
    typical: float = 1.0  # >= 1: off
    repetition_penalty: float = 1.0  # 1: off
    repetition_range: int = 64  # how many of the latest tokens are penalised; <= 0: all given

    @classmethod
    def greedy(cls) -> SamplerParams:
        return cls(temperature=0.0, top_k=0, top_p=1.0, min_p=0.0, typical=1.0, repetition_penalty=1.0)

    @classmethod
    def from_defaults(cls, defaults) -> SamplerParams:
        """From ``engine.settings.SamplerDefaults`` (a profile's sampler settings)."""
        return cls(
            temperature=defaults.temperature, top_k=defaults.top_k, top_p=defaults.top_p, min_p=defaults.min_p,
            typical=defaults.typical, repetition_penalty=defaults.rep_pen, repetition_range=defaults.rep_pen_range,
        )

    @property
    def is_greedy(self) -> bool:
        return self.temperature <= 0.0


def softmax(logits: np.ndarray) -> np.ndarray:
    """Probabilities (float64) of logits that may hold -inf; -inf gets probability 0."""
    values = np.asarray(logits, dtype=np.float64)
    shifted = np.exp(values - np.max(values))  # (n_vocab,), max -> 1
    return shifted / shifted.sum()


def apply_repetition_penalty(
    logits: np.ndarray, recent_tokens: Sequence[int], penalty: float, window: int
) -> np.ndarray:
    """Each distinct token among the latest ``window`` ones: positive logits divided by
    ``penalty``, negative ones multiplied by it (the CTRL / llama.cpp rule)."""
    out = np.array(logits, dtype=np.float64)
    if penalty == 1.0 or len(recent_tokens) == 0:
        return out
    latest = recent_tokens[-window:] if window > 0 else recent_tokens
    ids = np.unique(np.asarray(latest, dtype=np.int64))
    ids = ids[(ids >= 0) & (ids < out.shape[0])]
    picked = out[ids]  # (n_distinct,)
    out[ids] = np.where(picked > 0, picked / penalty, picked * penalty)
    return out


def _keep(logits: np.ndarray, keep_ids: np.ndarray) -> np.ndarray:
    out = np.full(logits.shape, -np.inf)
    out[keep_ids] = logits[keep_ids]
    return out


def top_k_filter(logits: np.ndarray, k: int) -> np.ndarray:
    """Keep the ``k`` largest logits (ties broken toward the lower id)."""
    values = np.asarray(logits, dtype=np.float64)
    if k <= 0 or k >= values.shape[0]:
        return values.copy()
    order = np.argsort(-values, kind="stable")  # (n_vocab,) best first
    return _keep(values, order[:k])


def _smallest_prefix(sorted_probs: np.ndarray, mass: float) -> int:
    """How many of the sorted probabilities are needed for their sum to reach ``mass``."""
    cumulative = np.cumsum(sorted_probs)
    return int(min(np.searchsorted(cumulative, mass, side="left") + 1, sorted_probs.shape[0]))


def top_p_filter(logits: np.ndarray, p: float) -> np.ndarray:
    """Keep the smallest set of most likely tokens whose probability reaches ``p``."""
    values = np.asarray(logits, dtype=np.float64)
    if p >= 1.0:
        return values.copy()
    order = np.argsort(-values, kind="stable")  # (n_vocab,) most likely first
    n_keep = _smallest_prefix(softmax(values)[order], p)
    return _keep(values, order[:n_keep])


def min_p_filter(logits: np.ndarray, p: float) -> np.ndarray:
    """Keep tokens whose probability is at least ``p`` times the top token's."""
    values = np.asarray(logits, dtype=np.float64)
    if p <= 0.0:
        return values.copy()
    probs = softmax(values)
    return _keep(values, np.flatnonzero(probs >= p * probs.max()))


def typical_filter(logits: np.ndarray, p: float) -> np.ndarray:
    """Locally typical sampling: keep the tokens whose surprise is closest to the entropy,
    in that order, until their probability reaches ``p``."""
    values = np.asarray(logits, dtype=np.float64)
    if p >= 1.0:
        return values.copy()
    probs = softmax(values)
    alive = probs > 0
    surprise = np.full(values.shape, np.inf)
    surprise[alive] = -np.log(probs[alive])
    entropy = float(np.sum(probs[alive] * surprise[alive]))
    order = np.argsort(np.abs(surprise - entropy), kind="stable")  # (n_vocab,) most typical first
    n_keep = _smallest_prefix(probs[order], p)
    return _keep(values, order[:n_keep])


def filtered_logits(logits: np.ndarray, params: SamplerParams, recent_tokens: Sequence[int]) -> np.ndarray:
    """The logits after penalty and every truncation filter, before temperature."""
    out = apply_repetition_penalty(logits, recent_tokens, params.repetition_penalty, params.repetition_range)
    out = top_k_filter(out, params.top_k)
    out = typical_filter(out, params.typical)
    out = top_p_filter(out, params.top_p)
    return min_p_filter(out, params.min_p)


def sample(
    logits: np.ndarray, params: SamplerParams, recent_tokens: Sequence[int], rng: np.random.Generator
) -> int:
    """The next token id."""
    if params.is_greedy:
        penalised = apply_repetition_penalty(
            logits, recent_tokens, params.repetition_penalty, params.repetition_range
        )
        return int(np.argmax(penalised))
    kept = filtered_logits(logits, params, recent_tokens)
    probs = softmax(kept / params.temperature)
    return int(rng.choice(probs.shape[0], p=probs))


NOT_FINITE_TOKEN = -1  # greedy_token's answer for logits that are not finite (no token id is negative)


def greedy_token(logits: np.ndarray) -> int:
    """np.argmax of ``logits`` (n_vocab,), or NOT_FINITE_TOKEN where that winner is not a finite
    number: a NaN or +inf anywhere, or every value -inf (damaged weights). The device argmax
    (engine/backends/cuda_ops.cu, ql_argmax) follows the same rule, so a model's greedy tokens
    say "not finite" the same way on every backend without the logits reaching the host."""
    best = int(np.argmax(logits))
    return best if np.isfinite(logits[best]) else NOT_FINITE_TOKEN


def make_rng(seed: int | None) -> np.random.Generator:
    """A generator seeded with ``seed``; None or a negative seed: fresh entropy."""
    return np.random.default_rng(None if seed is None or seed < 0 else seed)
