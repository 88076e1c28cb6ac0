"""Shared helpers for the model/backend tests: small synthetic llama files + tolerances."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.synth import write_synthetic_model
from engine.synth_spec import SynthSpec

# 256-wide rows so every block size (32 and 256 elements) fits; GQA (4 heads, 2 KV heads).
SMALL = dict(n_layers=2, n_embd=256, n_head=4, n_head_kv=2, n_ff=512, vocab_size=300)
PROMPT = (5, 77, 260, 1, 299, 42, 130)


def small_model(tmp_path: Path, weight_type: str, **changes) -> Path:
    spec = SynthSpec(**{**SMALL, "weight_type": weight_type, **changes})
    name = "_".join([weight_type] + [f"{k}-{v}" for k, v in sorted(changes.items())])
    return write_synthetic_model(tmp_path / f"{name}.gguf", spec, rng_seed=len(name))


def max_error_ratio(got: np.ndarray, ref: np.ndarray, atol: float, rtol: float) -> float:
    """max |got - ref| / (atol + rtol * max|ref|): <= 1 means within the stated tolerance."""
    scale = atol + rtol * float(np.abs(ref).max())
    return float(np.abs(np.asarray(got, np.float64) - ref).max() / scale)
