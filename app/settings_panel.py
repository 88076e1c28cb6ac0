"""The settings section: context, layers to offload, server address and sampler defaults.

``show_profile`` fills the fields (without echoing signals); ``apply_to`` returns the
profile with the fields' values; ``edited`` fires on any user change.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from engine.settings import Profile, ServerSettings

SAMPLER_FLOATS = (  # field, label, minimum, maximum, step
    ("temperature", "Temperature", 0.0, 5.0, 0.05),
    ("top_p", "Top-p", 0.0, 1.0, 0.01),
    ("min_p", "Min-p", 0.0, 1.0, 0.01),
    ("rep_pen", "Repetition penalty", 0.5, 3.0, 0.01),
)
SAMPLER_INTS = (("top_k", "Top-k", 0, 1000), ("max_length", "Max new tokens", 1, 32768))


class SettingsPanel(QGroupBox):
    edited = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Settings", parent)
        self.context_size = self._spin(256, 1 << 20, 256)
        self.context_size.setObjectName("contextSize")
        self.layers_auto = QCheckBox("auto")
        self.layers = self._spin(0, 1000, 1)
        self.layers.setObjectName("gpuLayers")
        self.layers_auto.toggled.connect(self.layers.setDisabled)
        self.host = QLineEdit()
        self.port = self._spin(1, 65535, 1)
        self.api_key = QLineEdit()
        self.api_key.setEchoMode(QLineEdit.EchoMode.PasswordEchoOnEdit)
        self.api_key.setPlaceholderText("none (open to this machine)")
        self.sampler_fields: dict[str, QSpinBox | QDoubleSpinBox] = {}
        for field, _label, low, high in SAMPLER_INTS:
            self.sampler_fields[field] = self._spin(low, high, 1)
        for field, _label, low, high, step in SAMPLER_FLOATS:
            self.sampler_fields[field] = self._double(low, high, step)
        self.layers_auto.toggled.connect(self._emit_edited)
        for widget in (self.host, self.api_key):
            widget.editingFinished.connect(self._emit_edited)
        self._build_layout()

    def _spin(self, low: int, high: int, step: int) -> QSpinBox:
        spin = QSpinBox()
        spin.setRange(low, high)
        spin.setSingleStep(step)
        spin.setKeyboardTracking(False)
        spin.valueChanged.connect(self._emit_edited)
        return spin

    def _double(self, low: float, high: float, step: float) -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setRange(low, high)
        spin.setSingleStep(step)
        spin.setDecimals(2)
        spin.setKeyboardTracking(False)
        spin.valueChanged.connect(self._emit_edited)
        return spin

    def _build_layout(self) -> None:
        form = QFormLayout(self)
        form.addRow("Context size:", self.context_size)
        layers_row = QHBoxLayout()
        layers_row.addWidget(self.layers_auto)
        layers_row.addWidget(self.layers, 1)
        form.addRow("GPU layers:", layers_row)
        address = QHBoxLayout()
        address.addWidget(self.host, 2)
        address.addWidget(self.port, 1)
        form.addRow("Listen on:", address)
        form.addRow("API key:", self.api_key)
        for field, label, *_ in (*SAMPLER_INTS, *SAMPLER_FLOATS):
            form.addRow(f"{label}:", self.sampler_fields[field])

    @Slot()
    def _emit_edited(self) -> None:
        self.edited.emit()

    def show_profile(self, profile: Profile) -> None:
        widgets = [self.context_size, self.layers_auto, self.layers, self.host, self.port, self.api_key,
                   *self.sampler_fields.values()]
        for widget in widgets:
            widget.blockSignals(True)
        launch = profile.launch
        self.context_size.setValue(launch.context_size)
        self.layers_auto.setChecked(launch.gpu_layers is None)
        self.layers.setEnabled(launch.gpu_layers is not None)
        self.layers.setValue(launch.gpu_layers or 0)
        self.host.setText(profile.server.host)
        self.port.setValue(profile.server.port)
        self.api_key.setText(profile.server.api_key)
        for field, widget in self.sampler_fields.items():
            widget.setValue(getattr(profile.sampler, field))
        for widget in widgets:
            widget.blockSignals(False)

    def apply_to(self, profile: Profile) -> Profile:
        launch = profile.launch.with_changes(
            context_size=self.context_size.value(),
            gpu_layers=None if self.layers_auto.isChecked() else self.layers.value(),
        )
        server = ServerSettings(self.host.text().strip() or "127.0.0.1", self.port.value(), self.api_key.text())
        sampler = replace(profile.sampler, **{f: w.value() for f, w in self.sampler_fields.items()})
        return replace(profile, launch=launch, server=server, sampler=sampler)
