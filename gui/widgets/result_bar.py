"""The Prediction tab's bar above the results: counts, how many labels to show, the
confidence below which results are marked, export and clear."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDoubleSpinBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QWidget


class ResultBar(QWidget):
    top_k_changed = Signal(int)
    threshold_changed = Signal(float)  # a share, 0..1
    export_requested = Signal(str)  # "csv" | "json"
    clear_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(8)
        self.summary = QLabel()
        row.addWidget(self.summary, 1)
        row.addWidget(QLabel("Show top"))
        self.top_k = QSpinBox()
        self.top_k.setRange(1, 10)
        self.top_k.setValue(3)
        self.top_k.setToolTip("How many labels to show per image")
        self.top_k.valueChanged.connect(self.top_k_changed)
        row.addWidget(self.top_k)
        row.addWidget(QLabel("Mark below"))
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0, 100)
        self.threshold.setDecimals(0)
        self.threshold.setSingleStep(5)
        self.threshold.setSuffix(" %")
        self.threshold.setValue(50)
        self.threshold.setToolTip("Results whose top label is below this confidence are marked: "
                                  "check those by eye before trusting them")
        self.threshold.valueChanged.connect(lambda v: self.threshold_changed.emit(v / 100.0))
        row.addWidget(self.threshold)
        for text, suffix in (("Export CSV…", "csv"), ("Export JSON…", "json")):
            button = QPushButton(text)
            button.clicked.connect(lambda _=False, s=suffix: self.export_requested.emit(s))
            row.addWidget(button)
        clear = QPushButton("Clear")
        clear.clicked.connect(self.clear_requested)
        row.addWidget(clear)
        self.show_counts(0, 0, 0)

    def show_counts(self, ok: int, low: int, failed: int) -> None:
        """'N predicted · M low confidence [· K not predicted]', or 'No results yet.'"""
        if not ok and not failed:
            self.summary.setText("No results yet.")
            return
        parts = [f"{ok:,} predicted", f"{low:,} low confidence"]
        if failed:
            parts.append(f"{failed:,} not predicted")
        self.summary.setText(" · ".join(parts))
