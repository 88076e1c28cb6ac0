"""Profiles through the launcher: round trip, corrupt and future files, .kcpps import."""

from __future__ import annotations

import json

import pytest

from app.profile_store import ProfileStore

pytestmark = pytest.mark.qt


@pytest.fixture
def store(tmp_path):
    return ProfileStore(tmp_path / "config")


def test_save_as_then_load_round_trip(make_window, iq_model, store):
    window = make_window("mixed-pascal-maxwell", iq_model, store=store)
    window.settings_panel.context_size.setValue(3072)
    window.device_panel.force_mmvq.click()
    window.profile_actions.save_as("rig-test")
    assert store.list_names() == ("rig-test",)
    assert store.last_used() == "rig-test"
    window.settings_panel.context_size.setValue(1024)
    window.device_panel.force_mmvq.click()
    window.profile_actions.load("rig-test")
    assert window.state.profile.launch.context_size == 3072
    assert window.settings_panel.context_size.value() == 3072
    assert window.device_panel.force_mmvq.isChecked()
    assert window.state.profile.model_path == iq_model


def test_last_used_profile_is_restored_at_start(store, iq_model):
    from engine.settings import Profile

    store.save(Profile(name="evening", model_path=iq_model))
    store.remember("evening")
    profile, problem = store.starting_profile(None)
    assert problem is None and profile.name == "evening" and profile.model_path == iq_model


def test_rename_and_delete(make_window, iq_model, store):
    window = make_window("p100", iq_model, store=store)
    window.profile_actions.save_as("first")
    window.profile_actions.rename("second")
    assert store.list_names() == ("second",)
    assert window.profile_bar.combo.currentText() == "second"
    window.profile_actions.delete(confirmed=True)
    assert store.list_names() == ()


def test_corrupt_profile_is_reported_with_its_path_and_kept(make_window, iq_model, store):
    store.profiles_dir.mkdir(parents=True)
    broken = store.profiles_dir / "broken.json"
    broken.write_text("{ not json", encoding="utf-8")
    window = make_window("p100", iq_model, store=store)
    window.profile_actions.load("broken")
    assert window.crash_panel.isVisible()
    assert window.crash_panel.tail.isHidden()  # no engine ran: no "(the engine printed nothing)" box
    assert str(broken) in window.crash_panel.card.diagnostic.detail or \
        window.crash_panel.card.diagnostic.technical.get("path") == str(broken)
    window.state.set_profile(window.state.profile.__class__(name="broken"))
    window.profile_actions.save()  # refused: the unreadable file is not overwritten silently
    assert broken.read_text(encoding="utf-8") == "{ not json"


def test_future_version_profile_is_reported_and_kept(make_window, iq_model, store):
    store.profiles_dir.mkdir(parents=True)
    future = store.profiles_dir / "future.json"
    future.write_text(json.dumps({"schema_version": 999, "name": "future"}), encoding="utf-8")
    window = make_window("p100", iq_model, store=store)
    window.profile_actions.load("future")
    assert window.crash_panel.card.diagnostic.code == "QL-E-PROFILE-VERSION"
    assert json.loads(future.read_text(encoding="utf-8"))["schema_version"] == 999


def test_kcpps_import_through_the_ui(make_window, iq_model, store, tmp_path):
    kcpps = tmp_path / "kobold.kcpps"
    kcpps.write_text(json.dumps({"model_param": iq_model, "contextsize": 2048, "gpulayers": 5, "port": 5099,
                                 "usecublas": ["normal", "0"]}), encoding="utf-8")
    window = make_window("mixed-pascal-maxwell", "", store=store)
    window.profile_actions.import_file(str(kcpps))
    profile = window.state.profile
    assert (profile.launch.context_size, profile.launch.gpu_layers, profile.server.port) == (2048, 5, 5099)
    assert profile.model_path == iq_model
    assert "kobold" in store.list_names()
    assert window.settings_panel.port.value() == 5099


def test_export_writes_the_current_profile(make_window, iq_model, store, tmp_path):
    window = make_window("p100", iq_model, store=store)
    window.settings_panel.context_size.setValue(1536)
    target = tmp_path / "out.json"
    window.profile_actions.export(str(target))
    data = json.loads(target.read_text(encoding="utf-8"))
    assert data["schema_version"] >= 1
    imported = store.import_file(target, "copy").profile
    assert imported.launch.context_size == 1536
