"""Inventory through an injected fake NVML, the failure reasons, and the simulated rigs."""

from __future__ import annotations

import json
import re
import sys
from types import SimpleNamespace

import pytest

from engine.devices import inventory as inventory_module
from engine.devices.inventory import MIB, nvml_inventory
from engine.devices.rigs import RIG_ENV_VAR, available_rigs, load_rig, read_inventory, resources_root
from engine.diagnostics import DiagnosticError


class FakeNvml:
    """Just the NVML calls the inventory makes; ``broken`` indexes raise on read."""

    def __init__(self, cards, broken=(), init_error=None):
        self.cards, self.broken, self.init_error, self.shutdowns = cards, set(broken), init_error, 0

    def nvmlInit(self):
        if self.init_error:
            raise self.init_error

    def nvmlShutdown(self):
        self.shutdowns += 1

    def nvmlSystemGetDriverVersion(self):
        return b"550.54.14"  # old bindings return bytes

    def nvmlSystemGetCudaDriverVersion(self):
        return 12040

    def nvmlDeviceGetCount(self):
        return len(self.cards)

    def nvmlDeviceGetHandleByIndex(self, index):
        if index in self.broken:
            raise type("NVMLError_GpuIsLost", (Exception,), {})("lost")
        return self.cards[index]

    def nvmlDeviceGetCudaComputeCapability(self, card):
        return card["cc"]

    def nvmlDeviceGetMemoryInfo(self, card):
        return SimpleNamespace(total=card["total"], free=card["free"])

    def nvmlDeviceGetPciInfo(self, card):
        return SimpleNamespace(busId=card["bus"])

    def nvmlDeviceGetUUID(self, card):
        return card["uuid"]

    def nvmlDeviceGetName(self, card):
        return card["name"]


CARDS = [
    {"cc": (6, 1), "total": 11264 * MIB, "free": 10000 * MIB, "bus": "00000000:01:00.0", "uuid": "GPU-a", "name": "GTX 1080 Ti"},
    {"cc": (5, 2), "total": 4096 * MIB, "free": 3900 * MIB, "bus": "00000000:02:00.0", "uuid": "GPU-b", "name": b"GTX 970"},
]


def test_reads_every_field_through_nvml():
    fake = FakeNvml(CARDS)
    result = nvml_inventory(fake)
    assert [(d.index, d.uuid, d.name, d.compute_capability) for d in result.devices] == [
        (0, "GPU-a", "GTX 1080 Ti", (6, 1)), (1, "GPU-b", "GTX 970", (5, 2))]
    assert result.devices[1].memory_total == 4096 * MIB and result.devices[1].memory_free == 3900 * MIB
    assert result.devices[0].pci_bus_id == "00000000:01:00.0"
    assert (result.driver_version, result.cuda_driver_version, result.reason) == ("550.54.14", "12.4", "")
    assert not result.simulated and fake.shutdowns == 1


@pytest.mark.parametrize(
    "error_name, words",
    [("NVMLError_LibraryNotFound", "no NVIDIA driver"), ("NVMLError_DriverNotLoaded", "not loaded"),
     ("NVMLError_NoPermission", "no permission"), ("NVMLError_Unknown", "NVMLError_Unknown")],
)
def test_driver_problems_give_an_empty_inventory_and_a_reason(error_name, words):
    result = nvml_inventory(FakeNvml(CARDS, init_error=type(error_name, (Exception,), {})("x")))
    assert result.devices == () and words in result.reason


def test_a_broken_device_does_not_hide_the_others():
    result = nvml_inventory(FakeNvml(CARDS, broken={0}))
    assert [d.uuid for d in result.devices] == ["GPU-b"] and "device 0" in result.reason


def test_missing_python_binding_is_a_reason_not_an_exception(monkeypatch):
    def no_module():
        raise ImportError("No module named 'pynvml'")

    monkeypatch.setattr(inventory_module, "_import_pynvml", no_module)
    assert "nvidia-ml-py" in nvml_inventory().reason


def test_real_nvml_never_raises():
    result = nvml_inventory()
    assert result.devices or result.reason


REQUIRED = {
    "mixed-pascal-maxwell": [("NVIDIA GeForce GTX 1080 Ti", (6, 1)), ("NVIDIA GeForce GTX 970", (5, 2))],
    "p100": [("Tesla P100-PCIE-16GB", (6, 0))],
    "h100-k80": [("NVIDIA H100 PCIe", (9, 0)), ("Tesla K80", (3, 7))],
    "three-mixed": [("NVIDIA GeForce RTX 3090", (8, 6)), ("NVIDIA GeForce GTX 1060 6GB", (6, 1)),
                    ("NVIDIA GeForce GTX 750 Ti", (5, 0))],
    "none": [],
}
UUID = re.compile(r"^GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_bundled_rigs(name):
    rig = load_rig(name)
    assert rig.simulated and rig.rig_name == name and name in available_rigs()
    assert [(d.name, d.compute_capability) for d in rig.devices] == REQUIRED[name]
    for device in rig.devices:
        assert UUID.match(device.uuid), device.uuid
        assert 1024 * MIB <= device.memory_free < device.memory_total <= 96 * 1024 * MIB
    assert rig.reason if not rig.devices else rig.driver_version
    assert load_rig(name) == rig  # stable


def test_all_rig_uuids_are_distinct():
    uuids = [d.uuid for name in available_rigs() for d in load_rig(name).devices]
    assert len(uuids) == len(set(uuids))


def test_flag_beats_environment_which_beats_nvml():
    called = []

    def source():
        called.append(True)
        return load_rig("none")

    assert read_inventory("p100", {RIG_ENV_VAR: "h100-k80"}, source).rig_name == "p100"
    assert read_inventory(None, {RIG_ENV_VAR: "h100-k80"}, source).rig_name == "h100-k80"
    assert called == []
    read_inventory(None, {}, source)
    assert called == [True]


def test_rig_from_a_path_and_bad_rigs(tmp_path):
    custom = tmp_path / "mine.json"
    custom.write_text(json.dumps({"name": "mine", "devices": [
        {"name": "Quadro M6000", "uuid": "GPU-x", "compute_capability": [5, 2],
         "memory_total_mib": 12288, "memory_free_mib": 12000}]}), encoding="utf-8")
    rig = read_inventory(str(custom), {})
    assert rig.rig_name == "mine" and rig.devices[0].memory_free == 12000 * MIB
    broken = tmp_path / "broken.json"
    broken.write_text('{"devices": [{"name": "x"}]}', encoding="utf-8")
    for bad in (str(broken), "no-such-rig", str(tmp_path / "absent.json")):
        with pytest.raises(DiagnosticError) as caught:
            load_rig(bad)
        assert caught.value.diagnostic.code == "QL-E-RIG"


def test_resources_found_inside_a_pyinstaller_bundle(monkeypatch, tmp_path):
    assert (resources_root() / "rigs" / "p100.json").is_file()
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resources_root() == tmp_path / "resources"
