"""One diagnostic, rendered: a coloured severity stripe, title, detail and remedy buttons."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.pill_label import PillLabel
from engine.diagnostics import Diagnostic, Remedy, Severity

SEVERITY_TONES = {Severity.ERROR: "bad", Severity.WARNING: "warn", Severity.INFO: "info"}


class DiagnosticCard(QFrame):
    remedy_clicked = Signal(object)  # Remedy

    def __init__(self, diagnostic: Diagnostic, parent: QWidget | None = None):
        super().__init__(parent)
        self.diagnostic = diagnostic
        self.setObjectName(f"card-{diagnostic.severity.value}")
        self.setProperty("severity", diagnostic.severity.value)
        header = QHBoxLayout()
        header.addWidget(PillLabel(diagnostic.severity.value.upper(), SEVERITY_TONES[diagnostic.severity],
                                   f"Code {diagnostic.code}"))
        title = QLabel(diagnostic.title)
        title.setObjectName("cardTitle")
        title.setWordWrap(True)
        header.addWidget(title, 1)
        code = QLabel(diagnostic.code)
        code.setObjectName("muted")
        header.addWidget(code)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.addLayout(header)
        if diagnostic.detail:
            detail = QLabel(diagnostic.detail)
            detail.setWordWrap(True)
            layout.addWidget(detail)
        if diagnostic.remedies:
            layout.addLayout(self._remedy_row(diagnostic.remedies))

    def _remedy_row(self, remedies: tuple[Remedy, ...]) -> QHBoxLayout:
        row = QHBoxLayout()
        for remedy in remedies:
            button = QPushButton(remedy.label or remedy.action)
            button.setObjectName("remedyButton")
            button.setProperty("action", remedy.action)
            button.setToolTip(f"{remedy.action} {remedy.args or ''}".strip())
            button.clicked.connect(lambda _checked=False, r=remedy: self.remedy_clicked.emit(r))
            row.addWidget(button)
        row.addStretch(1)
        return row

    def remedy_buttons(self) -> list[QPushButton]:
        return self.findChildren(QPushButton, "remedyButton")

    def remedy_button(self, action: str) -> QPushButton | None:
        """The first button that applies a remedy of this ``action`` (e.g. "offload_layers")."""
        return next((b for b in self.remedy_buttons() if b.property("action") == action), None)
