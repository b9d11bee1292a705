"""Start / Pause / Resume / Stop, the one-line progress text and the progress bar.

The bar's text is gui.format.share_text, the same rounding as the progress line, so the bar
and the line never show two numbers."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QProgressBar, QPushButton, QStyle,
                               QVBoxLayout, QWidget)

from gui import format as fmt
from gui.i18n import translate


class RunControls(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        icon = self.style().standardIcon
        self.start_button = QPushButton(icon(QStyle.StandardPixmap.SP_MediaPlay),
                                        translate("RunControls", "Start training"))
        self.pause_button = QPushButton(icon(QStyle.StandardPixmap.SP_MediaPause),
                                        translate("RunControls", "Pause"))
        self.resume_button = QPushButton(icon(QStyle.StandardPixmap.SP_MediaPlay),
                                         translate("RunControls", "Resume"))
        self.stop_button = QPushButton(icon(QStyle.StandardPixmap.SP_MediaStop),
                                       translate("RunControls", "Stop"))
        self.stop_button.setToolTip(translate("RunControls", "Stop after the current step; the "
                                              "model so far is saved."))
        self.stats = QLabel(translate("RunControls", "Ready."))
        self.stats.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.progress = QProgressBar()
        self.progress.setFormat(translate("RunControls", "%p %"))
        row = QHBoxLayout()
        for b in (self.start_button, self.pause_button, self.resume_button, self.stop_button):
            row.addWidget(b)
        row.addWidget(self.stats, 1)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(row)
        column.addWidget(self.progress)

    def set_phase(self, phase: str, can_start: bool) -> None:
        """phase: "idle" | "running" | "paused" | "stopping"."""
        self.start_button.setEnabled(phase == "idle" and can_start)
        self.pause_button.setVisible(phase != "paused")
        self.pause_button.setEnabled(phase == "running")
        self.resume_button.setVisible(phase == "paused")
        self.resume_button.setEnabled(phase == "paused")
        self.stop_button.setEnabled(phase in ("running", "paused"))

    def set_busy(self) -> None:
        """An indeterminate bar: work whose length is not known yet (the text says what)."""
        self.progress.setRange(0, 0)

    def is_busy(self) -> bool:
        return self.progress.maximum() == 0

    def set_steps(self, done: int, total: int) -> None:
        """done of total (steps, images, ...): the bar and its 'NN %' text."""
        total = max(1, int(total))
        done = max(0, min(int(done), total))
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.progress.setFormat(fmt.share_text(done, total))

    def share(self) -> int:
        """The whole per cent the bar shows (0 while it is indeterminate)."""
        return fmt.share(self.progress.value(), self.progress.maximum())
