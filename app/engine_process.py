"""The engine as a supervised subprocess: JSON-lines events in, signals out.

Start = ``engine serve --profile -`` with the profile JSON written to stdin. Stop =
terminate, then kill after a grace period; QProcess reaps the child, so no zombie is left.
A non-zero exit or a crash becomes one classified diagnostic (``crash_classifier``).
"""

from __future__ import annotations

from collections import deque
from enum import StrEnum

from PySide6.QtCore import QObject, QProcess, QTimer, Signal, Slot

from app.crash_classifier import classify_crash
from app.protocol_mismatch import protocol_mismatch
from engine import protocol
from engine.diagnostics import Diagnostic

STOP_GRACE_MS = 5000  # terminate, then kill after this long
STDERR_KEEP_LINES = 400  # raw stderr kept for the log pane and crash classification


class EngineState(StrEnum):
    IDLE = "idle"
    STARTING = "starting"
    READY = "ready"
    STOPPING = "stopping"


class EngineProcess(QObject):
    state_changed = Signal(str)  # EngineState value
    event_received = Signal(object)  # engine.protocol.Event
    progress_changed = Signal(str, int, int)  # stage, done, total
    ready = Signal(str)  # url
    log_line = Signal(str, str)  # level, message (events and stderr alike)
    crashed = Signal(object)  # engine.diagnostics.Diagnostic
    diagnostic_raised = Signal(object)  # Diagnostic about a running engine (e.g. QL-E-PROTOCOL), once per run
    stopped = Signal(int)  # exit code of a requested or clean stop

    def __init__(self, parent: QObject | None = None, grace_ms: int = STOP_GRACE_MS):
        super().__init__(parent)
        self._grace_ms = grace_ms
        self._process: QProcess | None = None
        self._state = EngineState.IDLE
        self._stop_requested = False
        self._last_error: dict | None = None
        self._version_reported = False
        self._stdout_buffer = b""
        self._stderr_lines: deque[str] = deque(maxlen=STDERR_KEEP_LINES)
        self._kill_timer = QTimer(self)
        self._kill_timer.setSingleShot(True)
        self._kill_timer.timeout.connect(self._kill_now)

    # --- public API -------------------------------------------------------------------
    def state(self) -> EngineState:
        return self._state

    def is_running(self) -> bool:
        return self._state is not EngineState.IDLE

    def stderr_text(self) -> str:
        return "\n".join(self._stderr_lines)

    def start(self, command: list[str], profile_json: str) -> None:
        if self.is_running():
            return
        self._reset()
        process = QProcess(self)
        process.setProcessChannelMode(QProcess.ProcessChannelMode.SeparateChannels)
        process.readyReadStandardOutput.connect(self._read_stdout)
        process.readyReadStandardError.connect(self._read_stderr)
        process.finished.connect(self._on_finished)
        process.errorOccurred.connect(self._on_error)
        self._process = process
        self._set_state(EngineState.STARTING)
        process.start(command[0], command[1:])
        process.write(profile_json.encode("utf-8"))
        process.closeWriteChannel()

    @Slot()
    def stop(self) -> None:
        if self._process is None or self._state is EngineState.STOPPING:
            return
        self._stop_requested = True
        self._set_state(EngineState.STOPPING)
        self._process.terminate()
        self._kill_timer.start(self._grace_ms)

    def wait_stopped(self, timeout_ms: int) -> bool:
        """Block until the child is gone (used at application exit only)."""
        if self._process is None:
            return True
        self.stop()
        if not self._process.waitForFinished(timeout_ms):
            self._process.kill()
            return self._process.waitForFinished(timeout_ms)
        return True

    # --- internals --------------------------------------------------------------------
    def _reset(self) -> None:
        self._stop_requested = False
        self._last_error = None
        self._version_reported = False
        self._stdout_buffer = b""
        self._stderr_lines.clear()

    def _set_state(self, state: EngineState) -> None:
        if state is not self._state:
            self._state = state
            self.state_changed.emit(state.value)

    @Slot()
    def _kill_now(self) -> None:
        if self._process is not None and self._process.state() != QProcess.ProcessState.NotRunning:
            self.log_line.emit("warning", "The engine did not stop in time; killing it.")
            self._process.kill()

    @Slot()
    def _read_stdout(self) -> None:
        self._stdout_buffer += bytes(self._process.readAllStandardOutput().data())
        *lines, self._stdout_buffer = self._stdout_buffer.split(b"\n")  # complete lines, partial tail
        for raw in lines:
            self._handle_stdout_line(raw.decode("utf-8", errors="replace"))

    @Slot()
    def _read_stderr(self) -> None:
        text = bytes(self._process.readAllStandardError().data()).decode("utf-8", errors="replace")
        for line in text.splitlines():
            self._stderr_lines.append(line)
            self.log_line.emit("stderr", line)

    def _handle_stdout_line(self, line: str) -> None:
        if not line.strip():
            return
        if not protocol.is_event_line(line):
            self.log_line.emit("stdout", line)
            return
        try:
            event = protocol.decode(line)
        except protocol.ProtocolVersionError as exc:
            self._report_version_mismatch(exc.version)
            return
        except protocol.ProtocolError as exc:
            self.log_line.emit("warning", f"Unreadable engine event: {exc}")
            return
        if event is not None:
            self._dispatch(event)

    def _report_version_mismatch(self, version: object) -> None:
        """One QL-E-PROTOCOL diagnostic per run (every later line of that engine mismatches too)."""
        if self._version_reported:
            return
        self._version_reported = True
        diagnostic = protocol_mismatch(version)
        self.log_line.emit("error", diagnostic.one_line())
        self.diagnostic_raised.emit(diagnostic)

    def _dispatch(self, event: protocol.Event) -> None:
        self.event_received.emit(event)
        if event.kind == "progress":
            self.progress_changed.emit(event["stage"], event["done"], event["total"])
        elif event.kind == "ready":
            self._set_state(EngineState.READY)
            self.ready.emit(event["url"])
        elif event.kind == "log":
            self.log_line.emit(event["level"], event["message"])
        elif event.kind == "error":
            self._last_error = event["diagnostic"]
            self.log_line.emit("error", Diagnostic.from_dict(event["diagnostic"]).one_line())
        elif event.kind == "diagnostic":
            self.log_line.emit("info", Diagnostic.from_dict(event["diagnostic"]).one_line())
        elif event.kind == "hello":
            self.log_line.emit("info", f"engine {event['engine']} started ({event['backend']} backend, pid {event['pid']})")
        elif event.kind == "stopped":
            self.log_line.emit("info", f"engine stopped: {event['reason']} (exit code {event['exit_code']})")

    @Slot(QProcess.ProcessError)
    def _on_error(self, process_error: QProcess.ProcessError) -> None:
        if process_error == QProcess.ProcessError.FailedToStart:
            self._finish(None, crashed=True)

    @Slot(int, QProcess.ExitStatus)
    def _on_finished(self, exit_code: int, exit_status: QProcess.ExitStatus) -> None:
        if self._stdout_buffer:
            self._handle_stdout_line(self._stdout_buffer.decode("utf-8", errors="replace"))
            self._stdout_buffer = b""
        crashed = exit_status == QProcess.ExitStatus.CrashExit
        self._finish(-exit_code if crashed and exit_code > 0 else exit_code, crashed)

    def _finish(self, exit_code: int | None, crashed: bool) -> None:
        self._kill_timer.stop()
        requested = self._stop_requested
        if self._process is not None:
            self._process.deleteLater()
            self._process = None
        self._set_state(EngineState.IDLE)
        if requested or (exit_code == 0 and self._last_error is None and not crashed):
            self.stopped.emit(exit_code or 0)
            return
        self.crashed.emit(classify_crash(exit_code, self.stderr_text(), self._last_error))
