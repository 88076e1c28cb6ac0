"""``quantlaunch-engine inspect FILE [--json]``: what a GGUF file holds, from its header only.

A damaged or foreign file prints its one diagnostic on stderr and exits 1 (via engine.cli).
"""

from __future__ import annotations

import json
from dataclasses import asdict

from engine.model_file import inspect_model
from engine.model_info import ModelInfo

MIB = 1024 * 1024


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("inspect", help="show a GGUF model's architecture, types and tokenizer")
    parser.add_argument("file", help="GGUF model file")
    parser.add_argument("--json", action="store_true", help="print everything as JSON (tensors included)")
    parser.set_defaults(run=run)


def run(args) -> int:
    info = inspect_model(args.file)
    print(json.dumps(info_to_dict(info), indent=2, default=str) if args.json else summary_text(info))
    return 0


def info_to_dict(info: ModelInfo) -> dict:
    data = asdict(info)
    data["total_tensor_bytes"] = info.total_tensor_bytes
    return data


def _census_lines(info: ModelInfo) -> list[str]:
    total = max(info.total_tensor_bytes, 1)
    lines = [f"  {'type':<8} {'tensors':>7} {'MiB':>10} {'share':>6} {'elements':>14}"]
    for entry in info.census:
        share = 100.0 * entry.n_bytes / total
        lines.append(f"  {entry.type_name:<8} {entry.count:>7} {entry.n_bytes / MIB:>10.2f} {share:>5.1f}% {entry.n_elements:>14,}")
    return lines


def _hparam_lines(info: ModelInfo) -> list[str]:
    hp = info.hparams
    if hp is None:
        return [f"  (no hyperparameters: the {info.architecture!r} keys are not there)"]
    return [
        f"  layers {hp.n_layers}, width {hp.n_embd}, heads {hp.n_head} (kv {hp.n_head_kv}, dim {hp.head_dim}), ffn {hp.n_ff}",
        f"  context {hp.n_ctx_train}, vocab {hp.vocab_size}, norm eps {hp.norm_eps:g}",
        f"  rope {hp.rope_type}, base {hp.rope_base:g}, scale {hp.rope_scale:g}" + (f", dims {hp.rope_dim}" if hp.rope_dim else ""),
    ]


def summary_text(info: ModelInfo) -> str:
    bos = "adds BOS" if info.add_bos else "no BOS added"
    lines = [
        f"{info.name}  ({info.path})",
        f"  architecture {info.architecture}, file type {info.file_type}, {info.file_size / MIB:.1f} MiB, "
        f"{len(info.tensors)} tensors, GGUF v{info.metadata.get('GGUF.version', '?')}".replace(", GGUF v?", ""),
        "hyperparameters",
        *_hparam_lines(info),
        "tensor types (by size)",
        *_census_lines(info),
        "tokenizer",
        f"  {info.tokenizer_model or '(none)'}" + (f" / {info.tokenizer_pre}" if info.tokenizer_pre else "")
        + f", bos {info.bos_token_id}, eos {info.eos_token_id}, {bos}",
        f"  chat template: {'yes' if info.has_chat_template else 'no'}",
    ]
    return "\n".join(lines)
