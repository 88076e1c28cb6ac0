"""Bad inputs to the runtime commands end in one clear diagnostic, never a traceback or an
"Internal error": damaged weights (NaN/inf logits), a model path that is a folder or missing,
a hostile --profile file; and an abort during a long prefill stops it between chunks."""

from __future__ import annotations

import io
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
from damaged_models import DAMAGE, FlakyModel, damaged_model

from engine.cli import main
from engine.commands.serve import read_profile
from engine.diagnostics import DiagnosticError
from engine.generate import GenerationParams, generate
from engine.model_file import inspect_model
from engine.sampling import SamplerParams

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", params=sorted(DAMAGE))
def damaged(request, tmp_path_factory) -> Path:
    return damaged_model(tmp_path_factory.mktemp("damaged"), *DAMAGE[request.param])


def _assert_model_nan(err: str, path: Path) -> None:
    assert "[QL-E-MODEL-NAN]" in err and "weights are probably damaged" in err and str(path) in err
    assert "Internal error" not in err and "Traceback" not in err


@pytest.mark.parametrize("temperature", ["0", "0.8"])
def test_generate_on_damaged_weights_is_a_clear_error(damaged, temperature, capsys):
    rc = main(["generate", "--model", str(damaged), "--prompt", "hello there", "--max-tokens", "4",
               "--temperature", temperature, "--seed", "1"])
    assert rc == 1
    _assert_model_nan(capsys.readouterr().err, damaged)


def test_logits_and_perplexity_on_damaged_weights_are_clear_errors(damaged, tmp_path, capsys):
    assert main(["logits", "--model", str(damaged), "--prompt", "hello there", "--out", str(tmp_path / "l.npy")]) == 1
    _assert_model_nan(capsys.readouterr().err, damaged)
    assert not (tmp_path / "l.npy").exists()
    text = tmp_path / "t.txt"
    text.write_text("the quick brown fox jumps over the lazy dog " * 4, encoding="utf-8")
    assert main(["perplexity", "--model", str(damaged), "--text", str(text), "--ctx", "16"]) == 1
    _assert_model_nan(capsys.readouterr().err, damaged)


@pytest.mark.parametrize("sampler", [SamplerParams.greedy(), SamplerParams(temperature=0.8)], ids=["greedy", "sampled"])
def test_nan_in_a_decode_step_is_a_clear_error(sampler, tiny_tokenizer):
    """Sampling would raise "Probabilities contain NaN"; greedy would pick token 7 silently."""
    params = GenerationParams(max_tokens=10, sampler=sampler, seed=1, stop_at_eog=False)
    with pytest.raises(DiagnosticError) as caught:
        generate(FlakyModel(bad_step=3), tiny_tokenizer, [1, 2, 3], params)
    assert caught.value.diagnostic.code == "QL-E-MODEL-NAN"


def test_server_reports_damaged_weights_clearly(tmp_path):
    from engine.model import load_model
    from engine.tokenizer import Tokenizer
    from tests.server.conftest import serving

    path = damaged_model(tmp_path, *DAMAGE["nan-output-norm"])
    model = load_model(path, n_ctx=128)
    try:
        with serving((model, Tokenizer.from_gguf(path))) as running:
            plain = httpx.post(f"{running.url}/v1/completions", json={"prompt": "hi", "max_tokens": 3}, timeout=60)
            streamed = httpx.post(f"{running.url}/v1/completions",
                                  json={"prompt": "hi", "max_tokens": 3, "stream": True}, timeout=60)
            kobold = httpx.post(f"{running.url}/api/v1/generate", json={"prompt": "hi", "max_length": 3}, timeout=60)
    finally:
        model.close()
    assert plain.status_code == 400 and plain.json()["error"]["code"] == "QL-E-MODEL-NAN"
    assert "weights are probably damaged" in plain.json()["error"]["message"]
    assert "weights are probably damaged" in streamed.text and "internal" not in streamed.text.lower()
    assert kobold.status_code == 400 and "weights are probably damaged" in kobold.json()["detail"]["msg"]


