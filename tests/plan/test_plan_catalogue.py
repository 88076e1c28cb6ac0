"""Each catalogue diagnostic, produced through the planner, states its key facts."""

from __future__ import annotations

import dataclasses

import pytest
from planner_models import make_model

from engine.devices.badges import CUDA12_ARCHS
from engine.devices.inventory import Inventory
from engine.devices.rigs import load_rig
from engine.diagnostics import Severity
from engine.plan import SUPPORTED_ARCHITECTURES, plan
from engine.plan.catalogue import CODES
from engine.plan.remedies import apply_remedy
from engine.settings import DeviceRef, LaunchSettings


def _diag(result, code):
    found = [d for d in result.diagnostics if d.code == code]
    assert len(found) == 1, [d.code for d in result.diagnostics]
    return found[0]


def _plan(inventory, settings=None, model=None):
    return plan(inventory, settings or LaunchSettings(), model or make_model("Q4_K_M", "1b"), supported_archs=CUDA12_ARCHS)


def test_every_emitted_code_is_in_the_catalogue_list():
    import re
    from pathlib import Path

    engine_dir = Path(__file__).resolve().parents[2] / "engine"
    sources = [engine_dir / "plan" / "catalogue.py", engine_dir / "devices" / "rigs.py"]
    literals = set()
    for source in sources:
        text = re.sub(r"CODES = \(.*?\n\)", "", source.read_text(encoding="utf-8"), flags=re.S)  # not the list itself
        literals |= set(re.findall(r'"(QL-[EWI]-[A-Z0-9-]+)"', text))
    assert literals == set(CODES) and len(set(CODES)) == len(CODES)
    assert "llama" in SUPPORTED_ARCHITECTURES


def test_no_driver_is_info_and_says_why():
    reason = "the NVIDIA driver is installed but not loaded"
    result = _plan(Inventory(reason=reason))
    diag = _diag(result, "QL-I-NO-GPU")
    assert diag.severity is Severity.INFO and reason in diag.detail and "CPU" in diag.title
    assert result.ok and result.backend == "cpu"


def test_unknown_quant_type_names_the_type_and_a_tensor():
    model = make_model("Q4_K_M", "tiny")
    bad = dataclasses.replace(model.tensors[3], type_name="type 42")
    model = dataclasses.replace(model, tensors=(*model.tensors[:3], bad, *model.tensors[4:]))
    diag = _diag(_plan(load_rig("p100"), model=model), "QL-E-QUANT-TYPE")
    assert diag.severity is Severity.ERROR and "type 42" in diag.title and bad.name in diag.detail
    assert [r.action for r in diag.remedies] == ["choose_other_file"]


def test_unsupported_architecture_names_it_and_the_supported_ones():
    model = dataclasses.replace(make_model("Q4_K_M", "tiny"), architecture="mamba")
    result = _plan(load_rig("p100"), model=model)
    diag = _diag(result, "QL-E-ARCH")
    assert "'mamba'" in diag.title and "llama" in diag.detail and not result.ok


def test_missing_hyperparameters_are_an_error():
    model = make_model("Q4_K_M", "tiny", with_hparams=False)
    result = _plan(load_rig("p100"), model=model)
    assert "llama.block_count" in _diag(result, "QL-E-HPARAMS").detail
    assert result.n_layers == 0 and not result.ok


def test_missing_selected_device_is_an_error_with_forget_and_pick_remedies():
    rig = load_rig("mixed-pascal-maxwell")
    settings = LaunchSettings(selected=(DeviceRef("GPU-elsewhere-1", "NVIDIA GeForce RTX 4090", 0),))
    result = _plan(rig, settings)
    diag = _diag(result, "QL-E-DEVICE-MISSING")
    assert "NVIDIA GeForce RTX 4090" in diag.title and "GPU-elsewhere-1" in diag.detail
    actions = [(r.action, r.args.get("uuid")) for r in diag.remedies]
    assert actions[0] == ("exclude_device", "GPU-elsewhere-1")
    assert ("select_device", rig.devices[0].uuid) in actions and not result.ok
    fixed = _plan(rig, apply_remedy(settings, diag.remedies[1]))
    assert fixed.ok and fixed.devices[0].path == "mmvq" and fixed.devices[1].layers is None


def test_selected_device_matched_by_name_when_the_uuid_differs():
    rig = load_rig("mixed-pascal-maxwell")
    settings = LaunchSettings(selected=(DeviceRef("GPU-from-other-box", "NVIDIA GeForce GTX 970", 1),))
    result = _plan(rig, settings)
    diag = _diag(result, "QL-I-DEVICE-BY-NAME")
    assert "GPU-from-other-box" in diag.detail and rig.devices[1].uuid in diag.detail
    assert [d.path for d in result.devices] == [None, "dmmv"] and result.ok


def test_context_longer_than_trained_is_a_warning_with_the_numbers():
    model = make_model("Q4_K_M", "8b")  # trained context 8192
    result = _plan(load_rig("three-mixed"), LaunchSettings(context_size=16384), model)
    diag = _diag(result, "QL-W-CONTEXT-LONG")
    assert "16,384" in diag.title and "8,192" in diag.title and diag.severity is Severity.WARNING
    assert diag.remedies[0].action == "reduce_context" and diag.remedies[0].args == {"n": 8192}


@pytest.mark.parametrize("settings", [LaunchSettings(selected=()), LaunchSettings(excluded=(DeviceRef("", "Tesla P100-PCIE-16GB"),))])
def test_no_device_selected_says_cpu_and_offers_the_cards(settings):
    result = _plan(load_rig("p100"), settings)
    diag = _diag(result, "QL-W-NO-DEVICE-SELECTED")
    assert "CPU" in diag.title and "Tesla P100-PCIE-16GB" in diag.detail
    assert result.backend == "cpu" and result.ok
    fixed = _plan(load_rig("p100"), apply_remedy(settings, diag.remedies[0]))
    assert fixed.backend == "cuda" and fixed.devices[0].path == "dmmv"


def test_unsupported_device_detail_names_the_capability_and_oldest_arch():
    diag = _diag(_plan(load_rig("h100-k80")), "QL-E-DEVICE-UNSUPPORTED")
    assert "3.7" in diag.detail and "sm_50" in diag.detail and diag.technical["compute_capability"] == "3.7"


def test_bad_settings_name_the_field():
    result = _plan(load_rig("p100"), LaunchSettings(kernel="fast", context_size=0))
    titles = [d.title for d in result.diagnostics if d.code == "QL-E-SETTINGS"]
    assert any("kernel" in t and "'fast'" in t for t in titles) and any("context_size" in t for t in titles)
    assert not result.ok
