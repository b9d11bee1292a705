"""DropZone: a dashed area that accepts dropped files, folders and images, and glows
while something droppable is dragged over it.

A tab can `watch()` itself so that a drop anywhere on the tab counts (users aim badly);
the zone still does the highlighting and the parsing of what was dropped.
"""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QEvent, QMimeData, QObject, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPalette, QPen
from PySide6.QtWidgets import QFrame, QLabel, QSizePolicy, QVBoxLayout, QWidget

from gui.i18n import again, translate

_DRAG_EVENTS = (QEvent.Type.DragEnter, QEvent.Type.DragMove, QEvent.Type.DragLeave,
                QEvent.Type.Drop)


def paths_from_mime(mime: QMimeData) -> list[str]:
    """Local file and folder paths carried by a drag (remote URLs are ignored)."""
    paths = []
    for url in mime.urls():
        if url.isLocalFile() and url.toLocalFile():
            paths.append(url.toLocalFile())
    return paths


def image_from_mime(mime: QMimeData) -> QImage | None:
    """Raw image data (dragged from a browser or another app), if any and no files."""
    if mime.hasImage():
        image = QImage(mime.imageData())
        if not image.isNull():
            return image
    return None


class DropZone(QFrame):
    """Signals: paths_dropped(list[str]) for files/folders, image_dropped(QImage) for pixels,
    highlight_changed(bool) while something droppable hovers.

    `accept_paths(paths) -> bool` decides what may be dropped (default: any local path);
    `accept_images` allows raw image data.
    """

    paths_dropped = Signal(list)
    image_dropped = Signal(QImage)
    highlight_changed = Signal(bool)  # lets a host show the drag state elsewhere too

    def __init__(self, text: str | None = None, parent: QWidget | None = None, *,
                 accept_paths: Callable[[list[str]], bool] | None = None,
                 accept_images: bool = True) -> None:
        super().__init__(parent)
        if text is None:
            text = translate("DropZone", "Drop files here")
        self._accept_paths = accept_paths or (lambda paths: bool(paths))
        self._accept_images = accept_images
        self._highlighted = False
        self.setAcceptDrops(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)
        self.setMinimumHeight(64)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 16)
        layout.setSpacing(8)
        self.label = QLabel(text)
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setWordWrap(True)
        layout.addWidget(self.label)
        self._text = text

    @property
    def highlighted(self) -> bool:
        return self._highlighted

    def content_layout(self) -> QVBoxLayout:
        """Where callers add buttons under the text (e.g. 'Choose files…')."""
        return self.layout()

    def set_text(self, text: str) -> None:
        self._text = text
        if not self._highlighted:
            self.label.setText(text)

    def retranslate(self) -> None:
        """The resting text in the current language (the label itself is redone by the walk)."""
        self._text = again(self._text)
        if not self._highlighted:
            self.label.setText(self._text)

    def watch(self, host: QWidget) -> None:
        """Accept drops anywhere on `host` (a parent of this zone) on the zone's behalf."""
        host.setAcceptDrops(True)
        host.installEventFilter(self)
        # Drags over the zone now bubble up to the host: one receiver, no flicker
        # from a leave/enter pair when the cursor crosses the zone's border.
        self.setAcceptDrops(False)

    def set_highlighted(self, on: bool, hint: str = "") -> None:
        changed = on != self._highlighted
        self._highlighted = on
        self.label.setText(hint if on and hint else self._text)
        self.update()
        if changed:
            self.highlight_changed.emit(on)

    def accepts(self, mime: QMimeData) -> bool:
        paths = paths_from_mime(mime)
        if paths:
            return bool(self._accept_paths(paths))
        return self._accept_images and image_from_mime(mime) is not None

    # -- event handling (own events and those of watched hosts) ---------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if event.type() in _DRAG_EVENTS and watched is not self:
            self._handle(event)
            return True
        return super().eventFilter(watched, event)

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        self._handle(event)

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        self._handle(event)

    def dragLeaveEvent(self, event) -> None:  # noqa: N802
        self._handle(event)

    def dropEvent(self, event) -> None:  # noqa: N802
        self._handle(event)

    def _handle(self, event: QEvent) -> None:
        kind = event.type()
        if kind == QEvent.Type.DragLeave:
            self.set_highlighted(False)
            return
        mime = event.mimeData()
        if not self.accepts(mime):
            event.ignore()
            return
        event.acceptProposedAction()
        if kind == QEvent.Type.DragEnter:
            n = len(paths_from_mime(mime))
            if not n:
                hint = translate("DropZone", "Release to add this image")
            elif n == 1:
                hint = translate("DropZone", "Release to add {count} item").format(count=n)
            else:
                hint = translate("DropZone", "Release to add {count} items").format(count=n)
            self.set_highlighted(True, hint)
        elif kind == QEvent.Type.Drop:
            self.set_highlighted(False)
            paths = paths_from_mime(mime)
            if paths:
                self.paths_dropped.emit(paths)
            else:
                image = image_from_mime(mime)
                if image is not None:
                    self.image_dropped.emit(image)

    def paintEvent(self, event) -> None:  # noqa: N802
        super().paintEvent(event)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        rect = QRectF(self.rect()).adjusted(2, 2, -2, -2)
        if self._highlighted:
            fill = QColor(palette.color(QPalette.ColorRole.Highlight))
            fill.setAlpha(40)
            painter.setBrush(fill)
            pen = QPen(palette.color(QPalette.ColorRole.Highlight), 2, Qt.PenStyle.DashLine)
        else:
            painter.setBrush(Qt.BrushStyle.NoBrush)
            pen = QPen(palette.color(QPalette.ColorRole.Mid), 1.5, Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawRoundedRect(rect, 8, 8)
        painter.end()
