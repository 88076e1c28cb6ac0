"""Damaged profile and settings files, and file-system failures: always a ProfileError that
names the file, never a raw exception; damaged files are kept, never silently overwritten."""

from __future__ import annotations

import json
import pathlib

import pytest

from engine import profiles as profiles_module
from engine.profiles import ProfileError, ProfileStore, import_file
from engine.settings import LaunchSettings, Profile

DEEP = b"[" * 100_000 + b"]" * 100_000  # valid JSON, but too deep for the parser
LONG_NUMBER = b'{"schema_version": 1, "launch": {"context_size": ' + b"9" * 5000 + b"}}"


@pytest.fixture
def store(tmp_path):
    s = ProfileStore(tmp_path / "config", clock=lambda: 1_700_000_000.0)
    s.profiles_dir.mkdir(parents=True)
    return s


@pytest.mark.parametrize("raw", [DEEP, LONG_NUMBER], ids=["nested-too-deep", "number-too-long"])
def test_json_the_parser_refuses_is_a_damaged_file_and_is_kept(store, raw):
    path = store.profiles_dir / "x.json"
    path.write_bytes(raw)
    for action in (lambda: store.load("x"), lambda: import_file(path), lambda: store.save(Profile(name="x"))):
        with pytest.raises(ProfileError) as caught:
            action()
        assert caught.value.diagnostic.code == "QL-E-PROFILE-CORRUPT" and str(path) in caught.value.diagnostic.detail
    assert path.read_bytes() == raw


@pytest.mark.parametrize("document, kind", [([1, 2], "list"), ("hi", "text"), (None, "null"), (3, "number")])
def test_a_document_that_is_not_an_object_says_what_it_holds(store, document, kind):
    (store.profiles_dir / "x.json").write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ProfileError) as caught:
        store.load("x")
    diagnostic = caught.value.diagnostic
    assert diagnostic.title == "Not a QuantLaunch profile" and f"JSON {kind}," in diagnostic.detail
    assert "schema_version" not in diagnostic.title


def test_a_byte_order_mark_is_accepted(store):
    store.save(Profile(name="x", model_path="/m.gguf"))
    path = store.path_for("x")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert store.load("x").model_path == "/m.gguf"


def test_a_nul_in_the_import_path_is_a_diagnostic(tmp_path):
    with pytest.raises(ProfileError) as caught:
        import_file(str(tmp_path / "a\x00b.json"))
    assert caught.value.diagnostic.code == "QL-E-PROFILE-IO"


def _denied(*args, **kwargs):
    raise PermissionError(13, "Permission denied")


def test_an_unreadable_folder_is_a_diagnostic_for_exists_save_and_delete(store, monkeypatch):
    store.save(Profile(name="a"))
    monkeypatch.setattr(pathlib.Path, "is_file", _denied)
    for action in (lambda: store.exists("a"), lambda: store.save(Profile(name="a")), lambda: store.delete("a")):
        with pytest.raises(ProfileError) as caught:
            action()
        assert caught.value.diagnostic.code == "QL-E-PROFILE-IO"


def test_a_failed_delete_is_a_diagnostic_and_keeps_the_file(store, monkeypatch):
    store.save(Profile(name="a"))
    monkeypatch.setattr(pathlib.Path, "unlink", _denied)
    with pytest.raises(ProfileError) as caught:
        store.delete("a")
    assert caught.value.diagnostic.code == "QL-E-PROFILE-IO" and store.load("a") == Profile(name="a")
    with pytest.raises(ProfileError) as caught:
        store.rename("a", "b")
    assert caught.value.diagnostic.code == "QL-E-PROFILE-IO" and "'a'" in caught.value.diagnostic.title


def test_a_damaged_file_that_cannot_be_moved_aside_is_left_as_it_is(store, monkeypatch):
    path = store.profiles_dir / "x.json"
    path.write_bytes(b"junk")
    monkeypatch.setattr(profiles_module.os, "replace", _denied)
    with pytest.raises(ProfileError) as caught:
        store.save(Profile(name="x"), replace_unreadable=True)
    assert caught.value.diagnostic.code == "QL-E-PROFILE-IO" and path.read_bytes() == b"junk"
    assert [p.name for p in store.profiles_dir.iterdir()] == ["x.json"]


def test_a_profile_that_would_not_load_back_is_not_written(store):
    with pytest.raises(ProfileError) as caught:
        store.save(Profile(name="x", launch=LaunchSettings(context_size=0)))
    assert caught.value.diagnostic.technical["field"] == "launch.context_size"
    assert list(store.profiles_dir.iterdir()) == []


@pytest.mark.parametrize("raw", [b"[]", b'"x"', DEEP], ids=["list", "text", "nested-too-deep"])
def test_damaged_settings_are_moved_aside_not_overwritten(store, raw):
    store.settings_path.write_bytes(raw)
    assert store.last_used() is None
    store.set_last_used("a")
    assert store.last_used() == "a"
    aside = store.config_dir / "settings.corrupt-20231114-221320.json"
    assert aside.read_bytes() == raw


def test_settings_from_a_newer_version_are_left_unchanged(store):
    raw = json.dumps({"schema_version": 99, "last_profile": "a", "theme": {"new": "shape"}}).encode()
    store.settings_path.write_bytes(raw)
    assert store.last_used() == "a"
    with pytest.raises(ProfileError) as caught:
        store.set_last_used("b")
    assert caught.value.diagnostic.code == "QL-E-PROFILE-VERSION" and store.settings_path.read_bytes() == raw


def test_a_last_used_name_that_is_not_a_profile_name_is_ignored(store):
    store.settings_path.write_text(json.dumps({"schema_version": 1, "last_profile": "../../etc/x"}), encoding="utf-8")
    assert store.last_used() is None


def test_settings_in_a_folder_that_is_a_file_is_a_diagnostic(tmp_path):
    (tmp_path / "config").write_text("not a folder", encoding="utf-8")
    s = ProfileStore(tmp_path / "config")
    assert s.last_used() is None
    with pytest.raises(ProfileError) as caught:
        s.set_last_used("a")
    assert caught.value.diagnostic.code == "QL-E-PROFILE-IO"
