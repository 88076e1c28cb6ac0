"""Fixtures for the launcher tests: tiny synthetic models and a window on a simulated rig."""

from __future__ import annotations

import gc
from dataclasses import replace

import pytest

from engine.settings import Profile
from engine.synth import write_synthetic_model
from engine.synth_spec import SynthSpec

IQ_SPEC = SynthSpec(n_layers=8, n_embd=256, n_head=4, n_head_kv=4, n_ff=512, vocab_size=512,
                    n_ctx_train=4096, weight_type="IQ4_XS", type_overrides=(("output", "Q6_K"),), name="iq-test")


@pytest.fixture(scope="module", autouse=True)
def garbage_collect_on_gui_thread():
    """As the app does (app/gui_thread_gc.py): no automatic collection, which could run in
    a worker thread and destroy widgets there; collect on this (the GUI) thread instead."""
    gc.disable()
    yield
    gc.collect()
    gc.enable()


@pytest.fixture(autouse=True)
def collect_after_each_test():
    yield
    gc.collect()


@pytest.fixture(scope="session")
def iq_model(tmp_path_factory) -> str:
    """An 8-layer IQ4_XS llama-shaped model (output in Q6_K): an 'IQ quant' file in miniature."""
    return str(write_synthetic_model(tmp_path_factory.mktemp("models") / "iq4xs.gguf", IQ_SPEC))


@pytest.fixture
def make_window(qtbot, tmp_path):
    """Build a MainWindow on a rig with a model, run its start-up work, wait for preflight."""
    from PySide6.QtCore import QSettings

    from app.launcher_state import LauncherState
    from app.main_window import MainWindow
    from app.profile_store import ProfileStore

    def build(rig: str | None, model_path: str, profile: Profile | None = None, store: ProfileStore | None = None):
        profile = replace(profile or Profile(), model_path=model_path)
        settings = QSettings(str(tmp_path / "launcher.ini"), QSettings.Format.IniFormat)
        window = MainWindow(LauncherState(profile, rig=rig), settings, store or ProfileStore(tmp_path / "profiles"))
        qtbot.addWidget(window)
        window.show()
        window.start_background_work()
        qtbot.waitUntil(lambda: not window.state.preflight.waiting, timeout=15000)
        return window

    return build
