"""EngineProcess supervision against a test-double engine (tests/app/fake_engine.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from app.engine_command import engine_serve_command
from app.engine_process import EngineProcess, EngineState

pytestmark = pytest.mark.qt
FAKE = str(Path(__file__).with_name("fake_engine.py"))
ROOT = str(Path(__file__).resolve().parents[2])


def _command(mode: str) -> list[str]:
    return [sys.executable, FAKE, mode]


@pytest.fixture
def engine(qtbot, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", ROOT)
    process = EngineProcess(grace_ms=500)
    yield process
    process.wait_stopped(3000)


def test_ready_progress_then_stop(qtbot, engine):
    progress = []
    engine.progress_changed.connect(lambda stage, done, total: progress.append((stage, done, total)))
    with qtbot.waitSignal(engine.ready, timeout=10000) as ready:
        engine.start(_command("ready"), "{}")
    assert ready.args == ["http://127.0.0.1:1"]
    assert progress[-1] == ("loading", 3, 3)
    assert engine.state() is EngineState.READY
    with qtbot.waitSignal(engine.stopped, timeout=5000):
        engine.stop()
    assert engine.state() is EngineState.IDLE
    assert "fake engine got 2 bytes" in engine.stderr_text()


def test_stop_kills_an_engine_that_ignores_terminate(qtbot, engine):
    with qtbot.waitSignal(engine.ready, timeout=10000):
        engine.start(_command("ignore-term"), "{}")
    with qtbot.waitSignal(engine.stopped, timeout=5000):
        engine.stop()
    assert not engine.is_running()


def test_assert_crash_is_classified(qtbot, engine):
    with qtbot.waitSignal(engine.crashed, timeout=10000) as crashed:
        engine.start(_command("assert"), "{}")
    diag = crashed.args[0]
    assert diag.code == "QL-E-ENGINE-ASSERT"
    assert diag.technical["exit_code"] == 134


def test_error_event_becomes_the_crash_diagnostic(qtbot, engine):
    with qtbot.waitSignal(engine.crashed, timeout=10000) as crashed:
        engine.start(_command("error-event"), "{}")
    assert crashed.args[0].code == "QL-E-VRAM"


def test_missing_program_is_a_start_failure(qtbot, engine):
    with qtbot.waitSignal(engine.crashed, timeout=5000) as crashed:
        engine.start(["/nonexistent/quantlaunch-engine"], "{}")
    assert crashed.args[0].code == "QL-E-ENGINE-START"


def test_clean_exit_is_not_a_crash(qtbot, engine):
    with qtbot.waitSignal(engine.stopped, timeout=10000):
        engine.start(_command("clean-exit"), "{}")


def test_serve_command_source_and_frozen():
    assert engine_serve_command(frozen=False, executable="py") == ["py", "-m", "engine", "serve", "--profile", "-"]
    frozen = engine_serve_command(rig="p100", frozen=True, executable="/opt/ql")
    assert frozen == ["/opt/ql", "engine", "serve", "--profile", "-", "--rig", "p100"]
