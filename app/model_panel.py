"""The model section: file picker with recent files, and what inspection found."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.engine_bridge import human_size
from app.pill_label import PillLabel
from engine.diagnostics import Diagnostic
from engine.model_info import ModelInfo

DEMO_LABEL = "Demo model (SmolLM2, bundled)"
CENSUS_COLUMNS = 2  # tensor-type pills per row


class ModelPanel(QGroupBox):
    model_chosen = Signal(str)  # a path, or "" for the demo model

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Model", parent)
        self.path_combo = QComboBox()
        self.path_combo.setEditable(False)
        self.path_combo.setMinimumContentsLength(12)
        self.path_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.path_combo.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.path_combo.activated.connect(self._on_recent_activated)
        self.browse_button = QPushButton("Browse…")
        self.browse_button.clicked.connect(self.browse)
        self.status = QLabel("No model inspected yet.")
        self.status.setObjectName("muted")
        self.status.setWordWrap(True)
        self.facts = QFormLayout()
        self.facts.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.census = QGridLayout()
        self.census.setSpacing(4)
        self._fact_labels: dict[str, QLabel] = {}
        self._build_layout()

    def _build_layout(self) -> None:
        picker = QHBoxLayout()
        picker.addWidget(self.path_combo, 1)
        picker.addWidget(self.browse_button)
        for name in ("Architecture", "Size", "File type", "Trained context", "Chat template"):
            label = QLabel("—")
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self._fact_labels[name] = label
            self.facts.addRow(f"{name}:", label)
        census_row = QWidget()
        census_row.setLayout(self.census)
        self.census.setContentsMargins(0, 0, 0, 0)
        self.facts.addRow("Tensors:", census_row)
        layout = QVBoxLayout(self)
        layout.addLayout(picker)
        layout.addWidget(self.status)
        layout.addLayout(self.facts)

    def set_choices(self, current: str, recent: list[str]) -> None:
        self.path_combo.blockSignals(True)
        self.path_combo.clear()
        self.path_combo.addItem(DEMO_LABEL, "")
        for path in recent:
            self.path_combo.addItem(path, path)
        index = self.path_combo.findData(current)
        if index < 0:
            self.path_combo.addItem(current, current)
            index = self.path_combo.count() - 1
        self.path_combo.setCurrentIndex(index)
        self.path_combo.blockSignals(False)

    def fact(self, name: str) -> str:
        return self._fact_labels[name].text()

    @Slot()
    def browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a GGUF model", "", "GGUF models (*.gguf);;All files (*)")
        if path:
            self.model_chosen.emit(path)

    @Slot(int)
    def _on_recent_activated(self, index: int) -> None:
        self.model_chosen.emit(str(self.path_combo.itemData(index) or ""))

    def show_inspecting(self, path: str) -> None:
        self.status.setText(f"Inspecting {path or DEMO_LABEL}…")

    def show_info(self, info: ModelInfo) -> None:
        hp = info.hparams
        self.status.setText(info.name)
        self._fact_labels["Architecture"].setText(
            f"{info.architecture}" + (f" · {hp.n_layers} layers · {hp.n_embd} wide" if hp else ""))
        self._fact_labels["Size"].setText(human_size(info.file_size))
        self._fact_labels["File type"].setText(info.file_type)
        self._fact_labels["Trained context"].setText(f"{hp.n_ctx_train:,}" if hp else "unknown")
        self._fact_labels["Chat template"].setText("present" if info.has_chat_template else "none")
        self._show_census(info)

    def _show_census(self, info: ModelInfo) -> None:
        while self.census.count():
            item = self.census.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        for position, entry in enumerate(info.census):
            tone = "warn" if entry.type_name.startswith("IQ") else "neutral"
            tip = f"{entry.count} tensors, {human_size(entry.n_bytes)}"
            pill = PillLabel(f"{entry.type_name} ×{entry.count}", tone, tip)
            self.census.addWidget(pill, position // CENSUS_COLUMNS, position % CENSUS_COLUMNS)
        self.census.setColumnStretch(CENSUS_COLUMNS, 1)

    def show_problem(self, diagnostic: Diagnostic) -> None:
        self.status.setText(f"⚠ {diagnostic.title}")
        for label in self._fact_labels.values():
            label.setText("—")
