"""A notice with at most one button and a close button: how an empty or blocked screen says
what to do next, and where a tab reports the result of an action.

Every banner can be dismissed (✕). Two kinds of text:
- a result, `show_message(text, source)`: always shown; `source` names the action it is
  about, and `clear(source)` takes it away when that action's next result comes in, so an
  old failure never stays above a later success;
- a standing state, `show_state(text)` (what blocks a run): a text the user closed stays
  hidden until it changes, so it does not pop up again at every settings change.
"""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget

from gui.errors import on_action
from gui.i18n import translate


class Banner(QFrame):
    """'What is missing' + the one button that fixes it. Colours follow the palette."""

    dismissed = Signal()

    def __init__(self, text: str = "", action_text: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        # AlternateBase/Highlight come from the palette, so dark mode stays dark.
        self.setStyleSheet("#banner { background: palette(alternate-base); "
                           "border: 1px solid palette(highlight); border-radius: 4px; }")
        self.label = QLabel(text)
        self.label.setWordWrap(True)
        self.action = QPushButton(action_text)
        self.action.setVisible(bool(action_text))
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setAutoRaise(True)
        self.close_button.setToolTip(translate("Banner", "Hide this message"))
        self.close_button.clicked.connect(on_action(
            self.close_button, self.dismiss, translate("Banner", "Hide this message")))
        row = QHBoxLayout(self)
        row.setContentsMargins(12, 8, 8, 8)
        row.addWidget(self.label, 1)
        row.addWidget(self.action)
        row.addWidget(self.close_button)
        self.source = ""  # the action the text is about ("" = none in particular)
        self._dismissed = ""  # the text the user closed

    def set_text(self, text: str, action_text: str | None = None) -> None:
        self.label.setText(text)
        if action_text is not None:
            self.action.setText(action_text)

    def text(self) -> str:
        return self.label.text()

    def show_message(self, text: str, source: str = "") -> None:
        """Show the result `text` of action `source` (hide the banner when it is empty)."""
        self.label.setText(text)
        self.source = source
        self._dismissed = ""
        self.setVisible(bool(text))

    def show_state(self, text: str) -> None:
        """Show the standing state `text` ("" hides), unless the user closed this very text."""
        dismissed = self._dismissed if text == self._dismissed else ""
        self.show_message(text)
        self._dismissed = dismissed
        self.setVisible(bool(text) and not dismissed)

    def clear(self, source: str | None = None) -> None:
        """Take the text away: any text, or only one about `source`."""
        if source is None or source == self.source:
            self.show_message("")

    def dismiss(self) -> None:
        """The close button: hide until another text is shown."""
        self._dismissed = self.label.text()
        self.hide()
        self.dismissed.emit()
