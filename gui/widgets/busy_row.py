"""BusyRow: what is happening, how far along, and a Cancel button, in one quiet line.

Shown the moment work starts (the 'progress within 200 ms' rule) and hidden when it ends.
With total 0 the bar is indeterminate: better an honest 'working' than a fake percentage.
"""
from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from gui.errors import on_action
from gui.i18n import translate


class BusyRow(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(320)
        self.bar.setTextVisible(True)
        self.cancel_button = QPushButton(translate("BusyRow", "Cancel"))
        self.cancel_button.clicked.connect(on_action(self.cancel_button, self._on_cancel_clicked))
        layout.addWidget(self.label, 1)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self.setVisible(False)

    def start(self, text: str) -> None:
        self.label.setText(text)
        self.bar.setRange(0, 0)
        self.cancel_button.setEnabled(True)
        self.setVisible(True)

    def progress(self, done: int, total: int, text: str = "") -> None:
        if text and self.cancel_button.isEnabled():
            self.label.setText(text)
        if total > 0:
            self.bar.setRange(0, total)
            self.bar.setValue(min(done, total))
        else:
            self.bar.setRange(0, 0)

    def stop(self) -> None:
        self.setVisible(False)

    def _on_cancel_clicked(self) -> None:
        # Work stops at its next checkpoint, not instantly: say so, and don't invite a 2nd click.
        self.cancel_button.setEnabled(False)
        self.label.setText(translate("BusyRow", "Stopping…"))
