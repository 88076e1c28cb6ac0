"""A small try-it chat that streams replies from the running engine."""

from __future__ import annotations

import html

from PySide6.QtCore import Slot
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QPushButton, QTextBrowser, QVBoxLayout, QWidget

from app.chat_client import ChatClient


class ChatPanel(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.client = ChatClient(self)
        self.transcript = QTextBrowser()
        self.transcript.setPlaceholderText("Launch the engine, then say hello.")
        self.prompt = QLineEdit()
        self.prompt.setPlaceholderText("Message the model…")
        self.send_button = QPushButton("Send")
        self.prompt.returnPressed.connect(self.send)
        self.send_button.clicked.connect(self.send)
        self.client.token_received.connect(self._append_token)
        self.client.finished.connect(self._on_finished)
        self.client.failed.connect(self._on_failed)
        self._messages: list[dict[str, str]] = []
        self._base_url = ""
        self._api_key = ""
        self._max_tokens = 128
        row = QHBoxLayout()
        row.addWidget(self.prompt, 1)
        row.addWidget(self.send_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.transcript, 1)
        layout.addLayout(row)
        self.set_endpoint("")

    def set_endpoint(self, base_url: str, api_key: str = "", max_tokens: int = 128) -> None:
        self._base_url, self._api_key, self._max_tokens = base_url, api_key, max_tokens
        self.prompt.setEnabled(bool(base_url))
        self.send_button.setEnabled(bool(base_url))
        if not base_url:
            self._messages = []

    @Slot()
    def send(self) -> None:
        text = self.prompt.text().strip()
        if not text or not self._base_url or self.client.is_busy():
            return
        self.prompt.clear()
        self._messages.append({"role": "user", "content": text})
        self.transcript.append(f"<p><b>You:</b> {html.escape(text)}</p><p><b>Model:</b> ")
        self.send_button.setEnabled(False)
        self.client.send(self._base_url, list(self._messages), self._api_key, self._max_tokens)

    @Slot(str)
    def _append_token(self, text: str) -> None:
        cursor = self.transcript.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(text)
        self.transcript.setTextCursor(cursor)

    @Slot(str)
    def _on_finished(self, reply: str) -> None:
        self._messages.append({"role": "assistant", "content": reply})
        self.send_button.setEnabled(bool(self._base_url))

    @Slot(str)
    def _on_failed(self, why: str) -> None:
        self.transcript.append(f"<p style='color:#a12020'>{html.escape(why)}</p>")
        self._messages.pop()
        self.send_button.setEnabled(bool(self._base_url))
