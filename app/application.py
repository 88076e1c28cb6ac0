"""Build the QApplication and the window; start background work only after it shows."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from app.gui_thread_gc import GuiThreadGarbageCollector
from app.launcher_state import LauncherState
from app.main_window import MainWindow
from app.profile_store import ProfileStore
from app.scripted_run import ScriptedRun

ORGANIZATION = "QuantLaunch"
APPLICATION = "quantlaunch"


def theme_path() -> Path:
    bundle = getattr(sys, "_MEIPASS", None)
    root = Path(bundle) if bundle else Path(__file__).resolve().parents[1]
    return root / "resources" / "theme" / "quantlaunch.qss"


def _apply_theme(app: QApplication) -> None:
    path = theme_path()
    if path.is_file():
        app.setStyleSheet(path.read_text(encoding="utf-8"))


def build_window(args: argparse.Namespace, store: ProfileStore) -> MainWindow:
    profile, problem = store.starting_profile(args.profile)
    if args.model:
        from dataclasses import replace

        profile = replace(profile, model_path=args.model)
    state = LauncherState(profile, rig=args.rig)
    window = MainWindow(state, QSettings(), store)
    if problem is not None:
        window.report_profile_problem(problem)
    return window


def run_application(args: argparse.Namespace) -> int:
    from app.main import seconds_since_process_start

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    _apply_theme(app)
    collector = GuiThreadGarbageCollector(app)
    collector.start()
    window = build_window(args, ProfileStore())
    window.show()
    if args.startup_time:
        print(f"window shown {seconds_since_process_start():.3f} s after process start", flush=True)
    QTimer.singleShot(0, window.start_background_work)
    script = ScriptedRun(window, launch=args.launch, chat=args.chat, screenshot=args.screenshot)
    QTimer.singleShot(0, script.begin)
    code = app.exec()
    collector.stop()
    return script.exit_code if args.screenshot else code
