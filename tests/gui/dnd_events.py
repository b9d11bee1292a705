"""Real drag-and-drop events for tests: QMimeData with local file URLs, sent with sendEvent."""
from __future__ import annotations

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

_ARGS = (Qt.DropAction.CopyAction,)
_BUTTONS = (Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)


def url_mime(*paths) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return mime


def drag_enter(widget, mime: QMimeData, pos: tuple[int, int] = (10, 10)) -> QDragEnterEvent:
    # QDragEnterEvent takes a QPoint (QDropEvent a QPointF) in PySide6 6.7-6.11
    event = QDragEnterEvent(QPoint(*pos), *_ARGS, mime, *_BUTTONS)
    QApplication.sendEvent(widget, event)
    return event


def drop(widget, mime: QMimeData, pos: tuple[int, int] = (10, 10)) -> QDropEvent:
    event = QDropEvent(QPointF(*pos), *_ARGS, mime, *_BUTTONS)
    QApplication.sendEvent(widget, event)
    return event


def drop_paths(widget, paths, pos: tuple[int, int] = (30, 30)) -> bool:
    """A drag-enter, then (if accepted) a drop of `paths`; returns whether the enter was accepted."""
    mime = url_mime(*paths)
    accepted = drag_enter(widget, mime, pos).isAccepted()
    if accepted:
        drop(widget, mime, pos)
    return accepted
