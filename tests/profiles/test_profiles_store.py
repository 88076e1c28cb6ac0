"""Profiles on disk: round trip, atomic writes, corrupt and future files kept, validation."""

from __future__ import annotations

import json
import os

import pytest

from engine import profiles as profiles_module
from engine.profile_codec import SCHEMA_VERSION, profile_from_dict, profile_to_dict
from engine.profiles import ProfileError, ProfileStore, check_name
from engine.settings import DeviceRef, LaunchSettings, Profile, SamplerDefaults, ServerSettings

RICH = Profile(
    name="Evening 8B",
    model_path="/models/llama-8b.IQ3_M.gguf",
    launch=LaunchSettings(
        selected=(DeviceRef("GPU-a", "GTX 1080 Ti", 0), DeviceRef("GPU-b", "GTX 970", 1)),
        excluded=(DeviceRef("GPU-k", "Tesla K80", 2),),
        exclude_legacy=False, kernel="mmvq", device_kernels=(("GPU-b", "dmmv"),),
        context_size=8192, gpu_layers=20, force_cpu=False,
    ),
    server=ServerSettings("127.0.0.1", 5002, "secret"),
    sampler=SamplerDefaults(max_length=300, temperature=0.5, top_k=20, seed=7),
)


@pytest.fixture
def store(tmp_path):
    return ProfileStore(tmp_path / "config", clock=lambda: 1_700_000_000.0)


def test_round_trip_through_disk(store):
    path = store.save(RICH)
    assert path == store.profiles_dir / "Evening 8B.json"
    assert json.loads(path.read_text(encoding="utf-8"))["schema_version"] == SCHEMA_VERSION
    assert store.load("Evening 8B") == RICH
    assert store.list_names() == ("Evening 8B",)
    assert profile_from_dict(profile_to_dict(Profile())) == Profile()


def test_save_as_rename_delete_and_last_used(store):
    store.save(RICH)
    copy = store.save_as(RICH, "copy")
    assert copy.name == "copy" and store.load("copy").launch == RICH.launch
    with pytest.raises(ProfileError) as caught:
        store.save_as(RICH, "copy")
    assert caught.value.diagnostic.code == "QL-E-PROFILE-EXISTS"
    store.set_last_used("copy")
    store.rename("copy", "renamed")
    assert store.list_names() == ("Evening 8B", "renamed") and store.last_used() == "renamed"
    store.delete("renamed")
    assert store.list_names() == ("Evening 8B",) and store.last_used() is None
    with pytest.raises(ProfileError):
        store.delete("renamed")


def test_last_used_keeps_other_settings_keys(store):
    store.config_dir.mkdir(parents=True)
    store.settings_path.write_text(json.dumps({"theme": "dark"}), encoding="utf-8")
    store.set_last_used("Evening 8B")
    data = json.loads(store.settings_path.read_text(encoding="utf-8"))
    assert data["theme"] == "dark" and store.last_used() == "Evening 8B"


def test_export_and_import_our_format(store, tmp_path):
    store.save(RICH)
    exported = store.export("Evening 8B", tmp_path / "out" / "shared.json")
    result = store.import_file(exported)
    assert result.source_format == "quantlaunch" and result.profile == RICH.__class__(**{**RICH.__dict__, "name": "shared"})


def test_failed_write_leaves_the_old_file_and_no_temp(store, monkeypatch):
    store.save(RICH)
    path = store.path_for(RICH.name)
    before = path.read_bytes()

    def failing_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(profiles_module.os, "fsync", failing_fsync)
    with pytest.raises(ProfileError) as caught:
        store.save(RICH.__class__(**{**RICH.__dict__, "model_path": "/other.gguf"}))
    assert caught.value.diagnostic.code == "QL-E-PROFILE-IO"
    assert path.read_bytes() == before
    assert sorted(p.name for p in store.profiles_dir.iterdir()) == ["Evening 8B.json"]


def test_unserialisable_document_writes_nothing(tmp_path):
    target = tmp_path / "x.json"
    with pytest.raises(TypeError):
        profiles_module.write_json_atomic(target, {"bad": object()})
    assert not target.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "content, code",
    [("{ not json", "QL-E-PROFILE-CORRUPT"), (b"\xff\xfe\x00", "QL-E-PROFILE-CORRUPT"),
     (json.dumps({"schema_version": 99}), "QL-E-PROFILE-VERSION"),
     (json.dumps({"schema_version": 1, "launch": {"context_size": "big"}}), "QL-E-PROFILE-INVALID")],
)
def test_unreadable_files_are_reported_kept_and_only_moved_aside_on_request(store, content, code):
    store.profiles_dir.mkdir(parents=True)
    path = store.profiles_dir / "old.json"
    raw = content if isinstance(content, bytes) else content.encode()
    path.write_bytes(raw)
    with pytest.raises(ProfileError) as caught:
        store.load("old")
    assert caught.value.diagnostic.code == code and str(path) in caught.value.diagnostic.detail
    with pytest.raises(ProfileError) as refused:
        store.save(Profile(name="old"))
    assert refused.value.diagnostic.remedies[-1].action == "replace_profile"
    assert path.read_bytes() == raw  # never overwritten silently
    store.save(Profile(name="old"), replace_unreadable=True)
    aside = store.profiles_dir / "old.corrupt-20231114-221320.json"
    assert aside.read_bytes() == raw and store.load("old") == Profile(name="old")
    assert store.list_names() == ("old",)


@pytest.mark.parametrize(
    "section, key, value, field",
    [("launch", "context_size", 0, "launch.context_size"), ("launch", "kernel", "fast", "launch.kernel"),
     ("launch", "gpu_layers", True, "launch.gpu_layers"), ("launch", "force_cpu", "yes", "launch.force_cpu"),
     ("launch", "selected", [{"index": "x"}], "launch.selected[0].index"),
     ("launch", "device_kernels", {"GPU-a": "turbo"}, "launch.device_kernels.GPU-a"),
     ("server", "port", 70000, "server.port"), ("server", "host", "", "server.host"),
     ("sampler", "top_p", 1.5, "sampler.top_p"), ("sampler", "top_k", 2.5, "sampler.top_k")],
)
def test_each_invalid_field_is_named(store, section, key, value, field):
    document = profile_to_dict(RICH)
    document[section][key] = value
    store.profiles_dir.mkdir(parents=True)
    (store.profiles_dir / "bad.json").write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ProfileError) as caught:
        store.load("bad")
    assert caught.value.diagnostic.technical["field"] == field and field in caught.value.diagnostic.title


@pytest.mark.parametrize("name", ["", " x", "a/b", "..\\up", ".hidden", "x" * 65, "a.corrupt-1", "tab\there"])
def test_unsafe_profile_names_are_refused(name):
    with pytest.raises(ProfileError) as caught:
        check_name(name)
    assert caught.value.diagnostic.code == "QL-E-PROFILE-NAME"


def test_file_permissions_error_is_a_diagnostic(store, monkeypatch):
    def no_replace(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(profiles_module.os, "replace", no_replace)
    with pytest.raises(ProfileError) as caught:
        store.save(RICH)
    assert caught.value.diagnostic.code == "QL-E-PROFILE-IO"
    assert [p for p in store.profiles_dir.iterdir()] == []
    assert os.path.isdir(store.profiles_dir)
