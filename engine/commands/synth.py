"""``quantlaunch-engine synth OUT.gguf``: write a synthetic llama-family model for tests and benchmarks."""

from __future__ import annotations

import time

from engine.synth import write_synthetic_model
from engine.synth_spec import CHATML_TEMPLATE, MATRIX_ROLES, SynthSpec, spec_error


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("synth", help="write a synthetic GGUF model (random weights, working vocabulary)")
    parser.add_argument("out", help="output .gguf path")
    parser.add_argument("--layers", type=int, default=2, help="transformer blocks (default 2)")
    parser.add_argument("--embd", type=int, default=64, help="embedding width (default 64)")
    parser.add_argument("--heads", type=int, default=4, help="attention heads (default 4)")
    parser.add_argument("--kv-heads", type=int, default=None, help="key/value heads (default: --heads)")
    parser.add_argument("--ff", type=int, default=128, help="feed-forward width (default 128)")
    parser.add_argument("--vocab", type=int, default=512, help="vocabulary size (default 512)")
    parser.add_argument("--ctx", type=int, default=2048, help="trained context length (default 2048)")
    parser.add_argument("--type", default="F16", help="weight type of every matrix (default F16), e.g. Q4_K, IQ3_S")
    parser.add_argument("--type-role", action="append", default=[], metavar="ROLE=TYPE",
                        help=f"type for one role (repeatable); roles: {', '.join(MATRIX_ROLES)}")
    parser.add_argument("--tokenizer", choices=("gpt2", "llama"), default="gpt2", help="vocabulary kind (default gpt2)")
    parser.add_argument("--tied", action="store_true", help="no output.weight (output tied to token_embd)")
    parser.add_argument("--rope", choices=("normal", "neox"), default="normal", help="normal -> llama, neox -> qwen2")
    parser.add_argument("--rope-base", type=float, default=10000.0, help="RoPE frequency base (default 10000)")
    parser.add_argument("--chat-template", action="store_true", help="add a ChatML chat template")
    parser.add_argument("--file-type", type=int, default=None, help="general.file_type id (default: from --type)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.set_defaults(run=run)


def _overrides(pairs: list[str]) -> tuple[tuple[str, str], ...]:
    overrides = []
    for pair in pairs:
        role, sep, type_name = pair.partition("=")
        if not sep or not role or not type_name:
            raise spec_error(f"--type-role expects ROLE=TYPE (e.g. output=Q6_K), not {pair!r}.")
        overrides.append((role.strip(), type_name.strip().upper()))
    return tuple(overrides)


def spec_from_args(args) -> SynthSpec:
    return SynthSpec(
        n_layers=args.layers, n_embd=args.embd, n_head=args.heads,
        n_head_kv=args.kv_heads if args.kv_heads is not None else args.heads,
        n_ff=args.ff, vocab_size=args.vocab, n_ctx_train=args.ctx,
        weight_type=args.type.upper(), type_overrides=_overrides(args.type_role),
        tied_output=args.tied, rope_type=args.rope, rope_base=args.rope_base, tokenizer=args.tokenizer,
        chat_template=CHATML_TEMPLATE if args.chat_template else None, file_type=args.file_type,
    )


def run(args) -> int:
    spec = spec_from_args(args)
    start = time.perf_counter()
    path = write_synthetic_model(args.out, spec, rng_seed=args.seed)
    size = path.stat().st_size
    print(f"wrote {path} ({size / 1024 / 1024:.1f} MiB, {spec.architecture}, {spec.weight_type}) "
          f"in {time.perf_counter() - start:.2f} s")
    return 0
