"""The GPU section: simulated-hardware banner, the device table (or an empty state that
explains the CPU fallback), and the two global toggles."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QCheckBox, QGroupBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.device_table import DeviceTable
from app.engine_bridge import Hardware, Preflight
from engine.settings import LaunchSettings


class DevicePanel(QGroupBox):
    device_toggled = Signal(str, bool)
    kernel_chosen = Signal(str, str)
    exclude_legacy_toggled = Signal(bool)
    force_mmvq_toggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None):
        super().__init__("GPUs", parent)
        self.banner = QLabel()
        self.banner.setObjectName("simulatedBanner")
        self.banner.setWordWrap(True)
        self.banner.hide()
        self.empty_state = QLabel("Looking for NVIDIA GPUs…")
        self.empty_state.setObjectName("emptyState")
        self.empty_state.setWordWrap(True)
        self.empty_state.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.table = DeviceTable()
        self.table.hide()
        self.table.device_toggled.connect(self.device_toggled)
        self.table.kernel_chosen.connect(self.kernel_chosen)
        self.exclude_legacy = QCheckBox("Exclude legacy cards (below 6.1)")
        self.exclude_legacy.setToolTip("Cards below compute capability 6.1 have no native dp4a; leave them out.")
        self.force_mmvq = QCheckBox("Force mmvq everywhere")
        self.force_mmvq.setToolTip("Use the q8_1 + dp4a path on every card; below 6.1 it runs a slower software dp4a.")
        self.exclude_legacy.toggled.connect(self.exclude_legacy_toggled)
        self.force_mmvq.toggled.connect(self.force_mmvq_toggled)
        self._build_layout()

    def _build_layout(self) -> None:
        toggles = QHBoxLayout()
        toggles.addWidget(self.exclude_legacy)
        toggles.addSpacing(16)
        toggles.addWidget(self.force_mmvq)
        toggles.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setSpacing(8)
        layout.addWidget(self.banner)
        layout.addWidget(self.empty_state)
        layout.addWidget(self.table, 1)
        layout.addLayout(toggles)

    def show_hardware(self, hardware: Hardware) -> None:
        inventory = hardware.inventory
        if inventory.simulated:
            self.banner.setText(f"⚠  Simulated hardware — rig “{inventory.rig_name}”. The devices below come from a "
                                f"rig file, not from this machine: use it to plan and to see what would happen.")
        self.banner.setVisible(inventory.simulated)
        has_devices = bool(inventory.devices)
        self.table.setVisible(has_devices)
        self.empty_state.setVisible(not has_devices)
        self.exclude_legacy.setEnabled(has_devices)
        self.force_mmvq.setEnabled(has_devices)
        if not has_devices:
            reason = inventory.reason or "no NVIDIA GPU was found"
            self.empty_state.setText(f"No NVIDIA GPU available — {reason}.\n"
                                     "QuantLaunch will run the model on the CPU (slower, but it works).")

    @Slot(object)
    def show_preflight(self, preflight: Preflight) -> None:
        if preflight.rows:
            self.table.set_rows(preflight.rows)

    def show_settings(self, launch: LaunchSettings) -> None:
        for box, value in ((self.exclude_legacy, launch.exclude_legacy), (self.force_mmvq, launch.kernel == "mmvq")):
            box.blockSignals(True)
            box.setChecked(value)
            box.blockSignals(False)
