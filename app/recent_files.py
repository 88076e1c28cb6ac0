"""The recently used model files, kept in QSettings (most recent first)."""

from __future__ import annotations

from PySide6.QtCore import QSettings

MAX_RECENT = 8
KEY = "models/recent"


class RecentFiles:
    def __init__(self, settings: QSettings):
        self._settings = settings

    def paths(self) -> list[str]:
        value = self._settings.value(KEY, [])
        if isinstance(value, str):  # QSettings returns a bare string for a one-item list
            value = [value]
        return [str(p) for p in (value or []) if p]

    def add(self, path: str) -> list[str]:
        paths = [path, *[p for p in self.paths() if p != path]][:MAX_RECENT]
        self._settings.setValue(KEY, paths)
        return paths
