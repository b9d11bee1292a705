"""BusyRow: what is happening, how far along, and a Cancel button, in one quiet line.

Shown the moment work starts (the 'progress within 200 ms' rule) and hidden when it ends.
With total 0 the bar is indeterminate: better an honest 'working' than a fake percentage.
The text says what runs; a template with {done} and {total} (gui/progress_text.py) gets the
counts of every progress() filled in, so the words stay while the numbers move.
"""
from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from gui import format as fmt
from gui.errors import on_action
from gui.i18n import translate
from gui.progress_text import fill


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
        self._text = ""
        self.active = False  # between start() and stop()
        self.setVisible(False)

    def start(self, text: str) -> None:
        """Work begins: `text` (words, or a template) and a moving bar until a total is known."""
        self._text = text
        self.label.setText(fill(text))
        self.bar.setRange(0, 0)
        self.cancel_button.setEnabled(True)
        self.active = True
        self.setVisible(True)

    def set_text(self, text: str) -> None:
        """The same work enters a new stage: new words; the bar moves until its total is known.
        A 'Stopping…' after Cancel stays."""
        self._text = text
        self.bar.setRange(0, 0)
        if self.cancel_button.isEnabled():
            self.label.setText(fill(text))

    def progress(self, done: int, total: int, text: str = "") -> None:
        """done of total (total 0: not known); `text` replaces the words when given."""
        if text:
            self._text = text
        if total > 0:
            done = max(0, min(done, total))
            self.bar.setRange(0, total)
            self.bar.setValue(done)
            self.bar.setFormat(fmt.share_text(done, total))
        else:
            self.bar.setRange(0, 0)
        if self.cancel_button.isEnabled():
            self.label.setText(fill(self._text, done, total))

    def stop(self) -> None:
        self.active = False
        self.setVisible(False)

    def _on_cancel_clicked(self) -> None:
        # Work stops at its next checkpoint, not instantly: say so, and don't invite a 2nd click.
        self.cancel_button.setEnabled(False)
        self.label.setText(translate("BusyRow", "Stopping…"))
