"""The GPU table, global toggles and remedy buttons drive a live, real plan."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import Qt

from engine.settings import DeviceRef, LaunchSettings, Profile

pytestmark = pytest.mark.qt
GTX_1080TI = "GPU-1080a7f1-6d1e-4c3b-9a61-5e1d0b0c1a01"
GTX_970 = "GPU-0970b2c4-52aa-4e0d-8f35-7a9c3d2e5b02"


def planned(window, uuid):
    return next(d for d in window.state.preflight.plan.devices if d.uuid == uuid)


def test_simulated_rig_shows_banner_badges_and_auto_paths(make_window, iq_model):
    window = make_window("mixed-pascal-maxwell", iq_model)
    panel = window.device_panel
    assert panel.banner.isVisible() and "Simulated hardware" in panel.banner.text()
    assert panel.table.rowCount() == 2
    assert panel.table.combo_for(GTX_970).currentText() == "auto → dmmv"
    assert panel.table.combo_for(GTX_1080TI).currentText() == "auto → mmvq (dp4a)"
    pills = panel.table.badge_labels(1)
    assert "legacy: dmmv by default" in pills and "6.1" in pills["legacy: dmmv by default"]
    assert window.model_panel.fact("File type") == "IQ4_XS"
    assert "IQ4_XS" in window.model_panel.census.itemAt(0).widget().text()
    assert window.run_panel.launch_button.isEnabled()


def test_unchecking_a_device_replans_without_it(make_window, iq_model, qtbot):
    window = make_window("mixed-pascal-maxwell", iq_model)
    assert planned(window, GTX_970).selected
    qtbot.mouseClick(window.device_panel.table.checkbox_for(GTX_970), Qt.MouseButton.LeftButton)
    assert [r.uuid for r in window.state.profile.launch.excluded] == [GTX_970]
    assert not planned(window, GTX_970).selected
    assert [d.uuid for d in window.state.preflight.plan.used_devices] == [GTX_1080TI]
    assert window.device_panel.table.item(1, 5).text() == "excluded"


def test_exclude_legacy_toggle_drops_the_maxwell_card(make_window, iq_model):
    window = make_window("mixed-pascal-maxwell", iq_model)
    window.device_panel.exclude_legacy.click()
    assert window.state.profile.launch.exclude_legacy
    assert not planned(window, GTX_970).selected
    assert planned(window, GTX_1080TI).path == "mmvq"


def test_force_mmvq_uses_software_dp4a_below_61(make_window, iq_model):
    window = make_window("mixed-pascal-maxwell", iq_model)
    window.device_panel.force_mmvq.click()
    assert planned(window, GTX_970).path == "mmvq-soft"
    assert "QL-W-SOFT-DP4A" in [d.code for d in window.state.preflight.diagnostics]
    assert window.device_panel.table.combo_for(GTX_970).currentText().startswith("mmvq")


def test_per_device_kernel_choice(make_window, iq_model):
    window = make_window("mixed-pascal-maxwell", iq_model)
    combo = window.device_panel.table.combo_for(GTX_1080TI)
    combo.setCurrentIndex(combo.findData("dmmv"))
    assert window.state.profile.launch.kernel_for(GTX_1080TI) == "dmmv"
    assert planned(window, GTX_1080TI).path == "dmmv"
    assert planned(window, GTX_970).path == "dmmv"


def test_no_gpu_shows_empty_state_and_cpu_fallback(make_window, iq_model):
    window = make_window("none", iq_model)
    assert window.device_panel.empty_state.isVisible()
    assert not window.device_panel.table.isVisible()
    assert "CPU" in window.device_panel.empty_state.text()
    assert window.state.preflight.plan.backend == "cpu"
    assert window.run_panel.launch_button.isEnabled()


def _vram_error_profile() -> Profile:
    launch = LaunchSettings(excluded=(DeviceRef(GTX_1080TI, "NVIDIA GeForce GTX 1080 Ti", 0),),
                            context_size=1 << 20, gpu_layers=8)
    return replace(Profile(), launch=launch)


def test_error_blocks_launch_and_a_remedy_clears_it(make_window, iq_model, qtbot):
    window = make_window("mixed-pascal-maxwell", iq_model, _vram_error_profile())
    assert "QL-E-VRAM" in [d.code for d in window.state.preflight.diagnostics]
    assert not window.run_panel.launch_button.isEnabled()
    assert "fit" in window.run_panel.blocker.text()
    card = next(c for c in window.diagnostics_panel.cards() if c.diagnostic.code == "QL-E-VRAM")
    button = card.remedy_button("offload_layers")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert window.state.profile.launch.gpu_layers < 8
    assert window.settings_panel.layers.value() == window.state.profile.launch.gpu_layers
    assert "QL-E-VRAM" not in [d.code for d in window.state.preflight.diagnostics]
    assert window.run_panel.launch_button.isEnabled()


def test_reduce_context_remedy(make_window, iq_model, qtbot):
    window = make_window("mixed-pascal-maxwell", iq_model, _vram_error_profile())
    card = next(c for c in window.diagnostics_panel.cards() if c.diagnostic.code == "QL-E-VRAM")
    button = card.remedy_button("reduce_context")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert window.state.profile.launch.context_size < 1 << 20
    assert window.settings_panel.context_size.value() == window.state.profile.launch.context_size
    assert not any(d.is_error for d in window.state.preflight.diagnostics)


def test_settings_edit_replans(make_window, iq_model):
    window = make_window("p100", iq_model)
    window.settings_panel.context_size.setValue(2048)
    assert window.state.profile.launch.context_size == 2048
    assert window.state.preflight.plan.context_size == 2048
    window.settings_panel.port.setValue(5123)
    assert window.state.profile.server.port == 5123


def test_bad_model_file_is_a_diagnostic_not_a_crash(make_window, tmp_path):
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF" + b"\x00" * 10)
    window = make_window("p100", str(bad))
    assert window.state.model_error is not None
    assert any(d.is_error for d in window.state.preflight.diagnostics)
    assert not window.run_panel.launch_button.isEnabled()
