"""Pick one class of a run: a filter line over the list of its classes (usable with 3
classes or 300). Enter picks the highlighted class, a double-click picks the one clicked."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QLabel, QLineEdit, QListWidget,
                               QVBoxLayout, QWidget)

from gui.errors import on_action
from gui.i18n import translate


class ClassPicker(QDialog):
    def __init__(self, classes: list[str], question: str, current: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("classPicker")
        self.setWindowTitle(translate("ClassPicker", "Choose the right class"))
        label = QLabel(question)
        label.setWordWrap(True)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText(translate("ClassPicker", "Type to filter the classes"))
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._on_filter_text_changed)
        self.list = QListWidget()
        self.list.addItems(classes)
        self.list.itemDoubleClicked.connect(on_action(self.list, self.accept))
        self.list.currentRowChanged.connect(self._update_ok)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok |
                                        QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(self.filter)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.buttons)
        matches = self.list.findItems(current, Qt.MatchFlag.MatchExactly) if current else []
        self.list.setCurrentItem(matches[0] if matches else self.list.item(0))
        self.filter.setFocus()
        self.setMinimumWidth(360)

    def chosen(self) -> str:
        item = self.list.currentItem()
        return item.text() if item is not None and not item.isHidden() else ""

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt API)
        """Up and down move through the list while typing in the filter."""
        if event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down) and self.filter.hasFocus():
            self.list.keyPressEvent(event)
            return
        super().keyPressEvent(event)

    def _on_filter_text_changed(self, text: str) -> None:
        needle = text.strip().casefold()
        first = None
        for row in range(self.list.count()):
            item = self.list.item(row)
            hide = bool(needle) and needle not in item.text().casefold()
            item.setHidden(hide)
            if not hide and first is None:
                first = item
        current = self.list.currentItem()
        if first is not None and (current is None or current.isHidden()):
            self.list.setCurrentItem(first)
        self._update_ok()

    def _update_ok(self, *_args) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(self.chosen()))
