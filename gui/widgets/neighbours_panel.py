"""A closable strip of the images nearest to one image: thumbnail, file name, label and
similarity, nearest first. Clicking one emits `image_chosen(path)`.

It knows nothing of where it sits or where the neighbours come from: the Dataset tab's
"More like this", the Prediction tab's "Why? Nearest training images", the sorting view and
the map all fill it through show_for(). While they compute, its busy row says so (with
Cancel); a plain note (images gone, nothing found) shows above the strip.
"""
from __future__ import annotations

import os

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QIcon
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QListWidgetItem, QToolButton,
                               QVBoxLayout, QWidget)

from gui.errors import on_action
from gui.i18n import translate
from gui.widgets.busy_row import BusyRow
from gui.widgets.image_grid import PATH_ROLE, placeholder_pixmap, thumbnail_strip
from gui.widgets.thumbnails import ThumbnailLoader

THUMB = 88  # the strip's thumbnails (the query's too)


def similarity_text(similarity: float) -> str:
    """Cosine similarity as a share: 0.934 -> '93 % alike'."""
    return translate("NeighboursPanel", "{share} % alike").format(
        share=f"{max(0.0, similarity) * 100:.0f}")


class NeighboursPanel(QFrame):
    """Signals: image_chosen(path) when the user clicks (or activates) a neighbour,
    closed() when the user closes the panel."""

    image_chosen = Signal(str)
    closed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.loader = ThumbnailLoader(size=THUMB, parent=self)
        self.loader.ready.connect(self._on_thumbnail)
        self.query = ""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(8)
        bar = QHBoxLayout()
        self.title = QLabel()
        bold = QFont(self.title.font())
        bold.setBold(True)
        self.title.setFont(bold)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setAutoRaise(True)
        self.close_button.setToolTip(translate("NeighboursPanel", "Close (Esc)"))
        self.close_button.clicked.connect(on_action(
            self.close_button, self.close_panel, translate("NeighboursPanel", "Close")))
        bar.addWidget(self.title, 1)
        bar.addWidget(self.close_button)
        layout.addLayout(bar)
        self.busy = BusyRow(self)
        layout.addWidget(self.busy)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.note.setVisible(False)
        layout.addWidget(self.note)
        row = QHBoxLayout()
        row.setSpacing(8)
        self.query_image = QLabel()
        self.query_image.setFixedSize(THUMB + 8, THUMB + 8)
        self.query_image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.query_image.setFrameShape(QFrame.Shape.Box)
        self.query_image.setVisible(False)
        self.strip = thumbnail_strip(THUMB, lines=3, width=THUMB + 56)  # name, label, alike
        self.strip.setToolTip(translate("NeighboursPanel", "Click an image to go to it"))
        self.strip.itemClicked.connect(on_action(self.strip, self._on_item, translate(
            "NeighboursPanel", "Go to a similar image")))
        self.strip.itemActivated.connect(on_action(self.strip, self._on_item, translate(
            "NeighboursPanel", "Go to a similar image")))
        row.addWidget(self.query_image, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.strip, 1)
        layout.addLayout(row)
        self.setVisible(False)

    # -- what the views call --------------------------------------------------------
    def show_for(self, path_or_query_label: str, neighbours: list, *, title: str = "",
                 note: str = "") -> None:
        """Show `neighbours` [(path, similarity, label)], nearest first, for the image at
        `path_or_query_label` (a file: its thumbnail shows beside them) or under that label.
        `title` replaces the heading, `note` (a plain sentence) shows above the strip."""
        self.query = str(path_or_query_label)
        is_file = os.path.isfile(self.query)
        name = os.path.basename(self.query) if is_file else self.query
        self.title.setText(title or translate("NeighboursPanel", "Most like {name}").format(
            name=name))
        self.busy.stop()
        self.loader.cancel_pending()
        self.strip.clear()
        for path, similarity, label in neighbours:
            item = QListWidgetItem("\n".join([os.path.basename(path), str(label or "–"),
                                              similarity_text(similarity)]))
            item.setData(PATH_ROLE, path)
            item.setToolTip(f"{path}\n{label}" if label else path)
            self._set_icon(item)
            self.strip.addItem(item)
        self.query_image.setVisible(is_file)
        if is_file:
            self.query_image.setToolTip(translate("NeighboursPanel", "The image compared: "
                                                  "{path}").format(path=self.query))
            self._show_query()
        if not neighbours and not note:
            note = translate("NeighboursPanel", "No other image to compare with.")
        self.show_note(note)
        self.strip.setVisible(bool(neighbours))
        self.setVisible(True)

    def start(self, title: str, text: str) -> None:
        """Work towards new neighbours begins: the heading, the busy row's words, no strip."""
        self.title.setText(title)
        self.strip.clear()
        self.strip.setVisible(False)
        self.query_image.setVisible(False)
        self.show_note("")
        self.busy.start(text)
        self.setVisible(True)

    def show_message(self, title: str, text: str) -> None:
        """Only a heading and a plain sentence (nothing to compare yet, or nothing found)."""
        self.start(title, "")
        self.busy.stop()
        self.show_note(text)

    def show_note(self, text: str) -> None:
        self.note.setText(text)
        self.note.setVisible(bool(text))

    def paths(self) -> list[str]:
        """The neighbours shown, nearest first."""
        return [self.strip.item(i).data(PATH_ROLE) for i in range(self.strip.count())]

    def labels(self) -> list[str]:
        return [self.strip.item(i).text().split("\n")[1] for i in range(self.strip.count())]

    def close_panel(self) -> None:
        self.busy.stop()
        self.setVisible(False)
        self.closed.emit()

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt API)
        if event.key() == Qt.Key.Key_Escape:
            self.close_panel()
            return
        super().keyPressEvent(event)

    def shutdown(self) -> None:
        self.loader.shutdown()

    # -- internals -------------------------------------------------------------------
    def _on_item(self, item: QListWidgetItem) -> None:
        path = item.data(PATH_ROLE)
        if path:
            self.image_chosen.emit(path)

    def _set_icon(self, item: QListWidgetItem) -> None:
        pixmap = self.loader.get(item.data(PATH_ROLE))
        item.setIcon(QIcon(pixmap if pixmap is not None
                           else placeholder_pixmap(THUMB, self.palette())))

    def _show_query(self) -> None:
        pixmap = self.loader.get(self.query)
        self.query_image.setPixmap(pixmap if pixmap is not None
                                   else placeholder_pixmap(THUMB, self.palette()))

    def _on_thumbnail(self, path: str) -> None:
        if path == self.query:
            self._show_query()
        for i in range(self.strip.count()):
            item = self.strip.item(i)
            if item.data(PATH_ROLE) == path:
                self._set_icon(item)
