"""An engine of another protocol version ("v": 999, test-double engine) becomes one
QL-E-PROTOCOL diagnostic card in the diagnostics panel, not just a log line."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from app.engine_process import EngineProcess
from engine import protocol
from engine.diagnostics import Severity

pytestmark = pytest.mark.qt
FAKE = str(Path(__file__).with_name("fake_engine.py"))
ROOT = str(Path(__file__).resolve().parents[2])


def test_a_version_mismatch_is_one_protocol_diagnostic_per_run(qtbot, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", ROOT)
    engine = EngineProcess(grace_ms=500)
    raised, logged = [], []
    engine.diagnostic_raised.connect(raised.append)
    engine.log_line.connect(lambda level, message: logged.append((level, message)))
    with qtbot.waitSignal(engine.stopped, timeout=10000):
        engine.start([sys.executable, FAKE, "wrong-protocol"], "{}")
    (diagnostic,) = raised  # two mismatched lines, one diagnostic
    assert diagnostic.code == "QL-E-PROTOCOL" and diagnostic.severity is Severity.ERROR
    assert "engine" in diagnostic.title and "launcher" in diagnostic.title and "match" in diagnostic.title
    assert "Reinstall or update" in diagnostic.detail and diagnostic.remedies == ()
    assert diagnostic.technical == {"engine_protocol": "999", "launcher_protocol": protocol.PROTOCOL_VERSION}
    assert ("error", diagnostic.one_line()) in logged


def test_the_window_shows_the_card_until_the_next_launch(make_window, iq_model, qtbot, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", ROOT)
    window = make_window("p100", iq_model)
    preflight_codes = [card.diagnostic.code for card in window.diagnostics_panel.cards()]
    window.engine_command = lambda rig: [sys.executable, FAKE, "wrong-protocol"]
    with qtbot.waitSignal(window.engine.stopped, timeout=15000):
        window.run_panel.launch_button.click()
    codes = [card.diagnostic.code for card in window.diagnostics_panel.cards()]
    assert codes == ["QL-E-PROTOCOL", *preflight_codes]
    window.diagnostics_panel.show_preflight(window.state.preflight)  # a plan refresh keeps it
    assert [card.diagnostic.code for card in window.diagnostics_panel.cards()] == codes
    window.engine_command = lambda rig: [sys.executable, FAKE, "clean-exit"]
    with qtbot.waitSignal(window.engine.stopped, timeout=15000):
        window.run_panel.launch_button.click()
    assert [card.diagnostic.code for card in window.diagnostics_panel.cards()] == preflight_codes
