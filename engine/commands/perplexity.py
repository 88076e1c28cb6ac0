"""``quantlaunch-engine perplexity``: perplexity of a model on a text file.

The text is tokenized once and cut into windows of ``--ctx`` tokens (each led by BOS when
the file asks for one). In each window every token after the first is scored by the logits
of the position before it; perplexity = exp(mean negative log-likelihood)."""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.commands.logits import all_position_logits
from engine.commands.model_args import add_model_arguments, open_model
from engine.diagnostics import DiagnosticError, error


@dataclass(frozen=True)
class PerplexityResult:
    perplexity: float
    nll_sum: float  # natural log
    n_scored: int
    n_windows: int


def window_nll(logits: np.ndarray, tokens: Sequence[int]) -> tuple[float, int]:
    """(sum of -log p(tokens[i+1] | ..i), count) from logits (len(tokens), n_vocab)."""
    rows = np.asarray(logits[:-1], dtype=np.float64)  # (T-1, n_vocab) predictions
    targets = np.asarray(tokens[1:], dtype=np.int64)  # (T-1,)
    peak = rows.max(axis=1, keepdims=True)  # (T-1, 1)
    log_norm = peak[:, 0] + np.log(np.exp(rows - peak).sum(axis=1))  # (T-1,) log-sum-exp
    picked = rows[np.arange(targets.shape[0]), targets]  # (T-1,)
    return float(np.sum(log_norm - picked)), int(targets.shape[0])


def windows(ids: Sequence[int], ctx: int, bos: int | None) -> list[list[int]]:
    """Consecutive windows of at most ``ctx`` tokens (BOS first when given); the text is
    split into pieces of ctx (or ctx - 1 with BOS) tokens; a window needs two tokens."""
    step = ctx - 1 if bos is not None else ctx
    out = []
    for start in range(0, len(ids), step):
        piece = list(ids[start : start + step])  # (step,) text tokens
        window = [bos, *piece] if bos is not None else piece
        if len(window) >= 2:
            out.append(window)
    return out


def compute_perplexity(model: Any, ids: Sequence[int], ctx: int, bos: int | None) -> PerplexityResult:
    total, count, parts = 0.0, 0, windows(ids, ctx, bos)
    for window in parts:
        nll, n = window_nll(all_position_logits(model, window), window)
        total, count = total + nll, count + n
    if count == 0:
        raise DiagnosticError(
            error("QL-E-TEXT-SHORT", "The text is too short", "Perplexity needs at least two tokens of text.")
        )
    return PerplexityResult(math.exp(total / count), total, count, len(parts))


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("perplexity", help="perplexity of the model on a text file")
    add_model_arguments(parser, default_ctx=512)
    parser.add_argument("--text", required=True, type=Path, help="UTF-8 text file")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    parser.set_defaults(run=run)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DiagnosticError(
            error("QL-E-FILE", "Cannot read the text file", f"{path}: {exc}", path=str(path))
        ) from exc


def run(args: argparse.Namespace) -> int:
    if args.ctx < 2:
        raise DiagnosticError(error("QL-E-ARGS", "Context too small", "--ctx must be at least 2."))
    text = _read_text(args.text)
    with open_model(args, n_ctx=args.ctx) as opened:
        tokenizer = opened.tokenizer
        bos = tokenizer.bos_id if tokenizer.vocab.add_bos else None
        result = compute_perplexity(opened.model, tokenizer.encode(text, add_special=False), args.ctx, bos)
    if args.json:
        print(json.dumps(result.__dict__))
    else:
        print(f"perplexity: {result.perplexity:.4f} ({result.n_scored} tokens scored in {result.n_windows} windows)")
    return 0
