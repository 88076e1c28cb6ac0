"""The GPU table: one row per device with its use checkbox, badges and kernel path."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.engine_bridge import DeviceRow
from app.pill_label import PillLabel
from engine.settings import KERNEL_CHOICES

COLUMNS = ("Use", "Device and capabilities", "CC", "Memory", "Kernel path", "Plan")
PLAN_COLUMN = 5
PATH_WORDS = {"mmvq": "mmvq (dp4a)", "mmvq-soft": "mmvq (software dp4a)", "dmmv": "dmmv", "": "not used"}


class DeviceTable(QTableWidget):
    device_toggled = Signal(str, bool)  # uuid, selected
    kernel_chosen = Signal(str, str)  # uuid, auto|mmvq|dmmv

    def __init__(self, parent: QWidget | None = None):
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(COLUMNS)
        self.verticalHeader().setVisible(False)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setShowGrid(False)
        self.setAlternatingRowColors(True)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(PLAN_COLUMN, QHeaderView.ResizeMode.Stretch)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.verticalHeader().setDefaultSectionSize(60)
        self._uuids: tuple[str, ...] = ()
        self._editors: dict[str, tuple[QCheckBox, QComboBox]] = {}

    def set_rows(self, rows: tuple[DeviceRow, ...]) -> None:
        """Rebuild when the device list changes; otherwise update in place (the widget that
        sent a signal must not be destroyed inside its own slot)."""
        if tuple(r.uuid for r in rows) == self._uuids:
            for row_index, row in enumerate(rows):
                self._update_row(row_index, row)
            return
        self._uuids = tuple(r.uuid for r in rows)
        self._editors = {}
        self.setRowCount(len(rows))
        for row_index, row in enumerate(rows):
            self._fill_row(row_index, row)
        frame = 2 * self.frameWidth() + self.horizontalHeader().sizeHint().height()
        self.setFixedHeight(frame + sum(self.rowHeight(r) for r in range(len(rows))) + 6)  # no inner scrolling
    def checkbox_for(self, uuid: str) -> QCheckBox:
        return self._editors[uuid][0]

    def combo_for(self, uuid: str) -> QComboBox:
        return self._editors[uuid][1]

    def _update_row(self, r: int, row: DeviceRow) -> None:
        box, combo = self._editors[row.uuid]
        box.blockSignals(True)
        box.setChecked(row.selected)
        box.blockSignals(False)
        combo.blockSignals(True)
        self._fill_combo(combo, row)
        combo.blockSignals(False)
        self.item(r, PLAN_COLUMN).setText(self._plan_text(row))

    @staticmethod
    def _plan_text(row: DeviceRow) -> str:
        return row.layers_text or ("—" if row.selected else "excluded")

    def _fill_row(self, r: int, row: DeviceRow) -> None:
        box, combo = self._checkbox(row), self._kernel_combo(row)
        self._editors[row.uuid] = (box, combo)
        self.setCellWidget(r, 0, self._centered(box))
        self.setCellWidget(r, 1, self._device_cell(row))
        self.setItem(r, 2, QTableWidgetItem(row.cc_text))
        self.setItem(r, 3, QTableWidgetItem(row.memory_text))
        self.setCellWidget(r, 4, self._centered(combo))
        self.setItem(r, PLAN_COLUMN, QTableWidgetItem(self._plan_text(row)))

    def _centered(self, widget: QWidget) -> QWidget:
        holder = QWidget()
        layout = QHBoxLayout(holder)
        layout.setContentsMargins(8, 0, 8, 0)
        layout.addWidget(widget)
        return holder

    def _checkbox(self, row: DeviceRow) -> QCheckBox:
        box = QCheckBox()
        box.setObjectName(f"use-{row.uuid}")
        box.setChecked(row.selected)
        box.setToolTip(f"Use {row.name} for this model")
        box.toggled.connect(lambda checked, uuid=row.uuid: self.device_toggled.emit(uuid, checked))
        return box

    def _device_cell(self, row: DeviceRow) -> QWidget:
        """The device's name on top, its capability badges (pills with tooltips) below."""
        holder = QWidget()
        holder.setToolTip(row.uuid)
        name = QLabel(f"<b>#{row.index}</b>&nbsp; {row.name}")
        pills = QHBoxLayout()
        pills.setSpacing(4)
        for badge in row.badges:
            pills.addWidget(PillLabel(badge.label, badge.tone, badge.tooltip))
        pills.addStretch(1)
        layout = QVBoxLayout(holder)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(3)
        layout.addWidget(name)
        layout.addLayout(pills)
        return holder

    def badge_labels(self, row_index: int) -> dict[str, str]:
        """Badge text -> tooltip for one row (what a user sees and hovers)."""
        return {p.text(): p.toolTip() for p in self.cellWidget(row_index, 1).findChildren(PillLabel)}

    def _kernel_combo(self, row: DeviceRow) -> QComboBox:
        combo = QComboBox()
        combo.setObjectName(f"kernel-{row.uuid}")
        self._fill_combo(combo, row)
        combo.currentIndexChanged.connect(lambda _i, c=combo, uuid=row.uuid: self._on_kernel(uuid, c))
        return combo

    @staticmethod
    def _fill_combo(combo: QComboBox, row: DeviceRow) -> None:
        resolved = PATH_WORDS.get(row.resolved_path, row.resolved_path)
        combo.clear()
        for choice in KERNEL_CHOICES:
            combo.addItem(f"auto → {resolved}" if choice == "auto" else choice, choice)
        combo.setCurrentIndex(KERNEL_CHOICES.index(row.kernel_choice) if row.kernel_choice in KERNEL_CHOICES else 0)
        combo.setEnabled(row.selected)
        combo.setToolTip(f"This device runs: {resolved}")

    @Slot()
    def _on_kernel(self, uuid: str, combo: QComboBox) -> None:
        self.kernel_chosen.emit(uuid, str(combo.currentData()))
