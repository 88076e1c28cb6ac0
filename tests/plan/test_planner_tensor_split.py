"""The tensor split: layers in proportion to the given shares, capped by each card's memory."""

from __future__ import annotations

import math

import pytest
from planner_models import make_model

from engine.devices.rigs import load_rig
from engine.diagnostics import Remedy, Severity
from engine.plan import MemoryPolicy, plan
from engine.plan.memory import device_budget
from engine.plan.remedies import apply_remedy
from engine.settings import DeviceRef, LaunchSettings

ARCHS = (50, 61, 86)  # every card of the three-mixed rig is supported
RTX_3090, GTX_1060, GTX_750TI = 0, 1, 2


def _plan(settings: LaunchSettings, model=None):
    return plan(load_rig("three-mixed"), settings, model or make_model("Q4_K_M", "1b"), supported_archs=ARCHS)


def _by_index(*indices: int) -> tuple[DeviceRef, ...]:
    return tuple(DeviceRef(uuid="", index=i) for i in indices)


def _codes(result) -> set[str]:
    return {d.code for d in result.diagnostics}


def test_shares_split_the_layers_in_that_proportion_on_the_three_mixed_rig():
    result = _plan(LaunchSettings(tensor_split=(2, 1, 1)))  # 16 blocks: 8 + 4 + 4
    assert [d.layers for d in result.devices] == [(0, 8), (8, 12), (12, 16)]
    assert result.cpu_layers == 0 and result.ok and "QL-W-TENSOR-SPLIT" not in _codes(result)
    automatic = _plan(LaunchSettings())
    assert [d.n_layers for d in automatic.devices] != [8, 4, 4]  # by free memory the 3090 takes far more


def test_shares_follow_the_selection_order_not_the_inventory_order():
    result = _plan(LaunchSettings(selected=_by_index(GTX_1060, RTX_3090), tensor_split=(1, 3)))
    assert result.devices[RTX_3090].layers == (0, 12)  # placement stays in device order
    assert result.devices[GTX_1060].layers == (12, 16)
    assert result.devices[GTX_750TI].layers is None and result.ok


def test_a_zero_share_gives_a_selected_card_no_layers():
    result = _plan(LaunchSettings(tensor_split=(1, 0, 1)))
    assert [d.n_layers for d in result.devices] == [8, 0, 8]
    assert result.devices[GTX_1060].selected and result.devices[GTX_1060].path is None


def test_a_card_too_small_for_its_share_keeps_what_fits_and_the_others_take_the_rest():
    model = make_model("Q4_K_M", "8b")  # about 4.6 GiB of weights: a third is more than a 750 Ti holds
    result = _plan(LaunchSettings(context_size=4096, tensor_split=(1, 1, 1)), model)
    devices = result.devices
    assert result.cpu_layers == 0 and sum(d.n_layers for d in devices) == 32
    policy = MemoryPolicy()
    for device in devices:  # every card within its own budget
        assert device.memory.total <= device_budget(device.memory.free, policy)
    assert devices[GTX_750TI].n_layers < math.floor(32 / 3)
    (diag,) = [d for d in result.diagnostics if d.code == "QL-W-TENSOR-SPLIT"]
    assert diag.severity is Severity.WARNING and "GTX 750 Ti" in diag.title and "1:1:1" in diag.title
    short = {s["uuid"]: s for s in diag.technical["short"]}
    assert set(short) == {devices[GTX_750TI].uuid}
    assert short[devices[GTX_750TI].uuid]["layers"] == devices[GTX_750TI].n_layers
    # the overflow went to the two other cards in proportion to their (equal) shares
    assert abs(devices[RTX_3090].n_layers - devices[GTX_1060].n_layers) <= 1
    auto = apply_remedy(LaunchSettings(tensor_split=(1, 1, 1)), diag.remedies[0])
    assert auto.tensor_split == ()


def test_a_split_that_cannot_fit_at_all_leaves_the_rest_on_the_cpu():
    model = make_model("Q8_0", "70b")
    result = _plan(LaunchSettings(context_size=4096, tensor_split=(1, 1, 1)), model)
    gpu = sum(d.n_layers for d in result.devices)
    assert 0 < gpu < 80 and result.cpu_layers == 80 - gpu
    assert {"QL-W-TENSOR-SPLIT", "QL-W-PARTIAL-OFFLOAD"} <= _codes(result) and result.ok
    for device in result.devices:
        assert device.memory.total <= device_budget(device.memory.free, MemoryPolicy())


@pytest.mark.parametrize("split", [(1, -1, 1), (1, float("nan"), 1), (0, 0, 0), (3, 1), (1, 1, 1, 1)])
def test_bad_splits_are_a_settings_error_naming_the_field(split):
    result = _plan(LaunchSettings(tensor_split=split))
    (diag,) = [d for d in result.diagnostics if d.code == "QL-E-SETTINGS"]
    assert diag.technical["field"] == "tensor_split" and not result.ok
    assert all(d.layers is None for d in result.devices)
    fixed = apply_remedy(LaunchSettings(tensor_split=split), diag.remedies[0])
    assert fixed.tensor_split == () and _plan(fixed).ok


def test_excluding_a_selected_card_drops_its_share():
    settings = LaunchSettings(selected=_by_index(RTX_3090, GTX_1060, GTX_750TI), tensor_split=(2, 1, 1))
    smaller = apply_remedy(settings, Remedy("exclude_device", "Exclude", {"uuid": "", "index": GTX_1060}))
    assert smaller.tensor_split == (2, 1) and [r.index for r in smaller.selected] == [RTX_3090, GTX_750TI]
    replanned = _plan(smaller)
    assert [d.n_layers for d in replanned.devices] == [round(16 * 2 / 3), 0, 16 - round(16 * 2 / 3)]
    assert replanned.ok and "QL-W-TENSOR-SPLIT" not in _codes(replanned)


def test_adding_a_card_returns_to_the_automatic_split():
    settings = LaunchSettings(selected=_by_index(RTX_3090), tensor_split=(1,))
    wider = apply_remedy(settings, Remedy("select_device", "Add", {"uuid": "", "index": GTX_1060}))
    assert wider.tensor_split == () and len(wider.selected) == 2 and _plan(wider).ok


@pytest.mark.parametrize("settings", [
    LaunchSettings(force_cpu=True, tensor_split=(3, 1)),  # a split kept from before "CPU" was ticked
    LaunchSettings(force_cpu=True, selected=_by_index(0, 1), tensor_split=(1, 1, 1, 1)),
])
def test_a_split_that_does_not_fit_the_gpus_does_not_crash_a_cpu_plan(settings):
    result = _plan(settings)
    assert result.backend == "cpu" and result.cpu_layers == result.n_layers and "QL-I-CPU-CHOSEN" in _codes(result)


def test_a_split_on_a_rig_without_gpus_does_not_crash():
    result = plan(load_rig("none"), LaunchSettings(tensor_split=(3, 1)), make_model("Q4_K_M", "1b"),
                  supported_archs=ARCHS)
    assert result.backend == "cpu" and result.cpu_layers == result.n_layers
