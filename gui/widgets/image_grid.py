"""A thumbnail grid for thousands of images: a list model + QListView in icon mode.

The model holds only paths. `data(DecorationRole)` asks the ThumbnailLoader, which
answers from its cache or queues a decode and later signals `ready(path)`; the model
then refreshes that one row. Qt only asks for rows it paints, so scrolling through a
20,000-image class decodes just what is on screen.
"""
from __future__ import annotations

import os

from PySide6.QtCore import QAbstractListModel, QModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPalette, QPixmap, QPainter
from PySide6.QtWidgets import QAbstractItemView, QListView, QStyle, QWidget

from gui.errors import on_action
from gui.i18n import translate
from gui.widgets.thumbnails import ThumbnailLoader

PATH_ROLE = Qt.ItemDataRole.UserRole + 1


def placeholder_pixmap(size: int, palette: QPalette) -> QPixmap:
    """A neutral square in the palette's colours (dark mode stays dark)."""
    pixmap = QPixmap(size, size)
    pixmap.fill(palette.color(QPalette.ColorRole.AlternateBase))
    painter = QPainter(pixmap)
    painter.setPen(palette.color(QPalette.ColorRole.Mid))
    painter.drawRect(0, 0, size - 1, size - 1)
    painter.end()
    return pixmap


class ThumbnailModel(QAbstractListModel):
    """Rows are image paths; captions are file names; tooltips say path (and problem)."""

    def __init__(self, loader: ThumbnailLoader, parent=None) -> None:
        super().__init__(parent)
        self._loader = loader
        self._paths: list[str] = []
        self._row_of: dict[str, int] = {}
        self._placeholder: QPixmap | None = None
        self._broken_icon: QIcon | None = None
        loader.ready.connect(self._on_ready)

    def set_paths(self, paths: list[str]) -> None:
        self.beginResetModel()
        self._paths = list(paths)
        self._row_of = {p: i for i, p in enumerate(self._paths)}
        self.endResetModel()

    def paths(self) -> list[str]:
        return list(self._paths)

    def set_style(self, placeholder: QPixmap, broken_icon: QIcon) -> None:
        self._placeholder = placeholder
        self._broken_icon = broken_icon

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 (Qt API)
        return 0 if parent.isValid() else len(self._paths)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        path = self._paths[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return os.path.basename(path)
        if role == Qt.ItemDataRole.DecorationRole:
            pixmap = self._loader.get(path)
            if pixmap is not None:
                return pixmap
            if self._loader.failure(path) is not None and self._broken_icon is not None:
                return self._broken_icon
            return self._placeholder
        if role == Qt.ItemDataRole.ToolTipRole:
            problem = self._loader.failure(path)
            if not problem:
                return path
            return translate("ThumbnailModel", "{path}\nCannot show this image: {problem}").format(
                path=path, problem=problem)
        if role == PATH_ROLE:
            return path
        return None

    def _on_ready(self, path: str) -> None:
        row = self._row_of.get(path)
        if row is not None:
            index = self.index(row)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])


class ImageGrid(QListView):
    """Icon-mode grid of image thumbnails. Signal `image_activated(path)` on double-click."""

    image_activated = Signal(str)

    def __init__(self, loader: ThumbnailLoader | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loader = loader or ThumbnailLoader(parent=self)
        size = self.loader.size
        self.grid_model = ThumbnailModel(self.loader, self)
        self.setModel(self.grid_model)
        self.setViewMode(QListView.ViewMode.IconMode)
        # Icon mode turns on dragging items around; a gallery should stay put, and
        # drops must reach the tab (which accepts folders), not this view.
        self.setMovement(QListView.Movement.Static)
        self.setDragEnabled(False)
        self.setAcceptDrops(False)
        self.setDragDropMode(QAbstractItemView.DragDropMode.NoDragDrop)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(True)  # Qt then never measures every row (20k rows stay fast)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(200)
        self.setIconSize(QSize(size, size))
        # Room for a square placeholder plus one caption line, whatever the font size.
        self.setGridSize(QSize(size + 24, size + self.fontMetrics().height() + 24))
        self.setSpacing(8)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self._apply_style()
        self.doubleClicked.connect(on_action(self, self._on_double_clicked,
                                             translate("ClassGallery", "Open an image")))

    def set_paths(self, paths: list[str]) -> None:
        """Show these images; queued decodes for the previous ones are dropped."""
        self.loader.cancel_pending()
        self.grid_model.set_paths(paths)
        self.scrollToTop()

    def paths(self) -> list[str]:
        return self.grid_model.paths()

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().changeEvent(event)
        if event.type() == event.Type.PaletteChange:
            self._apply_style()  # follow a switch between light and dark mode

    def _apply_style(self) -> None:
        size = self.loader.size
        broken = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        self.grid_model.set_style(placeholder_pixmap(size, self.palette()), broken)

    def _on_double_clicked(self, index: QModelIndex) -> None:
        path = index.data(PATH_ROLE)
        if path:
            self.image_activated.emit(path)
