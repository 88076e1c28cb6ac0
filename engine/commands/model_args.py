"""What the runtime commands (generate, logits, perplexity) share: the model arguments and
opening a model + tokenizer from them. ``--model demo`` resolves through ``engine.demo``."""

from __future__ import annotations

import argparse
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from engine.backends.spec import BackendSpec
from engine.demo import resolve_model_path
from engine.diagnostics import DiagnosticError, error
from engine.tokenizer import Tokenizer


def add_model_arguments(parser: argparse.ArgumentParser, default_ctx: int = 2048) -> None:
    parser.add_argument("--model", required=True, help="GGUF file, or 'demo' for the bundled demo model")
    parser.add_argument("--backend", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--kernel", choices=("auto", "mmvq", "dmmv"), default="auto",
                        help="mat-vec path on the GPU (auto: mmvq where the card has dp4a, else dmmv)")
    parser.add_argument("--device", type=int, default=0, help="CUDA device ordinal (with --backend cuda)")
    parser.add_argument("--ctx", type=int, default=default_ctx, help="context size in tokens")


def _compute_capability(device_id: int) -> int:
    """e.g. 61 for a GTX 1080; imports CuPy only when a GPU was asked for."""
    try:
        import cupy

        return int(cupy.cuda.Device(device_id).compute_capability)
    except Exception as exc:  # no driver, no device, bad ordinal
        raise DiagnosticError(
            error("QL-E-NO-CUDA", "No usable CUDA device",
                  f"--backend cuda needs CUDA device {device_id}, which is not usable here ({exc}). "
                  "Use --backend cpu.", device=device_id)
        ) from exc


def kernel_path(choice: str, compute_capability: int) -> str:
    """The mat-vec path for a device: auto picks mmvq at cc >= 6.1; forced mmvq below that
    uses the software dp4a build."""
    has_dp4a = compute_capability >= 61
    if choice == "dmmv" or (choice == "auto" and not has_dp4a):
        return "dmmv"
    return "mmvq" if has_dp4a else "mmvq-soft"


def backend_spec(args: argparse.Namespace, n_layers: int) -> BackendSpec:
    if args.backend == "cpu":
        return BackendSpec.cpu()
    path = kernel_path(args.kernel, _compute_capability(args.device))
    return BackendSpec.single_gpu(n_layers, path, device_id=args.device)


@dataclass(frozen=True)
class OpenedModel:
    model: Any  # engine.model.LlamaModel
    tokenizer: Tokenizer


@contextmanager
def open_model(args: argparse.Namespace, n_ctx: int | None = None):
    """Load the model and tokenizer named by ``args``; the model is closed on exit."""
    from engine.model import load_model
    from engine.model_file import inspect_model

    path = resolve_model_path(args.model)
    info = inspect_model(path)
    tokenizer = Tokenizer.from_gguf(path)
    for note in tokenizer.warnings:
        print(note.one_line(), file=sys.stderr)
    n_layers = info.hparams.n_layers if info.hparams else 0
    model = load_model(path, backend_spec(args, n_layers), n_ctx=n_ctx or args.ctx)
    try:
        yield OpenedModel(model, tokenizer)
    finally:
        model.close()
