"""The dataset map's parts: class colours, which dots a rectangle or lasso holds, the plot's
mouse handling (drag selects, right-drag pans, the wheel zooms) and the hover card.

Everything here works on whole numpy arrays: 20,000 dots never become 20,000 Python
objects, neither when a selection is made nor when the mouse moves.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor, QPainterPath
from PySide6.QtWidgets import QFrame, QGraphicsPathItem, QLabel, QVBoxLayout, QWidget

# 20 colours told apart at a glance on a light or dark background (Sasha Trubetskoy's list
# without its grey, which means "no label" here, and its beige, which vanishes on white);
# classes beyond 20 take evenly spaced hues.
PALETTE = ("#4363d8", "#e6194b", "#3cb44b", "#f58231", "#911eb4", "#42d4f4", "#ffe119",
           "#f032e6", "#bfef45", "#469990", "#9a6324", "#000075", "#800000", "#808000",
           "#fabed4", "#dcbeff", "#aaffc3", "#ffd8b1", "#000000", "#556b2f")
UNLABELLED = "#9e9e9e"
EXCLUDED = "#d0d0d0"


def class_colour(i: int, count: int) -> QColor:
    """The colour of class `i` of `count`."""
    if count <= len(PALETTE):
        return QColor(PALETTE[i])
    return pg.intColor(i, hues=count, values=1, maxValue=220, minValue=150)


def inside_polygon(xy: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Which rows of `xy` [N, 2] lie inside `polygon` [M, 2] (closed implicitly; even-odd
    rule, so a lasso that crosses itself works as it is drawn)."""
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    poly = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
    inside = np.zeros(len(xy), dtype=bool)
    if len(poly) < 3 or not len(xy):
        return inside
    x, y = xy[:, 0], xy[:, 1]
    x0, y0 = poly[:, 0], poly[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    for ax, ay, bx, by in zip(x0, y0, x1, y1):  # one pass per edge, every point at once
        crosses = (ay > y) != (by > y)
        if not crosses.any():
            continue
        at = ax + (y - ay) * (bx - ax) / np.where(by == ay, 1e-300, by - ay)
        inside ^= crosses & (x < at)
    return inside


def inside_rect(xy: np.ndarray, a: QPointF, b: QPointF) -> np.ndarray:
    """Which rows of `xy` lie in the rectangle with corners `a` and `b`."""
    x0, x1 = sorted((a.x(), b.x()))
    y0, y1 = sorted((a.y(), b.y()))
    return (xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1)


def move_points(item: pg.ScatterPlotItem, xy: np.ndarray) -> None:
    """New positions for the same dots, without rebuilding their styles (setData with
    20,000 brushes takes ~60 ms; this takes a few)."""
    if len(item.data) != len(xy):
        item.setData(pos=xy)
        return
    item.data["x"] = xy[:, 0]
    item.data["y"] = xy[:, 1]
    item.prepareGeometryChange()
    item.informViewBoundsChanged()
    item.bounds = [None, None]
    item.invalidate()


class Dots(pg.ScatterPlotItem):
    """A scatter that leaves clicks to the view: pyqtgraph's own click handling would build
    a Python object for every dot under the mouse and keep the click from the view."""

    def mouseClickEvent(self, ev) -> None:  # noqa: N802 (pyqtgraph API)
        ev.ignore()


class MapViewBox(pg.ViewBox):
    """Left drag draws a selection (a rectangle; a lasso when `lasso` is on or Shift is
    held); right or middle drag, or Ctrl+left drag, pans; the wheel zooms; a click picks.

    Signals: polygon_drawn(np.ndarray [M, 2] in map coordinates, a closed outline),
    clicked_at(QPointF in map coordinates)."""

    polygon_drawn = Signal(object)
    clicked_at = Signal(object)

    def __init__(self) -> None:
        super().__init__(enableMenu=False)
        self.lasso = False
        self._outline: list[QPointF] = []
        self._rect_mode = True
        self.rubber = QGraphicsPathItem()
        pen = pg.mkPen(QColor(30, 120, 220), width=1.5, style=Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        self.rubber.setPen(pen)
        self.rubber.setBrush(QColor(30, 120, 220, 40))
        self.rubber.setZValue(1e6)
        self.rubber.hide()
        self.addItem(self.rubber, ignoreBounds=True)

    def mouseClickEvent(self, ev) -> None:  # noqa: N802 (pyqtgraph API)
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self.clicked_at.emit(self.mapToView(ev.pos()))
        else:
            ev.ignore()

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802 (pyqtgraph API)
        ctrl = bool(ev.modifiers() & Qt.KeyboardModifier.ControlModifier)
        if ev.button() != Qt.MouseButton.LeftButton or ctrl:
            ev.accept()  # pan: the view follows the mouse
            delta = self.mapToView(ev.lastPos()) - self.mapToView(ev.pos())
            self.translateBy(x=delta.x(), y=delta.y())
            return
        ev.accept()
        here = self.mapToView(ev.pos())
        if ev.isStart():
            shift = bool(ev.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            self._rect_mode = not (self.lasso or shift)
            self._outline = [self.mapToView(ev.buttonDownPos())]
        self._outline.append(here)
        self._draw_outline()
        if ev.isFinish():
            self.rubber.hide()
            self.polygon_drawn.emit(self.outline_points())
            self._outline = []

    def outline_points(self) -> np.ndarray:
        """The selection outline drawn so far, [M, 2] (a rectangle's four corners)."""
        pts = self._outline
        if self._rect_mode and pts:
            a, b = pts[0], pts[-1]
            pts = [a, QPointF(b.x(), a.y()), b, QPointF(a.x(), b.y())]
        return np.array([(p.x(), p.y()) for p in pts], dtype=np.float64).reshape(-1, 2)

    def _draw_outline(self) -> None:
        pts = self.outline_points()
        path = QPainterPath()
        if len(pts):
            path.moveTo(*pts[0])
            for x, y in pts[1:]:
                path.lineTo(x, y)
            path.closeSubpath()
        self.rubber.setPath(path)
        self.rubber.show()


class HoverCard(QFrame):
    """The thumbnail, file name and label of the dot under the mouse, floating beside it."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        self.image = QLabel()
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.name = QLabel()
        self.label = QLabel()
        for widget in (self.image, self.name, self.label):
            layout.addWidget(widget)
        self.path = ""
        self.hide()
