"""The profile strip in the header: which profile is current, and the actions on profiles."""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QMenu, QPushButton, QToolButton, QWidget


class ProfileBar(QWidget):
    profile_selected = Signal(str)
    save_requested = Signal()
    save_as_requested = Signal()
    rename_requested = Signal()
    delete_requested = Signal()
    import_requested = Signal()
    export_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.combo = QComboBox()
        self.combo.setMinimumWidth(180)
        self.combo.activated.connect(self._on_activated)
        self.save_button = QPushButton("Save")
        self.save_button.clicked.connect(self.save_requested)
        self.more_button = QToolButton()
        self.more_button.setText("Profile ▾")
        self.more_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.more_button)
        self.actions_by_name = {}
        for label, signal in (("Save as…", self.save_as_requested), ("Rename…", self.rename_requested),
                              ("Delete", self.delete_requested), ("Import… (.json, .kcpps)", self.import_requested),
                              ("Export…", self.export_requested)):
            action = menu.addAction(label)
            action.triggered.connect(signal)
            self.actions_by_name[label] = action
        self.more_button.setMenu(menu)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Profile:"))
        layout.addWidget(self.combo)
        layout.addWidget(self.save_button)
        layout.addWidget(self.more_button)

    def set_names(self, names: list[str], current: str) -> None:
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItems(names)
        self.show_current(current)
        self.combo.blockSignals(False)

    def show_current(self, name: str) -> None:
        if self.combo.findText(name) < 0:
            self.combo.addItem(name)
        self.combo.blockSignals(True)
        self.combo.setCurrentText(name)
        self.combo.blockSignals(False)

    @Slot(int)
    def _on_activated(self, index: int) -> None:
        self.profile_selected.emit(self.combo.itemText(index))
