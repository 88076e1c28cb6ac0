"""The engine's output: a readable event log and, one tab away, the raw stderr."""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QPlainTextEdit, QTabWidget, QWidget

MAX_LOG_LINES = 5000


def _log_box() -> QPlainTextEdit:
    box = QPlainTextEdit()
    box.setReadOnly(True)
    box.setMaximumBlockCount(MAX_LOG_LINES)
    box.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
    box.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
    return box


class LogView(QTabWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.events = _log_box()
        self.raw_stderr = _log_box()
        self.addTab(self.events, "Log")
        self.addTab(self.raw_stderr, "Raw stderr")

    @Slot(str, str)
    def add_line(self, level: str, message: str) -> None:
        if level == "stderr":
            self.raw_stderr.appendPlainText(message)
            return
        self.events.appendPlainText(f"[{level}] {message}")

    def clear_all(self) -> None:
        self.events.clear()
        self.raw_stderr.clear()
