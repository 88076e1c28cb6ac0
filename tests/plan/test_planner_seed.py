"""The seed's cases, table-driven over the simulated rigs: the kernel path is chosen per
device from its own compute capability, and only selected devices count."""

from __future__ import annotations

import pytest
from planner_models import make_model

from engine.devices.badges import CUDA12_ARCHS
from engine.devices.rigs import load_rig
from engine.diagnostics import Severity
from engine.plan import plan
from engine.plan.remedies import apply_remedy
from engine.settings import DeviceRef, LaunchSettings

GTX_1080_TI = "NVIDIA GeForce GTX 1080 Ti"
GTX_970 = "NVIDIA GeForce GTX 970"


def _plan(rig: str, settings: LaunchSettings | None = None, file_type: str = "IQ3_M", shape: str = "1b"):
    return plan(load_rig(rig), settings or LaunchSettings(), make_model(file_type, shape), supported_archs=CUDA12_ARCHS)


def _paths(result) -> dict[str, str | None]:
    return {d.name: d.path for d in result.devices}


def _codes(result) -> set[str]:
    return {d.code for d in result.diagnostics}


def _uuid(rig: str, name: str) -> str:
    return next(d.uuid for d in load_rig(rig).devices if d.name == name)


@pytest.mark.parametrize("file_type", ["IQ1_S", "IQ3_M", "Q4_K_M", "Q8_0", "F16"])
def test_mixed_rig_gives_each_card_its_own_path(file_type):
    result = _plan("mixed-pascal-maxwell", file_type=file_type)
    assert _paths(result) == {GTX_1080_TI: "mmvq", GTX_970: "dmmv"}
    assert result.ok, [d.one_line() for d in result.diagnostics]
    assert all(d.layers is not None for d in result.devices)
    assert result.backend == "cuda"


@pytest.mark.parametrize("file_type", ["IQ1_S", "IQ3_M"])
def test_only_the_1080ti_selected_means_mmvq_only(file_type):
    settings = LaunchSettings(selected=(DeviceRef(_uuid("mixed-pascal-maxwell", GTX_1080_TI)),))
    result = _plan("mixed-pascal-maxwell", settings, file_type)
    used = [d for d in result.devices if d.layers is not None]
    assert [(d.name, d.path) for d in used] == [(GTX_1080_TI, "mmvq")]
    gtx970 = next(d for d in result.devices if d.name == GTX_970)
    assert (gtx970.selected, gtx970.path, gtx970.layers) == (False, None, None)
    assert result.ok and result.cpu_layers == 0


def test_force_mmvq_uses_software_dp4a_on_the_970_with_a_warning():
    result = _plan("mixed-pascal-maxwell", LaunchSettings(kernel="mmvq"))
    assert _paths(result) == {GTX_1080_TI: "mmvq", GTX_970: "mmvq-soft"}
    soft = [d for d in result.diagnostics if d.code == "QL-W-SOFT-DP4A"]
    assert len(soft) == 1 and soft[0].severity is Severity.WARNING
    assert GTX_970 in soft[0].title and "5.2" in soft[0].detail
    assert result.ok


def test_forced_dmmv_on_one_device_only():
    uuid = _uuid("mixed-pascal-maxwell", GTX_1080_TI)
    result = _plan("mixed-pascal-maxwell", LaunchSettings(device_kernels=((uuid, "dmmv"),)))
    assert _paths(result) == {GTX_1080_TI: "dmmv", GTX_970: "dmmv"}


def test_p100_without_dp4a_gets_dmmv():
    result = _plan("p100", file_type="IQ1_S")
    assert _paths(result) == {"Tesla P100-PCIE-16GB": "dmmv"}
    assert result.ok
    assert {b.key for b in result.devices[0].badges} == {"fast-fp16", "legacy-dmmv"}


def test_h100_k80_flags_the_k80_and_the_exclude_remedy_fixes_the_plan():
    settings = LaunchSettings()
    result = _plan("h100-k80", settings)
    assert not result.ok
    unsupported = [d for d in result.diagnostics if d.code == "QL-E-DEVICE-UNSUPPORTED"]
    assert len(unsupported) == 1 and "Tesla K80" in unsupported[0].title
    (remedy,) = unsupported[0].remedies
    assert remedy.action == "exclude_device" and remedy.args["uuid"] == _uuid("h100-k80", "Tesla K80")
    fixed = _plan("h100-k80", apply_remedy(settings, remedy))
    assert fixed.ok
    assert _paths(fixed) == {"NVIDIA H100 PCIe": "mmvq", "Tesla K80": None}
    assert "QL-E-DEVICE-UNSUPPORTED" not in _codes(fixed)


def test_three_mixed_rig_paths_follow_each_card():
    result = _plan("three-mixed", file_type="IQ1_S")
    assert _paths(result) == {
        "NVIDIA GeForce RTX 3090": "mmvq",
        "NVIDIA GeForce GTX 1060 6GB": "mmvq",
        "NVIDIA GeForce GTX 750 Ti": "dmmv",
    }


def test_exclude_legacy_drops_cards_below_61():
    result = _plan("three-mixed", LaunchSettings(exclude_legacy=True))
    gtx750 = next(d for d in result.devices if d.name == "NVIDIA GeForce GTX 750 Ti")
    assert not gtx750.selected and gtx750.layers is None
    assert all(d.path == "mmvq" for d in result.devices if d.layers)


def test_no_gpu_rig_runs_on_cpu_with_an_info_not_an_error():
    result = _plan("none")
    assert result.ok and result.backend == "cpu" and result.devices == ()
    assert result.cpu_layers == result.n_layers == 16
    (no_gpu,) = [d for d in result.diagnostics if d.code == "QL-I-NO-GPU"]
    assert no_gpu.severity is Severity.INFO


def test_plans_are_marked_simulated_and_deterministic():
    first = _plan("three-mixed").to_dict()
    assert first == _plan("three-mixed").to_dict()
    assert first["simulated"] is True and first["rig_name"] == "three-mixed"
    assert "QL-I-SIMULATED" in {d["code"] for d in first["diagnostics"]}
    device = first["devices"][0]
    assert {"index", "uuid", "name", "compute_capability", "selected", "path", "layers"} <= set(device)


def test_backend_spec_follows_the_plan_and_refuses_errors():
    from engine.diagnostics import DiagnosticError
    from engine.plan.to_backend import backend_spec

    spec = backend_spec(_plan("mixed-pascal-maxwell", LaunchSettings(kernel="mmvq")))
    assert spec.kind == "cuda"
    assert [(a.device_id, a.path) for a in spec.assignments] == [(0, "mmvq"), (1, "mmvq-soft")]
    assert spec.assignments[0].layers[1] == spec.assignments[1].layers[0] and spec.assignments[1].layers[1] == 16
    assert backend_spec(_plan("none")).kind == "cpu"
    with pytest.raises(DiagnosticError) as caught:
        backend_spec(_plan("h100-k80"))
    assert caught.value.diagnostic.code == "QL-E-DEVICE-UNSUPPORTED"
