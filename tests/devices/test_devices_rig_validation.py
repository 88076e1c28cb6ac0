"""Malformed simulated rig files: a QL-E-RIG diagnostic naming the file and the field, never
an exception from deep inside, and never an inventory the planner cannot trust."""

from __future__ import annotations

import json

import pytest

from engine.devices.inventory import MIB
from engine.devices.rigs import load_rig
from engine.diagnostics import DiagnosticError

GPU = {"name": "GTX 1080", "uuid": "GPU-a", "compute_capability": [6, 1],
       "memory_total_mib": 8192, "memory_free_mib": 8000}


def _rig(tmp_path, document=None, raw: bytes | None = None):
    path = tmp_path / "rig.json"
    path.write_bytes(raw if raw is not None else json.dumps(document).encode())
    return path


def _refused(path) -> str:
    with pytest.raises(DiagnosticError) as caught:
        load_rig(str(path))
    diagnostic = caught.value.diagnostic
    assert diagnostic.code == "QL-E-RIG" and str(path) in diagnostic.detail
    return diagnostic.detail


def _with(**changes):
    gpu = {k: v for k, v in {**GPU, **changes}.items() if v is not None}
    return {"name": "mine", "devices": [gpu]}


@pytest.mark.parametrize("document", [[GPU], None, "p100", 3], ids=["list", "null", "text", "number"])
def test_a_document_that_is_not_an_object(tmp_path, document):
    assert "must hold a JSON object" in _refused(_rig(tmp_path, document))


@pytest.mark.parametrize("raw", [b"[" * 100_000 + b"]" * 100_000,
                                 json.dumps(_with(compute_capability=[float("inf"), 1])).encode()],
                         ids=["nested-too-deep", "infinity"])
def test_json_the_loader_cannot_use(tmp_path, raw):
    _refused(_rig(tmp_path, raw=raw))


@pytest.mark.parametrize("document, words", [
    ({"devices": None}, "devices must be a list"),
    ({"devices": {"a": GPU}}, "devices must be a list"),
    ({"devices": ["GPU-a"]}, "devices[0] must be an object"),
    (_with(uuid=None), "devices[0] lacks uuid"),
    (_with(compute_capability="6.1"), "devices[0].compute_capability must be [major, minor]"),
    (_with(compute_capability=61), "devices[0].compute_capability must be [major, minor]"),
    (_with(compute_capability="61"), "devices[0].compute_capability must be [major, minor]"),
    (_with(compute_capability=[6]), "devices[0].compute_capability must be [major, minor]"),
    (_with(compute_capability=[-6, 1]), "devices[0].compute_capability[0] must be from 1 to 99"),
    (_with(compute_capability=[6, 10]), "devices[0].compute_capability[1] must be from 0 to 9"),
    (_with(compute_capability=[6.5, 1]), "devices[0].compute_capability[0] must be a whole number"),
    (_with(memory_total_mib=-1), "devices[0].memory_total_mib must be from 1"),
    (_with(memory_total_mib="8192"), "devices[0].memory_total_mib must be a whole number"),
    (_with(memory_free_mib=-1), "devices[0].memory_free_mib must be 0 or more"),
    (_with(memory_free_mib=9000), "memory_free_mib (9000) is above its memory_total_mib (8192)"),
    (_with(uuid=""), "devices[0].uuid must be non-empty text"),
    (_with(name=5), "devices[0].name must be non-empty text"),
    (_with(index=-1), "devices[0].index must be 0 or more"),
    ({"devices": [GPU, GPU]}, "devices[1].uuid 'GPU-a' repeats devices[0].uuid"),
    ({"devices": [{**GPU, "index": 0}, {**GPU, "uuid": "GPU-b", "index": 0}]}, "devices[1].index 0 repeats"),
    ({"name": ["x"], "devices": [GPU]}, "name must be non-empty text"),
])
def test_each_bad_field_is_named(tmp_path, document, words):
    assert words in _refused(_rig(tmp_path, document))


def test_no_devices_and_many_devices_are_fine(tmp_path):
    assert load_rig(str(_rig(tmp_path, {"devices": []}))).reason
    many = load_rig(str(_rig(tmp_path, {"devices": [{**GPU, "uuid": f"GPU-{i}"} for i in range(100)]})))
    assert [d.index for d in many.devices] == list(range(100)) and many.devices[99].memory_free == 8000 * MIB


def test_a_rig_name_too_long_for_the_file_system(tmp_path):
    with pytest.raises(DiagnosticError) as caught:
        load_rig("x" * 300)
    assert caught.value.diagnostic.code == "QL-E-RIG"
