"""``quantlaunch-engine logits``: the logits of every prompt position, saved as .npy.

The output is float32 of shape (n_tokens, n_vocab): row i predicts the token after
position i. Used to compare backends and kernel paths against each other."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from engine.commands.model_args import add_model_arguments, open_model
from engine.diagnostics import DiagnosticError, error
from engine.generate import checked_forward


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("logits", help="write the logits of every prompt position to a .npy file")
    add_model_arguments(parser, default_ctx=0)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--prompt", help="prompt text (BOS added if the file asks for it)")
    source.add_argument("--tokens", help="comma-separated token ids, e.g. 1,504,3575")
    parser.add_argument("--out", required=True, type=Path, help="output .npy file")
    parser.add_argument("--chunk", type=int, default=512, help="tokens per forward call")
    parser.set_defaults(run=run)


def parse_token_list(text: str) -> list[int]:
    try:
        ids = [int(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError as exc:
        raise DiagnosticError(
            error("QL-E-ARGS", "Bad --tokens list", f"Expected comma-separated integers, got {text!r}.")
        ) from exc
    if not ids:
        raise DiagnosticError(error("QL-E-ARGS", "Empty --tokens list", "Give at least one token id."))
    return ids


def check_token_range(ids: Sequence[int], n_vocab: int) -> None:
    bad = [i for i in ids if not 0 <= i < n_vocab]
    if bad:
        raise DiagnosticError(
            error("QL-E-ARGS", "Token id out of range",
                  f"Token ids must lie in 0..{n_vocab - 1}; got {bad[:5]}.", bad=bad[:5], n_vocab=n_vocab)
        )


def all_position_logits(model: Any, ids: Sequence[int], chunk: int = 512) -> np.ndarray:
    """(len(ids), n_vocab) float32 logits, the prompt run from position 0 in chunks; QL-E-MODEL-NAN
    when one is not finite (damaged weights)."""
    model.reset()
    rows = []
    for start in range(0, len(ids), max(1, chunk)):
        part = list(ids[start : start + chunk])  # (chunk,) tokens at positions start..
        rows.append(checked_forward(model, part, start, all_logits=True).astype(np.float32, copy=False))
    return np.concatenate(rows, axis=0)  # (n_tokens, n_vocab)


def _prompt_token_ids(args: argparse.Namespace) -> list[int] | None:
    return parse_token_list(args.tokens) if args.tokens is not None else None


def run(args: argparse.Namespace) -> int:
    given = _prompt_token_ids(args)
    n_ctx = args.ctx or max(len(given) if given else 0, 512)
    with open_model(args, n_ctx=n_ctx) as opened:
        ids = given if given is not None else opened.tokenizer.encode(args.prompt, add_special=True)
        check_token_range(ids, opened.model.n_vocab)
        if len(ids) > opened.model.n_ctx:
            raise DiagnosticError(
                error("QL-E-CONTEXT", "The prompt does not fit the context",
                      f"{len(ids)} tokens, context {opened.model.n_ctx}; pass a larger --ctx.",
                      n_prompt=len(ids), n_ctx=opened.model.n_ctx)
            )
        logits = all_position_logits(opened.model, ids, args.chunk)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.save(args.out, logits)
    print(f"wrote {args.out}: float32 {logits.shape[0]} x {logits.shape[1]}", file=sys.stderr)
    return 0
