"""Every hostile file class gives exactly its one diagnostic, through the API and the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from model_file_cases import hostile_files, write_small_gguf

from engine.diagnostics import DiagnosticError
from engine.model_file import inspect_model, load_metadata_array

REPO = Path(__file__).resolve().parents[2]
# engine.cli.main with only this area's sub-commands registered, so these tests do not
# depend on the other sub-commands being importable.
CLI_SCRIPT = "import sys, engine.cli as cli; cli.COMMANDS = ('inspect', 'synth'); sys.exit(cli.main(sys.argv[1:]))"
CASE_NAMES = [  # listed explicitly for stable test ids; checked against hostile_files() below
    "not_gguf", "empty", "truncated_header", "truncated_data", "bad_magic", "version_1", "version_99",
    "version_50331648", "absurd_tensor_count", "absurd_kv_count", "absurd_key_length", "absurd_array_length",
    "tensor_past_end", "overlapping_tensors", "unknown_type_id", "no_architecture", "no_block_count",
    "directory", "missing_path",
]


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    return hostile_files(tmp_path_factory.mktemp("hostile"))


def test_case_list_is_complete(cases):
    assert sorted(cases) == sorted(CASE_NAMES)


@pytest.mark.parametrize("case", CASE_NAMES)
def test_api_raises_the_one_diagnostic(cases, case):
    path, code, fact = cases[case]
    with pytest.raises(DiagnosticError) as caught:
        inspect_model(path)
    diagnostic = caught.value.diagnostic
    assert diagnostic.code == code
    assert diagnostic.is_error and diagnostic.title
    assert fact in diagnostic.detail
    assert any(r.action == "choose_other_file" for r in diagnostic.remedies)


@pytest.mark.parametrize("case", CASE_NAMES)
def test_cli_prints_the_diagnostic_and_exits_1(cases, case):
    path, code, _fact = cases[case]
    done = subprocess.run([sys.executable, "-c", CLI_SCRIPT, "inspect", str(path)], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    first_line = done.stderr.splitlines()[0]
    assert first_line.startswith("error: ") and first_line.endswith(f"[{code}]")
    assert done.stdout == ""


def test_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.gguf"
    os.mkfifo(fifo)
    with pytest.raises(DiagnosticError) as caught:
        inspect_model(fifo)
    assert caught.value.diagnostic.code == "QL-E-FILE-UNREADABLE"


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path):
    path = write_small_gguf(tmp_path / "locked.gguf")
    path.chmod(0)
    with pytest.raises(DiagnosticError) as caught:
        inspect_model(path)
    assert caught.value.diagnostic.code == "QL-E-FILE-UNREADABLE"


def test_i32_tensor_is_named_with_its_ggml_type(tmp_path):
    from model_file_cases import patch, tensor_field_offsets

    path = write_small_gguf(tmp_path / "i32.gguf")
    patch(path, tensor_field_offsets(path, 2)[0], (26).to_bytes(4, "little"))  # output_norm: F32 -> I32 (same size)
    with pytest.raises(DiagnosticError) as caught:
        inspect_model(path)
    assert "'output_norm.weight' has type id 26 (I32 in GGML)" in caught.value.diagnostic.detail


def test_load_metadata_array_missing_key(tmp_path):
    path = write_small_gguf(tmp_path / "v.gguf")
    with pytest.raises(DiagnosticError) as caught:
        load_metadata_array(path, "tokenizer.ggml.merges")
    assert caught.value.diagnostic.code == "QL-E-FILE-MISSING-KEY"
    assert load_metadata_array(path, "tokenizer.ggml.scores") == [0.0, -1.0, -2.0, -3.0, -4.0]


def test_cli_inspect_and_synth_succeed(tmp_path):
    out = tmp_path / "cli.gguf"
    made = subprocess.run([sys.executable, "-c", CLI_SCRIPT, "synth", str(out), "--type", "Q8_0", "--layers", "1",
                           "--type-role", "output=Q6_K", "--embd", "256", "--ff", "256", "--chat-template"],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    shown = subprocess.run([sys.executable, "-c", CLI_SCRIPT, "inspect", str(out)], cwd=REPO,
                           capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert "file type Q8_0" in shown.stdout and "Q6_K" in shown.stdout and "chat template: yes" in shown.stdout
    as_json = subprocess.run([sys.executable, "-c", CLI_SCRIPT, "inspect", "--json", str(out)], cwd=REPO,
                             capture_output=True, text=True, timeout=60)
    import json

    data = json.loads(as_json.stdout)
    assert data["hparams"]["n_layers"] == 1 and data["census"][0]["type_name"] == "Q8_0"


def test_cli_synth_bad_shape_is_a_diagnostic(tmp_path):
    done = subprocess.run([sys.executable, "-c", CLI_SCRIPT, "synth", str(tmp_path / "x.gguf"), "--type", "Q4_K",
                           "--embd", "64"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "[QL-E-SYNTH-SPEC]" in done.stderr.splitlines()[0] and "n_embd=64" in done.stderr
    assert not (tmp_path / "x.gguf").exists()
