"""End to end: the window launches the real engine (`engine serve`, CPU backend) on a tiny
synthetic model, waits for ready, chats through the Try-it panel, then stops it."""

from __future__ import annotations

import importlib.util
import socket
from dataclasses import replace

import pytest

from engine.settings import LaunchSettings, Profile, SamplerDefaults, ServerSettings
from engine.synth import write_synthetic_model
from engine.synth_spec import CHATML_TEMPLATE, SynthSpec

pytestmark = [
    pytest.mark.qt,
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("engine.commands.serve") is None,
                       reason="engine serve is not in this checkout yet"),
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def chat_model(tmp_path_factory) -> str:
    spec = SynthSpec(chat_template=CHATML_TEMPLATE, name="tiny-chat")
    return str(write_synthetic_model(tmp_path_factory.mktemp("e2e") / "tiny-chat.gguf", spec))


def test_launch_ready_chat_stop(make_window, chat_model, qtbot):
    profile = replace(Profile(name="e2e"), launch=LaunchSettings(context_size=256, force_cpu=True),
                      server=ServerSettings(port=_free_port()), sampler=SamplerDefaults(max_length=8, seed=1))
    window = make_window(None, chat_model, profile)  # this machine, forced to the CPU backend
    assert window.run_panel.launch_button.isEnabled(), window.run_panel.blocker.text()
    with qtbot.waitSignal(window.engine.ready, timeout=120000):
        window.run_panel.launch_button.click()
    assert f":{profile.server.port}" in window.run_panel.url
    replies = []
    window.chat_panel.client.finished.connect(replies.append)
    window.chat_panel.prompt.setText("Hello there")
    with qtbot.waitSignal(window.chat_panel.client.finished, timeout=120000):
        window.chat_panel.send()
    assert len(replies) == 1 and replies[0]
    assert replies[0] in window.chat_panel.transcript.toPlainText()
    with qtbot.waitSignal(window.engine.stopped, timeout=20000):
        window.run_panel.stop_button.click()
    assert not window.engine.is_running()
    assert not window.crash_panel.isVisible()
