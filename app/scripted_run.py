"""Unattended start-up steps: ``--launch`` (once preflight is ready), ``--chat TEXT`` (once
the engine is ready) and ``--screenshot FILE`` (when everything asked for has settled)."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Slot
from PySide6.QtWidgets import QApplication

SETTLE_TIMEOUT_MS = 120_000  # give up waiting (a screenshot is still written)
SETTLE_POLL_MS = 100


class ScriptedRun(QObject):
    def __init__(self, window, launch: bool, chat: str | None, screenshot: str | None):
        super().__init__(window)
        self.window = window
        self.want_launch = launch or bool(chat)
        self.chat = chat
        self.screenshot = screenshot
        self.exit_code = 0
        self._launched = False
        self._chat_done = not chat
        self._elapsed_ms = 0
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._poll)

    @Slot()
    def begin(self) -> None:
        if self.want_launch or self.screenshot:
            self._timer.start(SETTLE_POLL_MS)
        if self.chat:
            self.window.chat_panel.client.finished.connect(self._on_chat_done)
            self.window.chat_panel.client.failed.connect(self._on_chat_done)
            self.window.engine.ready.connect(self._send_chat)

    def _preflight_settled(self) -> bool:
        return not self.window.state.preflight.waiting

    @Slot()
    def _poll(self) -> None:
        self._elapsed_ms += SETTLE_POLL_MS
        if not self._preflight_settled() and self._elapsed_ms < SETTLE_TIMEOUT_MS:
            return
        if self.want_launch and not self._launched:
            self._launched = True
            self.window.launch()
        if self.screenshot and (self._settled() or self._elapsed_ms >= SETTLE_TIMEOUT_MS):
            self._timer.stop()
            QTimer.singleShot(300, self._take_screenshot)  # let layouts and fonts settle
        elif not self.screenshot and self._launched:
            self._timer.stop()

    def _settled(self) -> bool:
        if not self.want_launch:
            return True
        engine_busy = self.window.engine_state().value == "starting"
        return not engine_busy and self._chat_done

    @Slot(str)
    def _send_chat(self, _url: str) -> None:
        self.window.chat_panel.prompt.setText(self.chat)
        self.window.chat_panel.send()

    @Slot(str)
    def _on_chat_done(self, _text: str) -> None:
        self._chat_done = True

    @Slot()
    def _take_screenshot(self) -> None:
        ok = self.window.grab().save(self.screenshot)
        self.exit_code = 0 if ok else 1
        print(f"screenshot {'written to' if ok else 'FAILED for'} {self.screenshot}", flush=True)
        self.window.close()
        QApplication.instance().quit()
