"""KoboldCpp .kcpps import: mapped fields, device choice, ignored keys, bad values."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from engine.devices.rigs import load_rig
from engine.plan import plan
from engine.profiles import ProfileError, import_file

KOBOLD_FILE = {  # as KoboldCpp 1.7x writes it (abridged)
    "model": [], "model_param": "/models/Llama-3-8B.IQ3_M.gguf", "port": 5001, "port_param": 5005,
    "host": "", "launch": True, "threads": 8, "usecublas": ["normal", "1", "mmq"], "usevulkan": None,
    "useclblast": None, "usecpu": False, "contextsize": 8192, "gpulayers": 33, "tensor_split": None,
    "flashattention": True, "quantkv": 0, "noshift": False, "blasbatchsize": 512,
}


def _planner_models():
    """tests/plan/planner_models.py, loaded by path (no sys.path change)."""
    path = Path(__file__).resolve().parents[1] / "plan" / "planner_models.py"
    spec = importlib.util.spec_from_file_location("planner_models_for_kcpps", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write(tmp_path, data, name="kobold.kcpps"):
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_kcpps_fields_map_to_our_settings(tmp_path):
    result = import_file(_write(tmp_path, KOBOLD_FILE))
    profile = result.profile
    assert result.source_format == "kcpps" and profile.name == "kobold"
    assert profile.model_path == "/models/Llama-3-8B.IQ3_M.gguf"
    assert (profile.launch.context_size, profile.launch.gpu_layers) == (8192, 33)
    assert profile.server.port == 5005 and profile.server.host == "127.0.0.1"
    assert [(r.uuid, r.index) for r in profile.launch.selected] == [("", 1)]
    assert not profile.launch.force_cpu
    assert result.ignored_keys == ("blasbatchsize", "flashattention", "launch", "threads")
    assert any("GPU 1" in note for note in result.notes)



def test_tensor_split_selects_the_cards_with_a_share_and_keeps_their_ratio(tmp_path):
    data = {**KOBOLD_FILE, "tensor_split": [3, 0, 1], "gpulayers": -1}
    result = import_file(_write(tmp_path, data, "split.kcpps"))
    assert [r.index for r in result.profile.launch.selected] == [0, 2]
    assert result.profile.launch.tensor_split == (3.0, 1.0)
    assert result.profile.launch.gpu_layers is None
    assert not any("tensor_split" in note for note in result.notes)


def test_imported_tensor_split_ratios_are_honoured_by_the_planner(tmp_path):
    make_model = _planner_models().make_model
    data = {**KOBOLD_FILE, "tensor_split": [3, 0, 1], "gpulayers": -1, "contextsize": 2048}
    profile = import_file(_write(tmp_path, data, "split.kcpps")).profile
    result = plan(load_rig("three-mixed"), profile.launch, make_model("IQ3_M", "1b"), supported_archs=(50, 61, 86))
    assert [d.layers for d in result.devices] == [(0, 12), None, (12, 16)]  # 16 blocks at 3:1
    assert result.ok and "QL-W-TENSOR-SPLIT" not in {d.code for d in result.diagnostics}


def test_an_all_zero_tensor_split_is_no_split(tmp_path):
    result = import_file(_write(tmp_path, {**KOBOLD_FILE, "tensor_split": [0, 0]}))
    assert result.profile.launch.tensor_split == ()
    assert [(r.uuid, r.index) for r in result.profile.launch.selected] == [("", 1)]  # usecublas decides


def test_cpu_only_kobold_file(tmp_path):
    data = {"model_param": "m.gguf", "contextsize": 2048, "usecublas": None, "usecpu": True, "gpulayers": 0}
    profile = import_file(_write(tmp_path, data, "cpu.kcpps")).profile
    assert profile.launch.force_cpu and profile.launch.gpu_layers == 0 and profile.launch.selected is None


def test_kcpps_detected_by_content_even_with_a_json_suffix(tmp_path):
    result = import_file(_write(tmp_path, {"model_param": "a.gguf", "contextsize": 1024}, "exported.json"))
    assert result.source_format == "kcpps" and result.profile.launch.context_size == 1024


@pytest.mark.parametrize("key, value", [("contextsize", "lots"), ("gpulayers", [1]), ("tensor_split", ["a"]),
                                        ("tensor_split", [1, -1]), ("tensor_split", [1, "nan"])])
def test_bad_kcpps_values_name_the_key(tmp_path, key, value):
    with pytest.raises(ProfileError) as caught:
        import_file(_write(tmp_path, {**KOBOLD_FILE, key: value}))
    assert caught.value.diagnostic.code == "QL-E-PROFILE-INVALID" and key in caught.value.diagnostic.detail


def test_non_json_kcpps_is_corrupt(tmp_path):
    path = tmp_path / "broken.kcpps"
    path.write_text("model=foo", encoding="utf-8")
    with pytest.raises(ProfileError) as caught:
        import_file(path)
    assert caught.value.diagnostic.code == "QL-E-PROFILE-CORRUPT"


def test_imported_index_refs_select_that_card_in_the_planner(tmp_path):
    make_model = _planner_models().make_model
    profile = import_file(_write(tmp_path, KOBOLD_FILE)).profile
    result = plan(load_rig("three-mixed"), profile.launch, make_model("IQ3_M", "1b"), supported_archs=(50, 61, 86))
    assert [d.selected for d in result.devices] == [False, True, False]
    assert result.devices[1].path == "mmvq" and result.ok


@pytest.mark.parametrize("key, value", [
    ("contextsize", float("inf")), ("contextsize", 0), ("contextsize", 10**12), ("contextsize", 1.5),
    ("gpulayers", float("inf")), ("gpulayers", -5), ("gpulayers", 10**12), ("gpulayers", 2.7),
    ("port", 70000), ("port_param", 0), ("port_param", float("inf")), ("usecublas", ["normal", "99999"]),
    ("tensor_split", 5), ("tensor_split", "3,1"), ("tensor_split", [True, 1]), ("tensor_split", [1] * 2000),
    ("usecpu", "false"), ("model_param", 5), ("model_param", [5]), ("host", 5)])
def test_out_of_range_or_wrongly_typed_kcpps_values_name_the_key(tmp_path, key, value):
    with pytest.raises(ProfileError) as caught:
        import_file(_write(tmp_path, {**KOBOLD_FILE, key: value}))
    assert caught.value.diagnostic.code == "QL-E-PROFILE-INVALID" and key in caught.value.diagnostic.detail


def test_a_non_ascii_digit_in_usecublas_is_not_a_gpu_number(tmp_path):
    result = import_file(_write(tmp_path, {**KOBOLD_FILE, "usecublas": ["normal", "\u00b2"]}))
    assert result.profile.launch.selected is None


def test_whole_floats_and_blank_hosts_are_read_as_kobold_means_them(tmp_path):
    result = import_file(_write(tmp_path, {**KOBOLD_FILE, "contextsize": 4096.0, "host": "  "}))
    assert result.profile.launch.context_size == 4096 and result.profile.server.host == "127.0.0.1"


@pytest.mark.parametrize("changes", [{}, {"tensor_split": [0, 3, 1]}, {"gpulayers": -1, "usecpu": True}])
def test_an_imported_profile_saves_and_loads_back(tmp_path, changes):
    from engine.profiles import ProfileStore

    store = ProfileStore(tmp_path / "config")
    profile = import_file(_write(tmp_path, {**KOBOLD_FILE, **changes})).profile
    store.save(profile)
    assert store.load(profile.name) == profile
