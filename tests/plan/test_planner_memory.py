"""Memory estimates and the layer split, checked against sums computed here from the census."""

from __future__ import annotations

from planner_models import make_model

from engine.devices.badges import CUDA12_ARCHS
from engine.devices.inventory import MIB, Device, Inventory
from engine.diagnostics import Severity
from engine.plan import MemoryPolicy, plan
from engine.plan.remedies import apply_remedy
from engine.settings import DeviceRef, LaunchSettings

GIB = 1024 * MIB


def _rig(*free_gib: float, cc=(8, 6)) -> Inventory:
    devices = tuple(
        Device(i, f"GPU-test-{i}", f"Card {i}", cc, int(f * GIB) + 512 * MIB, int(f * GIB), f"0000:0{i}:00.0")
        for i, f in enumerate(free_gib)
    )
    return Inventory(devices, "550.00", "12.4")


def _plan(inventory, settings=None, model=None):
    return plan(inventory, settings or LaunchSettings(), model or make_model("Q4_K_M", "8b"), supported_archs=CUDA12_ARCHS)


def test_device_memory_matches_the_census_and_kv_formula():
    model = make_model("Q4_K_M", "8b")
    hp = model.hparams
    result = _plan(_rig(40), LaunchSettings(context_size=8192), model)
    (device,) = result.devices
    assert device.layers == (0, 32) and device.holds_output
    layer_bytes = sum(t.n_bytes for t in model.tensors if t.name.startswith("blk."))
    other_bytes = sum(t.n_bytes for t in model.tensors if not t.name.startswith("blk."))
    logits = MemoryPolicy().batch_tokens * hp.vocab_size * 4
    assert device.memory.weights == layer_bytes + other_bytes + logits
    assert device.memory.kv_cache == 2 * 32 * 8192 * hp.n_head_kv * hp.head_dim * 2  # 1 GiB for llama-3-8B
    assert device.memory.kv_cache == GIB
    assert device.memory.total == device.memory.weights + device.memory.kv_cache + device.memory.scratch
    assert device.memory.total < device.memory.free


def test_split_is_in_proportion_to_free_memory():
    result = _plan(_rig(20, 10))
    big, small = result.devices
    assert big.layers[0] == 0 and big.layers[1] == small.layers[0] and small.layers[1] == 32
    assert 19 <= big.n_layers <= 23  # about two thirds of 32
    assert result.cpu_layers == 0 and result.ok


def test_model_too_big_puts_the_rest_on_the_cpu_with_numbers_and_remedies():
    model = make_model("Q8_0", "70b")
    result = _plan(_rig(24, 11), LaunchSettings(context_size=8192), model)
    gpu = sum(d.n_layers for d in result.devices)
    assert 0 < gpu < 80 and result.cpu_layers == 80 - gpu
    assert result.devices[0].layers[0] == result.cpu_layers  # the last blocks are offloaded
    (diag,) = [d for d in result.diagnostics if d.code == "QL-W-PARTIAL-OFFLOAD"]
    assert diag.severity is Severity.WARNING and result.ok
    assert f"{80 - gpu} of 80 layers" in diag.title
    assert f"room for {gpu} of the model's 80 layers" in diag.detail
    assert {r.action for r in diag.remedies} == {"offload_layers"}  # a 70B Q8_0 never fits in 35 GiB


def test_reduce_context_remedy_really_makes_it_fit():
    model = make_model("Q4_K_M", "8b")
    settings = LaunchSettings(context_size=65536)
    result = _plan(_rig(7), settings, model)
    (diag,) = [d for d in result.diagnostics if d.code == "QL-W-PARTIAL-OFFLOAD"]
    reduce = next(r for r in diag.remedies if r.action == "reduce_context")
    assert reduce.args["n"] < 65536 and reduce.args["n"] % 256 == 0
    assert f"{reduce.args['n']:,}" in diag.detail
    fixed = _plan(_rig(7), apply_remedy(settings, reduce), model)
    assert fixed.cpu_layers == 0 and "QL-W-PARTIAL-OFFLOAD" not in {d.code for d in fixed.diagnostics}
    bigger = _plan(_rig(7), settings.with_changes(context_size=reduce.args["n"] + 256), model)
    assert bigger.cpu_layers > 0  # the remedy is the largest context that fits


def test_explicit_gpu_layers_limit_offload():
    result = _plan(_rig(40), LaunchSettings(gpu_layers=10))
    (device,) = result.devices
    assert device.layers == (22, 32) and result.cpu_layers == 22 and not device.holds_output
    assert result.ok and result.backend == "cuda"


def test_explicit_gpu_layers_that_do_not_fit_are_an_error_with_the_count_that_fits():
    model = make_model("Q8_0", "8b")
    result = _plan(_rig(4), LaunchSettings(gpu_layers=32), model)
    (diag,) = [d for d in result.diagnostics if d.code == "QL-E-VRAM"]
    fit = sum(d.n_layers for d in result.devices)
    assert not result.ok and 0 < fit < 32
    assert diag.title == f"32 layers do not fit on the selected GPUs: {fit} do"
    offload = next(r for r in diag.remedies if r.action == "offload_layers")
    assert offload.args == {"n": fit}
    assert _plan(_rig(4), apply_remedy(LaunchSettings(gpu_layers=32), offload), model).ok


def test_add_a_device_remedy_when_an_unselected_card_could_help():
    inventory = _rig(6, 24)
    settings = LaunchSettings(selected=(DeviceRef("GPU-test-0"),))
    model = make_model("Q8_0", "8b")
    result = _plan(inventory, settings, model)
    (diag,) = [d for d in result.diagnostics if d.code == "QL-W-PARTIAL-OFFLOAD"]
    add = next(r for r in diag.remedies if r.action == "select_device")
    assert add.args["uuid"] == "GPU-test-1" and "Card 1" in add.label
    assert _plan(inventory, apply_remedy(settings, add), model).cpu_layers == 0


def test_a_card_too_small_for_one_layer_is_reported_idle():
    result = _plan(_rig(24, 0.5), model=make_model("Q8_0", "8b"))
    assert result.devices[1].layers is None and result.devices[1].path is None
    (idle,) = [d for d in result.diagnostics if d.code == "QL-W-DEVICE-IDLE"]
    assert "Card 1" in idle.title and "512 MiB" in idle.detail


def test_gpu_layers_zero_means_cpu_backend():
    result = _plan(_rig(24), LaunchSettings(gpu_layers=0))
    assert result.backend == "cpu" and result.cpu_layers == 32 and result.devices[0].layers is None