def test_abort_during_prefill_stops_between_chunks(tiny_tokenizer):
    """An abort (cancel set from another thread) while a long prompt is prefilled takes effect
    before the next chunk, not after the whole prompt."""
    cancel = threading.Event()

    class SlowModel(FlakyModel):
        def __init__(self):
            super().__init__(bad_step=10**9)
            self.n_ctx, self.calls = 4096, []

        def forward(self, tokens, start_pos, *, all_logits=False):
            self.calls.append((start_pos, len(tokens)))
            cancel.set()  # the abort arrives while this chunk runs
            return super().forward(tokens, start_pos)

    model, shown = SlowModel(), []
    params = GenerationParams(max_tokens=5, sampler=SamplerParams.greedy(), prefill_chunk=256)
    result = generate(model, tiny_tokenizer, [5] * 3000, params, on_text=shown.append, cancel=cancel)
    assert model.calls == [(0, 256)]
    assert result.stop_reason == "cancelled" and result.n_generated == 0 and shown == []


# --- the model path: generate, logits, perplexity and serve say what inspect says -------------


def _path_case(tmp_path: Path, case: str) -> Path:
    if case == "folder":
        folder = tmp_path / "models"
        folder.mkdir()
        return folder
    return tmp_path / "missing.gguf"


def _command(name: str, model: Path, tmp_path: Path) -> list[str]:
    text = tmp_path / "t.txt"
    text.write_text("some text to score", encoding="utf-8")
    extra = {"generate": ["--prompt", "hi"], "logits": ["--prompt", "hi", "--out", str(tmp_path / "o.npy")],
             "perplexity": ["--text", str(text)]}[name]
    return [name, "--model", str(model), *extra]


@pytest.mark.parametrize("case", ["folder", "missing"])
@pytest.mark.parametrize("command", ["generate", "logits", "perplexity"])
def test_bad_model_path_matches_inspect(command, case, tmp_path, capsys):
    path = _path_case(tmp_path, case)
    assert main(["inspect", str(path)]) == 1
    expected = capsys.readouterr().err
    assert "[QL-E-FILE-" in expected
    assert main(_command(command, path, tmp_path)) == 1
    assert capsys.readouterr().err == expected


@pytest.mark.parametrize("case", ["folder", "missing"])
def test_serve_bad_model_path_matches_inspect(case, tmp_path):
    import json

    path = _path_case(tmp_path, case)
    with pytest.raises(DiagnosticError) as caught:
        inspect_model(path)
    done = subprocess.run([sys.executable, "-m", "engine", "serve", "--model", str(path), "--cpu", "--port", "0"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    errors = [e["diagnostic"] for e in events if e["event"] == "error"]
    assert done.returncode != 0 and len(errors) == 1
    assert errors[0] == caught.value.diagnostic.to_dict()


# --- serve --profile: hostile JSON is a clear QL-E-PROFILE-CORRUPT ----------------------------

HOSTILE_PROFILES = {
    "deep": ("[" * 100_000, "nested too deeply"),
    "long-number": ('{"schema_version": 1, "x": ' + "9" * 5000 + "}", "too many digits"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_PROFILES))
def test_hostile_profile_file_is_a_clear_error(case, tmp_path):
    text, words = HOSTILE_PROFILES[case]
    path = tmp_path / "profile.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DiagnosticError) as caught:
        read_profile(str(path))
    assert caught.value.diagnostic.code == "QL-E-PROFILE-CORRUPT" and words in caught.value.diagnostic.detail


@pytest.mark.parametrize("case", sorted(HOSTILE_PROFILES))
def test_hostile_profile_on_stdin_is_a_clear_error(case, monkeypatch):
    text, words = HOSTILE_PROFILES[case]
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    with pytest.raises(DiagnosticError) as caught:
        read_profile("-")
    diag = caught.value.diagnostic
    assert diag.code == "QL-E-PROFILE-CORRUPT" and words in diag.detail and "<stdin>" in diag.detail
