"""The Prediction tab's bar above the results: counts, how many labels to show, the
confidence below which results are marked, what computes, export and clear."""
from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QMenu,
                               QPushButton, QSizePolicy, QSpinBox, QToolButton, QVBoxLayout,
                               QWidget)

from gui.i18n import translate


# engine.use.backends.BACKENDS, with the words the menu shows
BACKEND_TEXTS = (
    ("auto", QT_TRANSLATE_NOOP("ResultBar", "Fastest (auto)")),
    ("torch", QT_TRANSLATE_NOOP("ResultBar", "PyTorch")),
    ("onnx", QT_TRANSLATE_NOOP("ResultBar", "ONNX Runtime (full precision)")),
    ("onnx-int8", QT_TRANSLATE_NOOP("ResultBar", "ONNX Runtime int8")),
    ("openvino", QT_TRANSLATE_NOOP("ResultBar", "OpenVINO")),
    ("openvino-int8", QT_TRANSLATE_NOOP("ResultBar", "OpenVINO int8")),
)
# engine.use.tta.MODES, with the words the menu shows
TTA_TEXTS = (
    ("off", QT_TRANSLATE_NOOP("ResultBar", "No TTA")),
    ("flip", QT_TRANSLATE_NOOP("ResultBar", "TTA: flip")),
    ("flip+crops", QT_TRANSLATE_NOOP("ResultBar", "TTA: flip + crops")),
)


class ResultBar(QWidget):
    top_k_changed = Signal(int)
    threshold_changed = Signal(float)  # a share, 0..1
    export_requested = Signal(str)  # "csv" | "json"
    clear_requested = Signal()
    not_sure_changed = Signal(bool)
    heat_changed = Signal(bool)
    backend_changed = Signal(str)  # engine.use.backends name
    tta_changed = Signal(str)  # engine.use.tta mode

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # two lines: the summary of the results across the whole width, and under it the
        # controls (too many for one line beside the summary at the window's minimum width)
        lines = QVBoxLayout(self)
        lines.setContentsMargins(0, 0, 0, 0)
        lines.setSpacing(4)
        self.summary = QLabel()
        self.summary.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        lines.addWidget(self.summary)
        row = QHBoxLayout()
        row.setSpacing(8)
        lines.addLayout(row)
        row.addStretch(1)
        row.addWidget(QLabel(translate("ResultBar", "Show top")))
        self.top_k = QSpinBox()
        self.top_k.setRange(1, 10)
        self.top_k.setValue(3)
        self.top_k.setToolTip(translate("ResultBar", "How many labels to show per image"))
        self.top_k.valueChanged.connect(self.top_k_changed)
        row.addWidget(self.top_k)
        row.addWidget(QLabel(translate("ResultBar", "Mark below")))
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0, 100)
        self.threshold.setDecimals(0)
        self.threshold.setSingleStep(5)
        self.threshold.setSuffix(" %")
        self.threshold.setValue(50)
        self.threshold.setToolTip(translate(
            "ResultBar", "Results whose top label is below this confidence are marked: "
            "check those by eye before trusting them"))
        self.threshold.valueChanged.connect(lambda v: self.threshold_changed.emit(v / 100.0))
        row.addWidget(self.threshold)
        self.not_sure = QCheckBox(translate("ResultBar", "Not sure"))
        self.not_sure.setToolTip(translate(
            "ResultBar", "Below the mark, say 'not sure' instead of naming a class when the top "
            "probability is below the mark: for images that may show none "
            "of your classes. Trained runs calibrate their probabilities "
            "on the validation images, so the mark means what it says."))
        self.not_sure.toggled.connect(self.not_sure_changed)
        row.addWidget(self.not_sure)
        self.heat = QCheckBox(translate("ResultBar", "Heat maps"))
        self.heat.setToolTip(translate(
            "ResultBar", "Show where the model looked for its class (Grad-CAM) instead of "
            "the photo; computed in the background"))
        self.heat.toggled.connect(self.heat_changed)
        row.addWidget(self.heat)
        self.backend = QComboBox()
        for name, text in BACKEND_TEXTS:
            self.backend.addItem(translate("ResultBar", text), name)
        self.backend.setToolTip(translate(
            "ResultBar", "What computes the predictions. Fastest picks what was measured "
            "fastest on this kind of processor; the first use of a model prepares its file "
            "(seconds, once). int8 can change a close call: choose full precision where every "
            "answer must match the model's."))
        self.backend.currentIndexChanged.connect(
            lambda _i: self.backend_changed.emit(self.backend.currentData()))
        row.addWidget(self.backend)
        self.tta = QComboBox()
        for name, text in TTA_TEXTS:
            self.tta.addItem(translate("ResultBar", text), name)
        self.tta.setToolTip(translate(
            "ResultBar", "Test-time augmentation: average the calibrated probabilities of the "
            "image and its mirror (2 views), or of those and 5 crops (7 views): often a little "
            "more accurate, 2x or 7x slower. The first use fits its temperature on the "
            "validation images (seconds)."))
        self.tta.currentIndexChanged.connect(
            lambda _i: self.tta_changed.emit(self.tta.currentData()))
        row.addWidget(self.tta)
        export = QToolButton()
        export.setText(translate("ResultBar", "Export"))
        export.setToolTip(translate(
            "ResultBar", "Save all results as CSV (one row per image) or JSON (full top-k)"))
        export.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(export)
        for text, suffix in (("CSV…", "csv"), ("JSON…", "json")):
            menu.addAction(text, lambda s=suffix: self.export_requested.emit(s))
        export.setMenu(menu)
        self.export_button = export
        row.addWidget(export)
        clear = self.clear_button = QPushButton(translate("ResultBar", "Clear"))
        clear.clicked.connect(self.clear_requested)
        row.addWidget(clear)
        self._counts = (0, 0, 0, False)
        self.show_counts(0, 0, 0)

    def set_backend(self, backend: str) -> None:
        """Show `backend` as chosen (no backend_changed signal: it is what is in use)."""
        index = self.backend.findData(backend)
        blocked = self.backend.blockSignals(True)
        self.backend.setCurrentIndex(max(0, index))
        self.backend.blockSignals(blocked)

    def show_counts(self, ok: int, low: int, failed: int, not_sure: bool = False) -> None:
        """'N predicted · M low confidence [· K not predicted]', or 'No results yet.'"""
        self._counts = (ok, low, failed, not_sure)
        if not ok and not failed:
            self.summary.setText(translate("ResultBar", "No results yet."))
            return
        parts = [translate("ResultBar", "{count:,} predicted").format(count=ok),
                 (translate("ResultBar", "{count:,} not sure") if not_sure else
                  translate("ResultBar", "{count:,} low confidence")).format(count=low)]
        if failed:
            parts.append(translate("ResultBar", "{count:,} not predicted").format(count=failed))
        self.summary.setText(" · ".join(parts))

    def retranslate(self) -> None:
        self.show_counts(*self._counts)
