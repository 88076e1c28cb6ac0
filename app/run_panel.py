"""Launch / Stop, the progress bar and the status line (URL with copy / open)."""

from __future__ import annotations

from PySide6.QtCore import QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.engine_process import EngineState


class RunPanel(QWidget):
    launch_clicked = Signal()
    stop_clicked = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.launch_button = QPushButton("▶  Launch")
        self.launch_button.setObjectName("launchButton")
        self.stop_button = QPushButton("■  Stop")
        self.stop_button.setObjectName("stopButton")
        self.stop_button.setEnabled(False)
        self.blocker = QLabel()
        self.blocker.setObjectName("blocker")
        self.blocker.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.status = QLabel("Engine stopped.")
        self.status.setObjectName("statusLine")
        self.url = ""
        self.copy_button = QPushButton("Copy URL")
        self.open_button = QPushButton("Open in browser")
        for button in (self.copy_button, self.open_button):
            button.setVisible(False)
        self.launch_button.clicked.connect(self.launch_clicked)
        self.stop_button.clicked.connect(self.stop_clicked)
        self.copy_button.clicked.connect(self.copy_url)
        self.open_button.clicked.connect(self.open_url)
        self._build_layout()

    def _build_layout(self) -> None:
        buttons = QHBoxLayout()
        buttons.addWidget(self.launch_button)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.blocker, 1)
        buttons.addStretch(1)
        for button in (self.launch_button, self.stop_button):
            button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        status = QHBoxLayout()
        status.addWidget(self.status, 1)
        status.addWidget(self.copy_button)
        status.addWidget(self.open_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addLayout(status)

    def set_blocker(self, reason: str, engine_state: EngineState) -> None:
        idle = engine_state is EngineState.IDLE
        self.launch_button.setEnabled(idle and not reason)
        self.launch_button.setToolTip(reason or "Start the engine with these settings")
        self.blocker.setText(reason if idle else "")

    @Slot(str)
    def show_state(self, state: str) -> None:
        engine_state = EngineState(state)
        self.stop_button.setEnabled(engine_state in (EngineState.STARTING, EngineState.READY))
        if engine_state is EngineState.STARTING:
            self.status.setText("Starting the engine…")
            self.progress.setRange(0, 0)
            self.progress.show()
        elif engine_state is EngineState.STOPPING:
            self.status.setText("Stopping…")
        elif engine_state is EngineState.IDLE:
            self.progress.hide()
            self._set_url("")
        self.blocker.setVisible(engine_state is EngineState.IDLE)

    @Slot(str, int, int)
    def show_progress(self, stage: str, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress.setFormat(f"{stage}: {done}/{total}")
        self.status.setText(f"Loading — {stage}…")

    @Slot(str)
    def show_ready(self, url: str) -> None:
        self.progress.hide()
        self.status.setText(f"● Running at {url}")
        self._set_url(url)

    def show_stopped(self, text: str) -> None:
        self.status.setText(text)

    def _set_url(self, url: str) -> None:
        self.url = url
        for button in (self.copy_button, self.open_button):
            button.setVisible(bool(url))

    @Slot()
    def copy_url(self) -> None:
        QGuiApplication.clipboard().setText(self.url)

    @Slot()
    def open_url(self) -> None:
        QDesktopServices.openUrl(QUrl(self.url))
