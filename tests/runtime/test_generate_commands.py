"""The runtime commands' pure parts (no model): token lists, kernel choice, perplexity maths."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.commands.logits import all_position_logits, check_token_range, parse_token_list
from engine.commands.model_args import kernel_path
from engine.commands.perplexity import compute_perplexity, window_nll, windows
from engine.diagnostics import DiagnosticError


def test_parse_token_list():
    assert parse_token_list("1, 504,3575") == [1, 504, 3575]
    for bad in ("1,x,3", "", ","):
        with pytest.raises(DiagnosticError):
            parse_token_list(bad)
    with pytest.raises(DiagnosticError):
        check_token_range([1, 70000], 49152)


@pytest.mark.parametrize(
    ("choice", "cc", "expected"),
    [("auto", 86, "mmvq"), ("auto", 61, "mmvq"), ("auto", 52, "dmmv"), ("auto", 37, "dmmv"),
     ("mmvq", 52, "mmvq-soft"), ("mmvq", 90, "mmvq"), ("dmmv", 90, "dmmv")],
)
def test_kernel_path_per_device(choice, cc, expected):
    assert kernel_path(choice, cc) == expected


def test_windows_cover_the_text_once():
    ids = list(range(10, 33))  # 23 tokens
    plain = windows(ids, 8, None)
    assert [len(w) for w in plain] == [8, 8, 7] and sum(plain, []) == ids
    with_bos = windows(ids, 8, 1)
    assert all(w[0] == 1 and len(w) <= 8 for w in with_bos)
    assert sum((w[1:] for w in with_bos), []) == ids


def test_window_nll_matches_direct_log_probabilities():
    rng = np.random.default_rng(5)
    logits = rng.normal(size=(6, 11)).astype(np.float32) * 4
    tokens = [3, 7, 0, 10, 2, 5]
    expected = 0.0
    for row, target in zip(logits[:-1].astype(np.float64), tokens[1:], strict=True):
        probs = np.exp(row) / np.exp(row).sum()
        expected -= math.log(probs[target])
    total, count = window_nll(logits, tokens)
    assert count == 5 and total == pytest.approx(expected, rel=1e-9)


class TableModel:
    """forward(all_logits=True) gives fixed per-token logits; records chunking."""

    def __init__(self, n_vocab=7):
        self.table = np.random.default_rng(1).normal(size=(n_vocab, n_vocab)).astype(np.float32)
        self.n_ctx, self.calls = 64, []

    def reset(self):
        self.calls.clear()

    def forward(self, tokens, start_pos, *, all_logits=False):
        self.calls.append((start_pos, len(tokens)))
        rows = self.table[list(tokens)]  # (T, n_vocab): logits depend on the current token only
        return rows if all_logits else rows[-1]


def test_all_position_logits_chunks_and_concatenates():
    model = TableModel()
    ids = [1, 2, 3, 4, 5, 6, 0]
    out = all_position_logits(model, ids, chunk=3)
    assert model.calls == [(0, 3), (3, 3), (6, 1)]
    assert out.dtype == np.float32 and np.array_equal(out, model.table[ids])


def test_compute_perplexity_of_a_known_model():
    model = TableModel()
    ids = [1, 2, 3, 4, 5, 6, 0, 2, 4]
    result = compute_perplexity(model, ids, ctx=4, bos=None)
    log_probs = model.table.astype(np.float64) - np.log(np.exp(model.table.astype(np.float64)).sum(axis=1, keepdims=True))
    scored = [(w[i], w[i + 1]) for w in (ids[0:4], ids[4:8], ids[8:9]) for i in range(len(w) - 1)]
    expected = math.exp(-np.mean([log_probs[a, b] for a, b in scored]))
    assert result.n_scored == len(scored) and result.perplexity == pytest.approx(expected, rel=1e-9)


def test_perplexity_of_one_token_is_a_diagnostic():
    with pytest.raises(DiagnosticError):
        compute_perplexity(TableModel(), [3], ctx=4, bos=None)
