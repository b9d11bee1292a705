"""The preview before "Accept all above N %": how many images, which ones (thumbnails, in
the review grid), and the class they will be confirmed as. Nothing happens until Accept."""
from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from gui.i18n import translate
from gui.widgets.review_model import ReviewModel
from gui.widgets.review_page import ReviewGrid


class AcceptPreview(QDialog):
    """`rows`: the proposals rows (dicts) that Accept confirms as `name`."""

    def __init__(self, loader, rows: list[dict], name: str, threshold: float,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(translate("AcceptPreview", "Accept the sure proposals?"))
        self.rows = rows
        layout = QVBoxLayout(self)
        self.text = QLabel(translate(
            "AcceptPreview", "Confirm these {count} images as {name}: each was proposed as "
            "{name} with at least {threshold} confidence. Undo (U) takes them all back at "
            "once.").format(count=len(rows), name=name, threshold=f"{threshold:.0%}"))
        self.text.setWordWrap(True)
        layout.addWidget(self.text)
        self.model = ReviewModel(loader, "proposals", self)
        self.model.set_rows(rows, {})
        self.grid = ReviewGrid(self.model)
        layout.addWidget(self.grid, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(translate("AcceptPreview", "Accept {count}").format(
            count=len(rows)))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(760, 520)
