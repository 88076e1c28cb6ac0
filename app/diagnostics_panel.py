"""Preflight: the live verdict (ready / blocked) and one card per diagnostic.

Diagnostics about the running engine (e.g. QL-E-PROTOCOL) are shown as cards too, above
the preflight ones, until the next launch clears them."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QGroupBox, QLabel, QScrollArea, QVBoxLayout, QWidget

from app.diagnostic_card import DiagnosticCard
from app.engine_bridge import Preflight
from engine.diagnostics import Diagnostic

SEVERITY_ORDER = ("error", "warning", "info")


class DiagnosticsPanel(QGroupBox):
    remedy_clicked = Signal(object)  # Remedy

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Preflight", parent)
        self.verdict = QLabel("Checking…")
        self.verdict.setObjectName("verdict")
        self.verdict.setWordWrap(True)
        self.summary = QLabel()
        self.summary.setObjectName("muted")
        self.summary.setWordWrap(True)
        self._cards_host = QWidget()
        self._cards = QVBoxLayout(self._cards_host)
        self._cards.setContentsMargins(0, 0, 0, 0)
        self._cards.setSpacing(8)
        self._cards.addStretch(1)
        self._card_list: list[DiagnosticCard] = []
        self._preflight_diagnostics: tuple[Diagnostic, ...] = ()
        self._engine_diagnostics: list[Diagnostic] = []
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self._cards_host)
        layout = QVBoxLayout(self)
        layout.addWidget(self.verdict)
        layout.addWidget(self.summary)
        layout.addWidget(scroll, 1)

    def cards(self) -> list[DiagnosticCard]:
        return list(self._card_list)

    @Slot(object)
    def show_preflight(self, preflight: Preflight) -> None:
        errors = sum(1 for d in preflight.diagnostics if d.is_error)
        if preflight.waiting:
            self._set_verdict(preflight.waiting, "pending")
        elif errors:
            self._set_verdict(f"✖ {errors} problem{'s' if errors > 1 else ''} must be fixed before launch", "error")
        else:
            self._set_verdict("✔ Ready to launch", "ok")
        self.summary.setText(preflight.summary)
        self.summary.setVisible(bool(preflight.summary))
        self._preflight_diagnostics = tuple(preflight.diagnostics)
        self._render_cards()

    @Slot(object)
    def show_engine_diagnostic(self, diagnostic: Diagnostic) -> None:
        """A card for a problem the running engine has (kept until ``clear_engine_diagnostics``)."""
        self._engine_diagnostics.append(diagnostic)
        self._render_cards()

    @Slot()
    def clear_engine_diagnostics(self) -> None:
        if self._engine_diagnostics:
            self._engine_diagnostics.clear()
            self._render_cards()

    def _render_cards(self) -> None:
        for card in self._card_list:  # deleteLater: a card's button may be mid-signal right now
            self._cards.removeWidget(card)
            card.hide()
            card.deleteLater()
        self._card_list = []
        preflight = sorted(self._preflight_diagnostics, key=lambda d: SEVERITY_ORDER.index(d.severity.value))
        for diagnostic in [*self._engine_diagnostics, *preflight]:
            card = DiagnosticCard(diagnostic)
            card.remedy_clicked.connect(self.remedy_clicked)
            self._cards.insertWidget(self._cards.count() - 1, card)
            self._card_list.append(card)

    def _set_verdict(self, text: str, state: str) -> None:
        self.verdict.setText(text)
        self.verdict.setProperty("state", state)
        self.verdict.style().unpolish(self.verdict)
        self.verdict.style().polish(self.verdict)
