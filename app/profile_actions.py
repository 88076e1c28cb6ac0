"""What the profile strip's buttons do: dialogs, the store, and the state."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox, QWidget

from app.launcher_state import LauncherState
from app.profile_bar import ProfileBar
from app.profile_store import ProfileStore
from engine.diagnostics import DiagnosticError, Remedy
from engine.settings import Profile


class ProfileActions(QObject):
    problem = Signal(object)  # Diagnostic: shown by the window, never a traceback
    notice = Signal(str)  # a line for the log (import notes, saved paths)
    profile_loaded = Signal(object)  # Profile (the window re-inspects its model)

    def __init__(self, bar: ProfileBar, store: ProfileStore, state: LauncherState, window: QWidget):
        super().__init__(window)
        self.bar, self.store, self.state, self.window = bar, store, state, window
        bar.profile_selected.connect(self.load)
        bar.save_requested.connect(self.save)
        bar.save_as_requested.connect(self.save_as)
        bar.rename_requested.connect(self.rename)
        bar.delete_requested.connect(self.delete)
        bar.import_requested.connect(self.import_file)
        bar.export_requested.connect(self.export)
        self.refresh()

    def refresh(self) -> None:
        self.bar.set_names(self.store.names(), self.state.profile.name)

    def _attempt(self, action, *args, **kwargs):
        """Run a store call; a ProfileError becomes a problem signal and returns None."""
        try:
            return action(*args, **kwargs) or True
        except DiagnosticError as exc:
            self.problem.emit(exc.diagnostic)
            return None

    def _use(self, profile: Profile) -> None:
        self.state.set_profile(profile)
        self.profile_loaded.emit(profile)
        self.refresh()

    @Slot(str)
    def load(self, name: str) -> None:
        profile = self._attempt(self.store.load, name)
        if profile is None:
            self.refresh()
            return
        self.store.remember(name)
        self._use(profile)

    @Slot()
    def save(self, replace_unreadable: bool = False) -> None:
        path = self._attempt(self.store.save, self.state.profile, replace_unreadable=replace_unreadable)
        if path:
            self.store.remember(self.state.profile.name)
            self.notice.emit(f"Profile saved to {path}")
            self.refresh()

    @Slot()
    def save_as(self, name: str | None = None) -> None:
        name = name or self._ask_name("Save profile as", self.state.profile.name)
        if not name:
            return
        profile = self._attempt(self.store.save_as, self.state.profile, name)
        if profile:
            self.store.remember(profile.name)
            self.state.set_profile(profile)
            self.refresh()

    @Slot()
    def rename(self, new_name: str | None = None) -> None:
        old = self.state.profile.name
        new_name = new_name or self._ask_name("Rename profile", old)
        if not new_name or new_name == old:
            return
        if not self.store.exists(old):  # never saved: renaming is just a new name
            self.state.set_profile(replace(self.state.profile, name=new_name))
        elif self._attempt(self.store.rename, old, new_name):
            self.state.set_profile(replace(self.state.profile, name=new_name))
        self.refresh()

    @Slot()
    def delete(self, confirmed: bool = False) -> None:
        name = self.state.profile.name
        if not confirmed and QMessageBox.question(self.window, "Delete profile", f"Delete the profile “{name}”?") \
                != QMessageBox.StandardButton.Yes:
            return
        if self._attempt(self.store.delete, name):
            self.refresh()

    @Slot()
    def import_file(self, path: str | None = None) -> None:
        path = path or QFileDialog.getOpenFileName(self.window, "Import a profile", "",
                                                   "Profiles (*.json *.kcpps);;All files (*)")[0]
        if not path:
            return
        result = self._attempt(self.store.import_file, path)
        if result is None:
            return
        for note in (*result.notes, *(f"ignored setting: {k}" for k in result.ignored_keys)):
            self.notice.emit(f"Import ({result.source_format}): {note}")
        if not self.store.exists(result.profile.name):
            self._attempt(self.store.save, result.profile)
        self._use(result.profile)

    @Slot()
    def export(self, path: str | None = None) -> None:
        path = path or QFileDialog.getSaveFileName(self.window, "Export the profile", f"{self.state.profile.name}.json",
                                                   "Profiles (*.json)")[0]
        if path and self._attempt(self.store.export_profile, self.state.profile, path):
            self.notice.emit(f"Profile exported to {path}")

    def handles(self, remedy: Remedy) -> bool:
        """Apply a profile remedy (replace an unreadable file); False if not ours."""
        if remedy.action != "replace_profile":
            return False
        self.save(replace_unreadable=True)
        return True

    def _ask_name(self, title: str, current: str) -> str:
        name, ok = QInputDialog.getText(self.window, title, "Profile name:", text=current)
        return name.strip() if ok else ""
