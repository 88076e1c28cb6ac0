"""Run one blocking call on the global QThreadPool and deliver its result by signal.

Used for model inspection and the GPU inventory, so the window never freezes. A
DiagnosticError becomes ``failed(diagnostic)``; any other exception becomes a
diagnostic too (never a traceback in the user's face).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from engine.diagnostics import DiagnosticError, error


class TaskSignals(QObject):
    succeeded = Signal(object, object)  # key, result
    failed = Signal(object, object)  # key, Diagnostic


class BackgroundTask(QRunnable):
    def __init__(self, key: Any, work: Callable[[], Any]):
        super().__init__()
        self.key = key
        self.work = work
        self.signals = TaskSignals()
        self.setAutoDelete(False)  # the owner keeps the task (and its signals) until it reports

    def run(self) -> None:
        try:
            result = self.work()
        except DiagnosticError as exc:
            self.signals.failed.emit(self.key, exc.diagnostic)
        except Exception as exc:  # a bug or an unreadable file: still a sentence for the user
            self.signals.failed.emit(self.key, error("QL-E-INTERNAL", "Something went wrong",
                                                     f"{type(exc).__name__}: {exc}", key=str(self.key)))
        else:
            self.signals.succeeded.emit(self.key, result)

    def start(self) -> BackgroundTask:
        QThreadPool.globalInstance().start(self)
        return self
