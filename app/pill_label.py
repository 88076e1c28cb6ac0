"""A small rounded, coloured label ("pill") used for device badges and status chips."""

from __future__ import annotations

from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

TONE_COLOURS = {  # tone -> (background, text)
    "good": ("#dcf5e3", "#176b35"),
    "info": ("#e0ecff", "#1d4f9c"),
    "warn": ("#fff1cc", "#8a5a00"),
    "bad": ("#fde0e0", "#a12020"),
    "neutral": ("#eceff3", "#444c56"),
}


class PillLabel(QLabel):
    def __init__(self, text: str, tone: str = "neutral", tooltip: str = "", parent: QWidget | None = None):
        super().__init__(text, parent)
        self.tone = tone if tone in TONE_COLOURS else "neutral"
        background, foreground = TONE_COLOURS[self.tone]
        self.setStyleSheet(
            f"QLabel {{ background: {background}; color: {foreground}; border-radius: 7px; min-height: 15px;"
            f" padding: 1px 7px; font-size: 11px; font-weight: 600; }}"
        )
        font = QFont(self.font())
        font.setPixelSize(11)
        font.setWeight(QFont.Weight.DemiBold)
        self.setMinimumWidth(QFontMetrics(font).horizontalAdvance(text) + 2 * 7 + 4)  # text + padding + slack
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        if tooltip:
            self.setToolTip(tooltip)
