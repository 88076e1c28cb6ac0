"""The entry point's flags, run as real processes: --self-test, --screenshot, --rig."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str, config: Path, timeout: int = 90) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(config)}
    return subprocess.run([sys.executable, "-m", "app.main", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_self_test_reports_and_exits_zero(tmp_path):
    result = _run("--self-test", config=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "launcher imports: ok" in result.stdout
    assert "demo model:" in result.stdout and "NVRTC:" in result.stdout
    assert "PySide6-Essentials: 6." in result.stdout


@pytest.mark.qt
@pytest.mark.slow
def test_screenshot_of_a_simulated_rig(tmp_path, iq_model):
    target = tmp_path / "shot.png"
    result = _run("--rig", "mixed-pascal-maxwell", "--model", iq_model, "--screenshot", str(target), "--startup-time",
                  config=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "window shown" in result.stdout
    header = target.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")  # IHDR width, height
    assert width >= 1000 and height >= 700


def test_launcher_planning_never_loads_cupy(iq_model):
    probe = (
        "import json, sys\n"
        "from app import engine_bridge\n"
        "from engine.settings import Profile\n"
        "hw = engine_bridge.read_hardware('mixed-pascal-maxwell')\n"
        f"info = engine_bridge.inspect_model({iq_model!r})\n"
        "pre = engine_bridge.preflight(hw, Profile(), info, None)\n"
        "print(json.dumps([len(pre.rows), sorted(m for m in sys.modules if m.split('.')[0] in "
        "('cupy', 'cupy_backends', 'pynvml'))]))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    rows, gpu_modules = json.loads(result.stdout.splitlines()[-1])
    assert rows == 2 and gpu_modules == []
