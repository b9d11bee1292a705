"""The window's error line: the last failure in plain words, where its details are, a button
that opens the log folder and one that hides the line. Hidden until something fails; it
never blocks the window (gui.errors decides what it says)."""
from __future__ import annotations

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QWidget

from gui.errors import log_folder, on_action
from gui.i18n import translate
from gui.widgets.banner import Banner

ERROR_COLOUR = "#d9534f"  # the Config tab's inline-error red: reads on light and dark


class ErrorBanner(Banner):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("", translate("ErrorBanner", "Open log folder"), parent)
        self.setObjectName("errorBanner")
        self.setStyleSheet("#errorBanner { background: palette(alternate-base); "
                           f"border: 1px solid {ERROR_COLOUR}; border-radius: 4px; }}")
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.action.setToolTip(translate("ErrorBanner", "The log files hold each failure's "
                                         "details, for a bug report"))
        self.action.clicked.connect(on_action(self.action, self.open_log_folder))
        self.message = ""
        self.count = 0
        self.hide()

    def show_error(self, text: str) -> None:
        """Show `text`; the same failure again counts up instead of flickering."""
        self.count = self.count + 1 if text == self.message and not self.isHidden() else 1
        self.message = text
        self.label.setText(text if self.count == 1 else translate(
            "ErrorBanner", "{message} ({count} times)").format(message=text, count=self.count))
        self.show()

    def clear(self) -> None:
        self.message, self.count = "", 0
        self.label.clear()
        self.hide()

    def text(self) -> str:
        return "" if self.isHidden() else self.label.text()

    def open_log_folder(self) -> None:
        folder = log_folder()
        folder.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))
