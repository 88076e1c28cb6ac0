"""`plan --tensor-split` and `serve --tensor-split`: the flag reaches the planner and the profile."""

from __future__ import annotations

import argparse
import json

import pytest

from engine.commands import plan as plan_command
from engine.commands import serve as serve_command
from engine.diagnostics import DiagnosticError
from engine.settings import DeviceRef, LaunchSettings, Profile
from engine.synth import write_synthetic_model
from engine.synth_spec import SynthSpec


def _args(module, argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    module.add_parser(parser.add_subparsers())
    return parser.parse_args(argv)


@pytest.fixture(scope="module")
def eight_layer_file(tmp_path_factory):
    spec = SynthSpec(n_layers=8, n_embd=256, n_head=4, n_head_kv=2, n_ff=512, vocab_size=512, weight_type="Q4_K")
    return str(write_synthetic_model(tmp_path_factory.mktemp("split") / "m.gguf", spec))


def test_plan_flag_splits_the_layers_in_that_ratio(eight_layer_file, capsys):
    args = _args(plan_command, ["plan", "--model", eight_layer_file, "--rig", "three-mixed",
                                "--devices", "0,1", "--tensor-split", "3,1", "--json"])
    assert args.run(args) == 0
    document = json.loads(capsys.readouterr().out)
    assert [d["layers"] for d in document["devices"]] == [[0, 6], [6, 8], None]  # 8 blocks at 3:1


def test_plan_flag_with_a_share_per_card_that_is_missing_is_an_error(eight_layer_file, capsys):
    args = _args(plan_command, ["plan", "--model", eight_layer_file, "--rig", "three-mixed", "--tensor-split", "3,1"])
    assert args.run(args) == 1  # three GPUs selected, two shares
    out = capsys.readouterr().out
    assert "QL-E-SETTINGS" in out and "tensor_split" in out


def test_plan_flag_that_is_not_numbers_is_a_diagnostic(eight_layer_file):
    args = _args(plan_command, ["plan", "--model", eight_layer_file, "--rig", "three-mixed", "--tensor-split", "3;1"])
    with pytest.raises(DiagnosticError) as caught:
        args.run(args)
    assert caught.value.diagnostic.code == "QL-E-SETTINGS" and caught.value.diagnostic.technical["field"] == "--tensor-split"


def test_serve_flag_overrides_the_profile_split_and_absence_keeps_it():
    profile = Profile(launch=LaunchSettings(selected=(DeviceRef("", index=0), DeviceRef("", index=1)),
                                            tensor_split=(1.0, 1.0)))
    with_flag = _args(serve_command, ["serve", "--tensor-split", "3,1"])
    assert serve_command.merged_profile(with_flag, profile).launch.tensor_split == (3.0, 1.0)
    without = _args(serve_command, ["serve"])
    assert serve_command.merged_profile(without, profile).launch.tensor_split == (1.0, 1.0)


def test_plan_with_cpu_and_a_split_is_a_cpu_plan_not_an_internal_error(eight_layer_file, capsys):
    from engine.cli import main

    assert main(["plan", "--model", eight_layer_file, "--rig", "three-mixed", "--cpu", "--tensor-split", "3,1"]) == 0
    captured = capsys.readouterr()
    assert "QL-E-INTERNAL" not in captured.err and "backend: cpu" in captured.out
