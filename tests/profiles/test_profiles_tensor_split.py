"""The tensor split in profiles: stored, optional for old documents, validated by field."""

from __future__ import annotations

import json

import pytest

from engine.profile_codec import profile_to_dict
from engine.profiles import ProfileError, ProfileStore
from engine.settings import DeviceRef, LaunchSettings, Profile

SPLIT = Profile(
    name="split",
    launch=LaunchSettings(selected=(DeviceRef("GPU-a", "RTX 3090", 0), DeviceRef("GPU-b", "GTX 1060", 1)),
                          tensor_split=(3.0, 1.5)),
)


@pytest.fixture
def store(tmp_path):
    return ProfileStore(tmp_path / "config")


def test_a_tensor_split_survives_the_round_trip_through_disk(store):
    store.save(SPLIT)
    on_disk = json.loads(store.path_for("split").read_text(encoding="utf-8"))
    assert on_disk["launch"]["tensor_split"] == [3.0, 1.5]
    assert store.load("split") == SPLIT


def test_no_split_round_trips_as_automatic(store):
    plain = Profile(name="plain")
    store.save(plain)
    assert json.loads(store.path_for("plain").read_text(encoding="utf-8"))["launch"]["tensor_split"] == []
    assert store.load("plain").launch.tensor_split == ()


def test_an_old_profile_without_the_field_still_loads(store):
    document = profile_to_dict(SPLIT)
    del document["launch"]["tensor_split"]
    store.profiles_dir.mkdir(parents=True)
    (store.profiles_dir / "old.json").write_text(json.dumps(document), encoding="utf-8")
    loaded = store.load("old")
    assert loaded.launch.tensor_split == () and loaded.launch.selected == SPLIT.launch.selected


@pytest.mark.parametrize("value", [[1, -2], [1, float("nan")], [0, 0], [1, "2"], [True, 1], "3,1", [1, 1e30]])
def test_bad_splits_are_refused_naming_the_field(store, value):
    document = profile_to_dict(SPLIT)
    document["launch"]["tensor_split"] = value
    store.profiles_dir.mkdir(parents=True)
    (store.profiles_dir / "bad.json").write_text(json.dumps(document), encoding="utf-8")  # NaN as JSON's NaN
    with pytest.raises(ProfileError) as caught:
        store.load("bad")
    diagnostic = caught.value.diagnostic
    assert diagnostic.code == "QL-E-PROFILE-INVALID" and diagnostic.technical["field"] == "launch.tensor_split"
