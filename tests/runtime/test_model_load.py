"""Loading: the architecture table, diagnostics before weights, progress, the demo model."""

from __future__ import annotations

import numpy as np
import pytest
from model_fixtures import small_model

from engine.diagnostics import DiagnosticError
from engine.model import ARCH_PRESETS, load_model


def test_unsupported_architecture_is_a_diagnostic_before_any_weight(tmp_path):
    path = small_model(tmp_path, "Q4_0", rope_type="neox")  # written as "qwen2"
    seen = []
    with pytest.raises(DiagnosticError) as caught:
        load_model(path, on_progress=lambda *a: seen.append(a))
    diag = caught.value.diagnostic
    assert diag.code == "QL-E-ARCH"
    assert diag.title.startswith("not supported yet: qwen2 (supported: ")
    assert all(name in diag.title for name in ARCH_PRESETS)
    assert seen == []


def test_truncated_file_is_a_diagnostic(tmp_path):
    path = small_model(tmp_path, "Q8_0")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 4096])
    with pytest.raises(DiagnosticError):
        load_model(path)


def test_progress_reaches_the_total(tmp_path):
    seen = []
    load_model(small_model(tmp_path, "Q5_K"), n_ctx=8, on_progress=lambda *a: seen.append(a))
    stages, done, total = zip(*seen, strict=True)
    assert set(stages) == {"load"}
    assert list(done) == sorted(done) and done[-1] == total[-1] > 0


def test_demo_model_loads_on_cpu_and_predicts():
    from engine.demo import demo_model_path

    path = demo_model_path()
    if path is None:
        pytest.skip("demo model package not installed")
    model = load_model(path, n_ctx=64)
    assert model.info.architecture == "llama" and model.n_vocab == 49152 and model.tied_output
    logits = model.forward([1, 504, 3458, 282], 0)  # token ids of a short text
    assert logits.shape == (49152,) and np.isfinite(logits).all()
    model.close()
