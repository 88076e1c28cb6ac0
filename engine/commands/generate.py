"""``quantlaunch-engine generate``: stream a continuation of a prompt to stdout."""

from __future__ import annotations

import argparse
import sys

from engine.chat_template import render_chat
from engine.commands.model_args import add_model_arguments, open_model
from engine.diagnostics import DiagnosticError
from engine.generate import GenerationParams, generate
from engine.sampling import SamplerParams
from engine.settings import SamplerDefaults


def add_parser(subparsers) -> None:
    defaults = SamplerDefaults()
    parser = subparsers.add_parser("generate", help="generate text from a prompt (streams to stdout)")
    add_model_arguments(parser)
    parser.add_argument("--prompt", required=True)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--temperature", type=float, default=defaults.temperature, help="0 = greedy")
    parser.add_argument("--top-k", type=int, default=defaults.top_k)
    parser.add_argument("--top-p", type=float, default=defaults.top_p)
    parser.add_argument("--min-p", type=float, default=defaults.min_p)
    parser.add_argument("--typical", type=float, default=defaults.typical)
    parser.add_argument("--repeat-penalty", type=float, default=defaults.rep_pen)
    parser.add_argument("--repeat-range", type=int, default=defaults.rep_pen_range)
    parser.add_argument("--seed", type=int, default=defaults.seed, help="-1 = random")
    parser.add_argument("--stop", action="append", default=[], help="stop string (repeatable)")
    parser.add_argument("--chat", action="store_true", help="wrap the prompt in the model's chat template")
    parser.set_defaults(run=run)


def sampler_from_args(args: argparse.Namespace) -> SamplerParams:
    return SamplerParams(
        temperature=args.temperature, top_k=args.top_k, top_p=args.top_p, min_p=args.min_p,
        typical=args.typical, repetition_penalty=args.repeat_penalty, repetition_range=args.repeat_range,
    )


def prompt_ids(tokenizer, prompt: str, chat: bool) -> list[int]:
    """Token ids of the prompt; a chat prompt is rendered by the template, which writes its
    own special tokens (BOS is added only if the file wants one and the template did not)."""
    if not chat:
        return tokenizer.encode(prompt, add_special=True)
    text = render_chat(tokenizer, [{"role": "user", "content": prompt}], add_generation_prompt=True)
    ids = tokenizer.encode(text, add_special=False)
    bos = tokenizer.bos_id
    if tokenizer.vocab.add_bos and bos is not None and (not ids or ids[0] != bos):
        ids.insert(0, bos)
    return ids


def _print_text(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def run(args: argparse.Namespace) -> int:
    with open_model(args) as opened:
        ids = prompt_ids(opened.tokenizer, args.prompt, args.chat)
        params = GenerationParams(
            max_tokens=args.max_tokens, stop=tuple(args.stop), sampler=sampler_from_args(args), seed=args.seed
        )
        if not args.chat:
            _print_text(args.prompt)
        try:
            result = generate(opened.model, opened.tokenizer, ids, params, on_text=_print_text)
        except DiagnosticError:
            _print_text("\n")  # the error message starts on a line of its own
            raise
    _print_text("\n")
    t = result.timings
    print(
        f"[{result.n_prompt} prompt tokens in {t.prefill_s:.2f} s, {result.n_generated} generated at "
        f"{t.tokens_per_s:.1f} tokens/s; stopped: {result.stop_reason}]",
        file=sys.stderr,
    )
    return 0
