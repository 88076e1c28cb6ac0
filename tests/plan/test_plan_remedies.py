"""apply_remedy: each action changes exactly the settings it names, purely."""

from __future__ import annotations

import pytest

from engine.diagnostics import Remedy
from engine.plan.remedies import SETTINGS_ACTIONS, RemedyNotApplicable, apply_remedy
from engine.settings import DeviceRef, LaunchSettings

A = DeviceRef("GPU-a", "Card A", 0)
B = DeviceRef("GPU-b", "Card B", 1)


def test_exclude_removes_from_selection_and_adds_to_exclusions_once():
    settings = LaunchSettings(selected=(A, B))
    remedy = Remedy("exclude_device", "x", {"uuid": "GPU-b", "name": "Card B"})
    once = apply_remedy(settings, remedy)
    assert once.selected == (A,) and [r.uuid for r in once.excluded] == ["GPU-b"]
    assert apply_remedy(once, remedy) == once
    assert settings.selected == (A, B)  # the input is unchanged


def test_select_adds_to_an_explicit_selection_and_lifts_exclusion_and_cpu():
    settings = LaunchSettings(selected=(A,), excluded=(DeviceRef("", "Card B"),), force_cpu=True)
    result = apply_remedy(settings, Remedy("select_device", "x", {"uuid": "GPU-b", "name": "Card B", "index": 1}))
    assert [r.uuid for r in result.selected] == ["GPU-a", "GPU-b"]
    assert result.excluded == () and result.force_cpu is False


def test_select_with_replaces_swaps_out_the_missing_device():
    settings = LaunchSettings(selected=(A,))
    remedy = Remedy("select_device", "x", {"uuid": "GPU-b", "name": "Card B", "replaces": {"uuid": "GPU-a"}})
    assert [r.uuid for r in apply_remedy(settings, remedy).selected] == ["GPU-b"]


@pytest.mark.parametrize(
    "remedy, field, expected",
    [
        (Remedy("force_mmvq", "x"), "kernel", "mmvq"),
        (Remedy("reduce_context", "x", {"n": 2048}), "context_size", 2048),
        (Remedy("offload_layers", "x", {"n": 12}), "gpu_layers", 12),
        (Remedy("use_cpu", "x"), "force_cpu", True),
        (Remedy("set_kernel", "x", {"uuid": "GPU-a", "path": "dmmv"}), "device_kernels", (("GPU-a", "dmmv"),)),
    ],
)
def test_simple_actions(remedy, field, expected):
    result = apply_remedy(LaunchSettings(device_kernels=(("GPU-a", "mmvq"),)), remedy)
    assert getattr(result, field) == expected
    assert remedy.action in SETTINGS_ACTIONS


@pytest.mark.parametrize(
    "remedy",
    [
        Remedy("choose_other_file", "x"),
        Remedy("change_port", "x"),
        Remedy("set_kernel", "x", {"uuid": "GPU-a", "path": "fast"}),
        Remedy("reduce_context", "x", {"n": "many"}),
        Remedy("offload_layers", "x", {"n": -3}),
    ],
)
def test_remedies_that_are_not_settings_changes_are_refused(remedy):
    with pytest.raises(RemedyNotApplicable):
        apply_remedy(LaunchSettings(), remedy)
