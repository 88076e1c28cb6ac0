"""Shown when the engine dies (the classified cause and the last log lines) or a profile
file is damaged (its diagnostic only)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from app.diagnostic_card import DiagnosticCard
from engine.diagnostics import Diagnostic

TAIL_SHOWN = 15


class CrashPanel(QGroupBox):
    remedy_clicked = Signal(object)  # Remedy
    dismissed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__("The engine stopped unexpectedly", parent)
        self.setObjectName("crashPanel")
        self.card: DiagnosticCard | None = None
        self.tail = QPlainTextEdit()
        self.tail.setReadOnly(True)
        self.tail.setMaximumHeight(140)
        self.dismiss_button = QPushButton("Dismiss")
        self.dismiss_button.clicked.connect(self.hide)
        self.dismiss_button.clicked.connect(self.dismissed)
        self._layout = QVBoxLayout(self)
        self._layout.addWidget(self.tail)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.dismiss_button)
        self._layout.addLayout(row)
        self.hide()

    def show_crash(self, diagnostic: Diagnostic, engine_log: bool = True) -> None:
        """The diagnostic's card, and below it the engine's last stderr lines unless the problem
        is not the engine's (``engine_log`` False: a profile file)."""
        if self.card is not None:
            self._layout.removeWidget(self.card)
            self.card.deleteLater()
        self.card = DiagnosticCard(diagnostic)
        self.card.remedy_clicked.connect(self.remedy_clicked)
        self._layout.insertWidget(0, self.card)
        lines = diagnostic.technical.get("stderr_tail", [])[-TAIL_SHOWN:]
        self.tail.setPlainText("\n".join(lines) or "(the engine printed nothing on stderr)")
        self.tail.setVisible(engine_log)
        self.show()
