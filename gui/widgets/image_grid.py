"""A thumbnail grid for thousands of images: a list model + QListView in icon mode.

The model holds only paths. `data(DecorationRole)` asks the ThumbnailLoader, which
answers from its cache or queues a decode and later signals `ready(path)`; the model
then refreshes that one row. Qt only asks for rows it paints, so scrolling through a
20,000-image class decodes just what is on screen.
"""
from __future__ import annotations

import os

from PySide6.QtCore import QAbstractListModel, QModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPalette, QPixmap, QPainter
from PySide6.QtWidgets import (QAbstractItemView, QListView, QListWidget, QStyle,
                               QStyledItemDelegate, QStyleOptionViewItem, QWidget)

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


class ThumbnailDelegate(QStyledItemDelegate):
    """Draws every thumbnail alike, whatever its shape: the image fitted into a fixed
    size x size box (centred, never enlarged) and the caption's lines once, under the box.

    Qt's own icon-mode painting places the caption under the icon's actual height, so
    landscape, portrait and square images put their captions at different heights, and a
    cell sized for one shape clips or repeats another's caption; here the layout is fixed.
    """

    PAD = 4

    def __init__(self, size: int, lines: int = 1, width: int | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.size, self.lines = size, lines
        self.width = width or size + 2 * self.PAD

    def cell_size(self, view: QWidget) -> QSize:
        """The grid cell (thumbnail box plus caption) for `view`'s font."""
        line = view.fontMetrics().height()
        return QSize(self.width, self.size + 3 * self.PAD + self.lines * line)

    def sizeHint(self, option, index) -> QSize:  # noqa: N802 (Qt API)
        return self.cell_size(option.widget) if option.widget else QSize(self.width, self.size)

    def paint(self, painter: QPainter, option, index) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        widget = opt.widget
        style = widget.style() if widget else None
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        painter.save()
        if style is not None:  # the selection and hover background only: no text, no icon
            style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, opt, painter, widget)
        box = QRect(opt.rect.x() + (opt.rect.width() - self.size) // 2, opt.rect.y() + self.PAD,
                    self.size, self.size)
        pixmap = thumbnail_pixmap(index.data(Qt.ItemDataRole.DecorationRole), self.size)
        if pixmap is not None and not pixmap.isNull():
            shown = pixmap.size().scaled(box.size(), Qt.AspectRatioMode.KeepAspectRatio) \
                if pixmap.width() > self.size or pixmap.height() > self.size else pixmap.size()
            target = QRect(0, 0, shown.width(), shown.height())
            target.moveCenter(box.center())
            painter.drawPixmap(target, pixmap)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.setPen(opt.palette.color(role))
        painter.setFont(opt.font)
        metrics = opt.fontMetrics
        top = box.bottom() + 1 + self.PAD
        for text in (index.data(Qt.ItemDataRole.DisplayRole) or "").split("\n")[:self.lines]:
            line = QRect(opt.rect.x() + 2, top, opt.rect.width() - 4, metrics.height())
            painter.drawText(line, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                             metrics.elidedText(text, opt.textElideMode, line.width()))
            top += metrics.height()
        if style is not None and opt.state & QStyle.StateFlag.State_HasFocus:
            style.drawPrimitive(QStyle.PrimitiveElement.PE_FrameFocusRect, opt, painter, widget)
        painter.restore()


def thumbnail_pixmap(decoration, size: int) -> QPixmap | None:
    """A model's decoration (QPixmap or QIcon) as a pixmap no larger than size x size."""
    if isinstance(decoration, QIcon):
        return None if decoration.isNull() else decoration.pixmap(QSize(size, size))
    return decoration if isinstance(decoration, QPixmap) else None


def thumbnail_strip(size: int, lines: int, width: int) -> QListWidget:
    """One row of thumbnails, each with `lines` caption lines (the evaluation's cell images)."""
    strip = QListWidget()
    strip.setViewMode(QListView.ViewMode.IconMode)
    strip.setFlow(QListView.Flow.LeftToRight)
    strip.setWrapping(False)
    strip.setMovement(QListView.Movement.Static)
    strip.setIconSize(QSize(size, size))
    strip.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # file names differ at their ends
    delegate = ThumbnailDelegate(size, lines=lines, width=width, parent=strip)
    strip.setItemDelegate(delegate)
    cell = delegate.cell_size(strip)
    strip.setGridSize(cell)
    bar = strip.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
    strip.setFixedHeight(cell.height() + bar + 2 * strip.frameWidth() + 4)
    return strip


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
        # Every cell holds a square box and one caption line, whatever the image's shape.
        self.thumbnail_delegate = ThumbnailDelegate(size, lines=1, width=size + 24, parent=self)
        self.setItemDelegate(self.thumbnail_delegate)
        self.setSpacing(8)
        self.setGridSize(self.thumbnail_delegate.cell_size(self) + QSize(8, 8))
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
        elif event.type() == event.Type.FontChange:  # the caption line's height changed
            self.setGridSize(self.thumbnail_delegate.cell_size(self) + QSize(8, 8))

    def _apply_style(self) -> None:
        size = self.loader.size
        broken = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        self.grid_model.set_style(placeholder_pixmap(size, self.palette()), broken)

    def _on_double_clicked(self, index: QModelIndex) -> None:
        path = index.data(PATH_ROLE)
        if path:
            self.image_activated.emit(path)
