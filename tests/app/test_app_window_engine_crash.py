"""The window supervising an engine that dies early (test-double engine): the classified
cause and the last log lines appear, Launch comes back, nothing is left running."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from engine.diagnostics import error

pytestmark = pytest.mark.qt
FAKE = str(Path(__file__).with_name("fake_engine.py"))
ROOT = str(Path(__file__).resolve().parents[2])


def test_early_assert_crash_shows_a_classified_diagnostic(make_window, iq_model, qtbot, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", ROOT)
    window = make_window("p100", iq_model)
    window.engine_command = lambda rig: [sys.executable, FAKE, "assert"]
    window.report_profile_problem(error("QL-E-PROFILE-CORRUPT", "Profile 'x' is damaged", "x.json is not JSON."))
    assert window.crash_panel.tail.isHidden()  # a profile problem: no engine log
    with qtbot.waitSignal(window.engine.crashed, timeout=15000):
        window.run_panel.launch_button.click()
    assert window.crash_panel.isVisible()
    assert window.crash_panel.card.diagnostic.code == "QL-E-ENGINE-ASSERT"
    assert "GGML_ASSERT" in window.crash_panel.tail.toPlainText()
    assert not window.crash_panel.tail.isHidden()
    assert "GGML_ASSERT" in window.log_view.raw_stderr.toPlainText()
    assert window.run_panel.launch_button.isEnabled()
    assert not window.engine.is_running()


def test_ready_then_stop_with_the_buttons(make_window, iq_model, qtbot, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", ROOT)
    window = make_window("p100", iq_model)
    window.engine_command = lambda rig: [sys.executable, FAKE, "ready"]
    with qtbot.waitSignal(window.engine.ready, timeout=15000):
        window.run_panel.launch_button.click()
    assert "http://127.0.0.1:1" in window.run_panel.status.text()
    assert window.run_panel.copy_button.isVisibleTo(window)
    assert not window.run_panel.launch_button.isEnabled()
    assert window.chat_panel.send_button.isEnabled()
    with qtbot.waitSignal(window.engine.stopped, timeout=10000):
        window.run_panel.stop_button.click()
    assert window.run_panel.launch_button.isEnabled()
    assert not window.chat_panel.send_button.isEnabled()
    assert not window.crash_panel.isVisible()
