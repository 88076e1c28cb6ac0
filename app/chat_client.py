"""Streams a chat completion from the running engine (OpenAI SSE over QNetworkAccessManager)."""

from __future__ import annotations

import json

from PySide6.QtCore import QByteArray, QObject, QUrl, Signal, Slot
from PySide6.QtNetwork import QNetworkAccessManager, QNetworkReply, QNetworkRequest

from app.sse_decoder import DONE_SENTINEL, SseDecoder, chat_delta_text


class ChatClient(QObject):
    token_received = Signal(str)
    finished = Signal(str)  # the whole reply
    failed = Signal(str)  # a sentence for the user

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._network = QNetworkAccessManager(self)
        self._reply: QNetworkReply | None = None
        self._decoder = SseDecoder()
        self._text = ""

    def is_busy(self) -> bool:
        return self._reply is not None

    def send(self, base_url: str, messages: list[dict], api_key: str = "", max_tokens: int = 128) -> None:
        if self._reply is not None:
            return
        request = QNetworkRequest(QUrl(base_url.rstrip("/") + "/v1/chat/completions"))
        request.setHeader(QNetworkRequest.KnownHeaders.ContentTypeHeader, "application/json")
        request.setRawHeader(QByteArray(b"Accept"), QByteArray(b"text/event-stream"))
        if api_key:
            request.setRawHeader(QByteArray(b"Authorization"), QByteArray(f"Bearer {api_key}".encode()))
        body = {"model": "local", "messages": messages, "stream": True, "max_tokens": max_tokens}
        self._decoder = SseDecoder()
        self._text = ""
        self._reply = self._network.post(request, QByteArray(json.dumps(body).encode("utf-8")))
        self._reply.readyRead.connect(self._read_chunk)
        self._reply.finished.connect(self._on_finished)

    @Slot()
    def abort(self) -> None:
        if self._reply is not None:
            self._reply.abort()

    @Slot()
    def _read_chunk(self) -> None:
        for payload in self._decoder.feed(bytes(self._reply.readAll().data())):
            if payload.strip() == DONE_SENTINEL:
                continue
            try:
                text = chat_delta_text(payload)
            except (ValueError, AttributeError, IndexError):
                continue
            if text:
                self._text += text
                self.token_received.emit(text)

    @Slot()
    def _on_finished(self) -> None:
        reply, self._reply = self._reply, None
        if reply.bytesAvailable():
            self._reply = reply
            self._read_chunk()
            self._reply = None
        status = reply.attribute(QNetworkRequest.Attribute.HttpStatusCodeAttribute)
        if reply.error() != QNetworkReply.NetworkError.NoError:
            self.failed.emit(f"The engine did not answer ({status or reply.errorString()}).")
        else:
            self.finished.emit(self._text)
        reply.deleteLater()
