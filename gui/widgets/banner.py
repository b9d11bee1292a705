"""A one-line notice with one button: how an empty or blocked screen says what to do next."""
from __future__ import annotations

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget


class Banner(QFrame):
    """'What is missing' + the one button that fixes it. Colours follow the palette."""

    def __init__(self, text: str, action_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        # AlternateBase/Highlight come from the palette, so dark mode stays dark.
        self.setStyleSheet("#banner { background: palette(alternate-base); "
                           "border: 1px solid palette(highlight); border-radius: 4px; }")
        self.label = QLabel(text)
        self.label.setWordWrap(True)
        self.action = QPushButton(action_text)
        row = QHBoxLayout(self)
        row.setContentsMargins(12, 8, 12, 8)
        row.addWidget(self.label, 1)
        row.addWidget(self.action)

    def set_text(self, text: str, action_text: str | None = None) -> None:
        self.label.setText(text)
        if action_text is not None:
            self.action.setText(action_text)
