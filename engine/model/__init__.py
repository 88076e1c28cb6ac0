"""The llama-family model: load_model(path, backend) -> LlamaModel (see llama.py).

Contract (shared with tokenizer/generate): ``forward(tokens, start_pos, all_logits=False)``
returns float32 host logits, ``(n_vocab,)`` for the last token or ``(T, n_vocab)``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from engine.backends.spec import BackendSpec
from engine.model.config import ARCH_PRESETS, LlamaConfig, config_for, preset_for
from engine.model.llama import LlamaModel
from engine.model_file import inspect_model

CPU_BACKEND = BackendSpec.cpu()  # frozen, so a safe default

__all__ = ["ARCH_PRESETS", "LlamaConfig", "LlamaModel", "load_model", "model_from_info"]


def model_from_info(info, backend: BackendSpec = CPU_BACKEND, *, n_ctx: int = 4096,
                    on_progress: Callable[[str, int, int], None] | None = None,
                    config: LlamaConfig | None = None) -> LlamaModel:
    """Build from an inspected file; ``config`` overrides the one read from metadata (tests)."""
    preset = preset_for(info)  # unsupported architecture -> DiagnosticError before any weight
    cfg = config or config_for(info)
    return LlamaModel(info, cfg, preset, backend, n_ctx, on_progress)


def load_model(path: str | Path, backend: BackendSpec = CPU_BACKEND, *, n_ctx: int = 4096,
               on_progress: Callable[[str, int, int], None] | None = None) -> LlamaModel:
    """Inspect ``path`` and load it on ``backend``; raises DiagnosticError for an unsupported
    architecture ("not supported yet: <arch> (supported: llama, ...)") or a bad file."""
    return model_from_info(inspect_model(path), backend, n_ctx=n_ctx, on_progress=on_progress)
