"""bench/card_info.py's ClockProbe against a fake pynvml (no GPU here): the current SM clock and
the names of the active clock-event reasons, and {} when NVML is missing or fails."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from card_info import ClockProbe  # noqa: E402


def _fake_nvml(clock_mhz: int, mask: int, fail_init: bool = False) -> types.ModuleType:
    nvml = types.ModuleType("pynvml")
    nvml.NVML_CLOCK_SM = 1
    nvml.nvmlClocksEventReasonNone = 0
    nvml.nvmlClocksEventReasonGpuIdle = 0x1
    nvml.nvmlClocksEventReasonSwPowerCap = 0x4
    nvml.nvmlClocksEventReasonHwSlowdown = 0x8
    nvml.nvmlClocksEventReasonAll = 0xFF
    nvml.calls = []

    def init():
        if fail_init:
            raise RuntimeError("NVML Shared Library Not Found")
        nvml.calls.append("init")

    nvml.nvmlInit = init
    nvml.nvmlShutdown = lambda: nvml.calls.append("shutdown")
    nvml.nvmlDeviceGetHandleByIndex = lambda index: ("handle", index)
    nvml.nvmlDeviceGetClockInfo = lambda handle, kind: clock_mhz if kind == 1 else -1
    nvml.nvmlDeviceGetCurrentClocksEventReasons = lambda handle: mask
    return nvml


def test_reads_the_clock_and_names_the_active_reasons(monkeypatch):
    nvml = _fake_nvml(1410, 0x4 | 0x8)
    monkeypatch.setitem(sys.modules, "pynvml", nvml)
    probe = ClockProbe()
    assert probe.read() == {"sm_mhz": 1410, "clock_reasons": ["HwSlowdown", "SwPowerCap"]}
    probe.close()
    assert nvml.calls == ["init", "shutdown"]
    assert probe.read() == {}  # closed


def test_no_reason_active_gives_an_empty_list(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", _fake_nvml(1980, 0))
    assert ClockProbe().read() == {"sm_mhz": 1980, "clock_reasons": []}


@pytest.mark.parametrize("broken", ["init", "clock"])
def test_without_nvml_the_records_go_without_clocks(monkeypatch, broken):
    nvml = _fake_nvml(1980, 0x4, fail_init=broken == "init")
    if broken == "clock":
        def no_clock(handle, kind):
            raise RuntimeError("Not Supported")
        nvml.nvmlDeviceGetClockInfo = no_clock
    monkeypatch.setitem(sys.modules, "pynvml", nvml)
    expected = {} if broken == "init" else {"clock_reasons": ["SwPowerCap"]}
    assert ClockProbe().read() == expected
