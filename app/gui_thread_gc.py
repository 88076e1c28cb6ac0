"""Python's cyclic garbage collector, run on the GUI thread only.

A collection triggered inside a worker thread (model inspection, the inventory) may free
Qt widgets caught in reference cycles, and destroying a widget off the GUI thread crashes.
So automatic collection is switched off and a timer on the GUI thread collects instead
(the pattern pyqtgraph uses).
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer, Slot

CHECK_INTERVAL_MS = 500


class GuiThreadGarbageCollector(QObject):
    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._thresholds = gc.get_threshold()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.check)

    def start(self) -> None:
        gc.disable()
        self._timer.start(CHECK_INTERVAL_MS)

    def stop(self) -> None:
        self._timer.stop()
        gc.collect()
        gc.enable()

    @Slot()
    def check(self) -> None:
        """Collect the generations whose allocation counts passed their thresholds."""
        counts = gc.get_count()
        if counts[0] > self._thresholds[0]:
            generation = 2 if counts[2] > self._thresholds[2] else 1 if counts[1] > self._thresholds[1] else 0
            gc.collect(generation)
