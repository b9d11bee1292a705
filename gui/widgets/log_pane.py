"""The training log: collapsed by default, opened by warnings and errors."""
from __future__ import annotations

import time

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QPlainTextEdit, QToolButton, QVBoxLayout, QWidget

from gui.errors import on_action
from gui.i18n import translate

MAX_LINES = 5000  # a week-long run must not grow the widget without bound


class LogPane(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.toggle = QToolButton()
        self.toggle.setCheckable(True)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setAutoRaise(True)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setMaximumBlockCount(MAX_LINES)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setMinimumHeight(120)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.toggle, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.text)
        self._count = 0
        self.toggle.toggled.connect(on_action(self.toggle, self._on_toggle_toggled,
                                              translate("LogPane", "Log")))
        self._on_toggle_toggled(False)

    @property
    def expanded(self) -> bool:
        return self.toggle.isChecked()

    def set_expanded(self, expanded: bool) -> None:
        self.toggle.setChecked(expanded)

    def append(self, message: str, level: str = "info") -> None:
        if level == "warning":
            message = translate("LogPane", "warning: {message}").format(message=message)
        elif level == "error":
            message = translate("LogPane", "ERROR: {message}").format(message=message)
        self.text.appendPlainText(f"{time.strftime('%H:%M:%S')}  {message}")
        self._count += 1
        self._update_title()
        if level in ("warning", "error"):
            self.set_expanded(True)  # problems must not hide in a collapsed pane

    def clear(self) -> None:
        self.text.clear()
        self._count = 0
        self._update_title()

    def plain_text(self) -> str:
        return self.text.toPlainText()

    def _on_toggle_toggled(self, expanded: bool) -> None:
        self.text.setVisible(expanded)
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if expanded else Qt.ArrowType.RightArrow)
        self._update_title()

    def retranslate(self) -> None:
        self._update_title()

    def _update_title(self) -> None:
        if self._count:
            self.toggle.setText(translate("LogPane", "Log ({count} lines)").format(
                count=self._count))
        else:
            self.toggle.setText(translate("LogPane", "Log"))
