"""The launcher window: composes the panels around one LauncherState and one EngineProcess."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSettings, Qt, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMainWindow, QScrollArea, QSplitter, QVBoxLayout, QWidget

from app import engine_bridge
from app.background_task import BackgroundTask
from app.chat_panel import ChatPanel
from app.crash_panel import CrashPanel
from app.device_panel import DevicePanel
from app.diagnostics_panel import DiagnosticsPanel
from app.engine_command import engine_serve_command
from app.engine_process import EngineProcess, EngineState
from app.launcher_state import LauncherState
from app.log_view import LogView
from app.model_panel import ModelPanel
from app.profile_actions import ProfileActions
from app.profile_bar import ProfileBar
from app.profile_store import ProfileStore
from app.recent_files import RecentFiles
from app.run_panel import RunPanel
from app.settings_panel import SettingsPanel
from engine.diagnostics import Diagnostic, Remedy
from engine.model_info import ModelInfo

STOP_AT_EXIT_MS = 6000


class MainWindow(QMainWindow):
    def __init__(self, state: LauncherState, qsettings: QSettings, store: ProfileStore,
                 engine_command: Callable[[str | None], list[str]] = engine_serve_command,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.engine_command = engine_command  # rig -> the command line that serves
        self.setWindowTitle("QuantLaunch")
        self.state = state
        self.recent = RecentFiles(qsettings)
        self.engine = EngineProcess(self)
        self._tasks: set[BackgroundTask] = set()
        self._inspecting = ""
        self.profile_bar = ProfileBar()
        self.model_panel = ModelPanel()
        self.settings_panel = SettingsPanel()
        self.device_panel = DevicePanel()
        self.diagnostics_panel = DiagnosticsPanel()
        self.crash_panel = CrashPanel()
        self.run_panel = RunPanel()
        self.chat_panel = ChatPanel()
        self.log_view = LogView()
        self.log_view.insertTab(0, self.chat_panel, "Try it")
        self.log_view.setCurrentIndex(0)
        self.store = store
        self.profile_actions = ProfileActions(self.profile_bar, store, state, self)
        self.profile_actions.problem.connect(self.report_profile_problem)
        self.profile_actions.profile_loaded.connect(lambda profile: self.inspect_model(profile.model_path))
        self.profile_actions.notice.connect(lambda text: self.log_view.add_line("info", text))
        self._build_layout()
        self._connect_state()
        self._connect_widgets()
        self._connect_engine()
        self._show_profile(state.profile)
        self.state.replan()

    # --- layout -----------------------------------------------------------------------
    def _build_layout(self) -> None:
        title = QLabel("QuantLaunch")
        title.setObjectName("appTitle")
        header = QHBoxLayout()
        header.addWidget(title)
        header.addStretch(1)
        header.addWidget(self.profile_bar)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 6, 0)
        left_layout.addWidget(self.model_panel)
        left_layout.addWidget(self.settings_panel)
        left_layout.addStretch(1)
        left_scroll = QScrollArea()
        left_scroll.setWidgetResizable(True)
        left_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        left_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        left_scroll.setWidget(left)
        left_scroll.setMinimumWidth(430)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(6, 0, 0, 0)
        right_layout.addWidget(self.device_panel, 3)
        right_layout.addWidget(self.diagnostics_panel, 4)
        body = QSplitter(Qt.Orientation.Horizontal)
        body.addWidget(left_scroll)
        body.addWidget(right)
        body.setStretchFactor(1, 1)
        body.setSizes([440, 870])
        vertical = QSplitter(Qt.Orientation.Vertical)
        vertical.addWidget(body)
        vertical.addWidget(self.log_view)
        vertical.setStretchFactor(0, 3)
        vertical.setSizes([680, 150])
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(14, 10, 14, 12)
        layout.addLayout(header)
        layout.addWidget(vertical, 1)
        layout.addWidget(self.crash_panel)
        layout.addWidget(self.run_panel)
        self.setCentralWidget(central)
        self.resize(1340, 900)

    # --- wiring -----------------------------------------------------------------------
    def _connect_state(self) -> None:
        self.state.profile_changed.connect(self._show_profile)
        self.state.inventory_changed.connect(self.device_panel.show_hardware)
        self.state.plan_changed.connect(self.device_panel.show_preflight)
        self.state.plan_changed.connect(self.diagnostics_panel.show_preflight)
        self.state.plan_changed.connect(self._refresh_launch_button)

    def _connect_widgets(self) -> None:
        self.device_panel.device_toggled.connect(self.state.set_device_selected)
        self.device_panel.kernel_chosen.connect(self.state.set_device_kernel)
        self.device_panel.exclude_legacy_toggled.connect(lambda on: self.state.update_launch(exclude_legacy=on))
        self.device_panel.force_mmvq_toggled.connect(
            lambda on: self.state.update_launch(kernel="mmvq" if on else "auto"))
        self.settings_panel.edited.connect(self._on_settings_edited)
        self.model_panel.model_chosen.connect(self.choose_model)
        self.diagnostics_panel.remedy_clicked.connect(self.apply_remedy)
        self.crash_panel.remedy_clicked.connect(self.apply_remedy)
        self.run_panel.launch_clicked.connect(self.launch)
        self.run_panel.stop_clicked.connect(self.engine.stop)

    def _connect_engine(self) -> None:
        self.engine.state_changed.connect(self.run_panel.show_state)
        self.engine.state_changed.connect(self._refresh_launch_button)
        self.engine.progress_changed.connect(self.run_panel.show_progress)
        self.engine.ready.connect(self._on_ready)
        self.engine.log_line.connect(self.log_view.add_line)
        self.engine.crashed.connect(self._on_crashed)
        self.engine.diagnostic_raised.connect(self.diagnostics_panel.show_engine_diagnostic)
        self.engine.stopped.connect(self._on_stopped)

    # --- start-up work off the GUI thread ---------------------------------------------
    def start_background_work(self) -> None:
        """Inventory and model inspection, in the thread pool (called after show())."""
        rig = self.state.rig
        self._run_task("inventory", lambda: engine_bridge.read_hardware(rig), self._on_hardware, self._on_hardware_failed)
        self.inspect_model(self.state.profile.model_path)

    def _run_task(self, key, work, on_success, on_failure) -> None:
        task = BackgroundTask(key, work)
        task.signals.succeeded.connect(on_success)
        task.signals.failed.connect(on_failure)
        task.signals.succeeded.connect(lambda *_a, t=task: self._tasks.discard(t))
        task.signals.failed.connect(lambda *_a, t=task: self._tasks.discard(t))
        self._tasks.add(task)
        task.start()

    @Slot(object, object)
    def _on_hardware(self, _key: object, hardware: engine_bridge.Hardware) -> None:
        self.state.set_hardware(hardware)

    @Slot(object, object)
    def _on_hardware_failed(self, _key: object, diagnostic: Diagnostic) -> None:
        self.log_view.add_line("error", diagnostic.one_line())
        self.state.set_hardware(engine_bridge.empty_hardware(diagnostic.detail, self.state.rig))

    def inspect_model(self, model_path: str) -> None:
        path = engine_bridge.resolve_model_path(model_path)
        self._inspecting = path
        self.model_panel.set_choices(model_path, self.recent.paths())
        self.model_panel.show_inspecting(path)
        self.state.set_model_info(None)
        if not path:
            self._on_model_failed("", engine_bridge.missing_model_problem(model_path))
            return
        self._run_task(path, lambda: engine_bridge.inspect_model(path), self._on_model, self._on_model_failed)

    @Slot(object, object)
    def _on_model(self, path: object, info: ModelInfo) -> None:
        if path != self._inspecting:
            return  # a newer choice superseded this inspection
        self.model_panel.show_info(info)
        self.state.set_model_info(info)

    @Slot(object, object)
    def _on_model_failed(self, path: object, diagnostic: Diagnostic) -> None:
        if path != self._inspecting:
            return
        self.model_panel.show_problem(diagnostic)
        self.state.set_model_info(None, diagnostic)

    # --- user actions -----------------------------------------------------------------
    @Slot(str)
    def choose_model(self, path: str) -> None:
        if path:
            self.recent.add(path)
        self.state.set_model_path(path)
        self.inspect_model(path)

    @Slot(object)
    def apply_remedy(self, remedy: Remedy) -> None:
        if self.profile_actions.handles(remedy):
            self.crash_panel.hide()
            return
        if remedy.action == "choose_other_file":
            self.model_panel.browse()
            return
        self.state.apply_remedy(remedy)

    @Slot()
    def _on_settings_edited(self) -> None:
        self.state.set_profile(self.settings_panel.apply_to(self.state.profile))

    @Slot()
    def launch(self) -> None:
        blocker = self.state.launch_blocker()
        if blocker or self.engine.is_running():
            self.log_view.add_line("error", f"Cannot launch: {blocker or 'the engine is already running'}")
            return
        self.crash_panel.hide()
        self.log_view.clear_all()
        self.diagnostics_panel.clear_engine_diagnostics()
        profile_json = self.store.to_json(self.state.profile)
        self.engine.start(self.engine_command(self.state.rig), profile_json)

    @Slot(object)
    def report_profile_problem(self, diagnostic: Diagnostic) -> None:
        """Profile trouble shows in the crash/problem panel with its path; the file is kept."""
        self.crash_panel.setTitle("Profile problem")
        self.crash_panel.show_crash(diagnostic, engine_log=False)  # no engine ran: no stderr to show
        self.log_view.add_line("error", diagnostic.one_line())

    # --- engine events ----------------------------------------------------------------
    @Slot(str)
    def _on_ready(self, url: str) -> None:
        self.run_panel.show_ready(url)
        profile = self.state.profile
        self.chat_panel.set_endpoint(url, profile.server.api_key, profile.sampler.max_length)

    @Slot(object)
    def _on_crashed(self, diagnostic: Diagnostic) -> None:
        self.crash_panel.setTitle("The engine stopped unexpectedly")
        self.chat_panel.set_endpoint("")
        self.run_panel.show_stopped(f"✖ Engine stopped: {diagnostic.title}")
        self.crash_panel.show_crash(diagnostic)

    @Slot(int)
    def _on_stopped(self, exit_code: int) -> None:
        self.chat_panel.set_endpoint("")
        self.run_panel.show_stopped(f"Engine stopped (exit code {exit_code}).")

    @Slot()
    def _refresh_launch_button(self, *_args) -> None:
        self.run_panel.set_blocker(self.state.launch_blocker(), self.engine.state())

    @Slot(object)
    def _show_profile(self, profile) -> None:
        self.settings_panel.show_profile(profile)
        self.device_panel.show_settings(profile.launch)
        self.profile_bar.show_current(profile.name)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if self.engine.is_running():
            self.engine.wait_stopped(STOP_AT_EXIT_MS)
        super().closeEvent(event)

    def engine_state(self) -> EngineState:
        return self.engine.state()
