"""Confusion matrix heatmap (pyqtgraph ImageItem): rows = true class, columns = predicted.

Colour is the row-normalised share (so a small class's mistakes are as visible as a big
one's); counts are written in the cells while they fit. Class names label both axes,
elided for many classes; hovering a cell shows full names and counts, clicking it emits
`cell_clicked(true_index, predicted_index)`.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFontMetrics, QPalette, QPen
from PySide6.QtWidgets import QGraphicsRectItem, QToolTip, QWidget

from gui.errors import on_action
from gui.i18n import translate

MAX_CELL_TEXT_CLASSES = 15  # beyond this, counts only appear on hover


LEFT_AXIS_PX = 150  # room for the true-class names


def tick_plan(n: int, cell_px: float, label_px: float) -> int:
    """Label every k-th class so labels `label_px` apart never overlap (k >= 1)."""
    if n <= 0 or cell_px <= 0:
        return 1
    return max(1, math.ceil(label_px / cell_px))


def row_normalised(matrix: np.ndarray) -> np.ndarray:
    sums = matrix.sum(axis=1, keepdims=True)
    return np.divide(matrix, sums, out=np.zeros_like(matrix, dtype=float), where=sums > 0)


class ConfusionMatrixPlot(pg.PlotWidget):
    cell_clicked = Signal(int, int)  # true index, predicted index

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.matrix = np.zeros((0, 0), dtype=int)
        self.class_names: list[str] = []
        self.selected: tuple[int, int] | None = None
        self.image = pg.ImageItem()
        self.image.setColorMap(pg.colormap.get("viridis"))
        item = self.getPlotItem()
        item.addItem(self.image)
        self.retranslate()
        item.setMouseEnabled(x=False, y=False)
        item.hideButtons()
        item.setMenuEnabled(False)
        item.getViewBox().invertY(True)  # first class at the top, like a table
        item.getViewBox().setAspectLocked(True)
        item.getAxis("left").setWidth(LEFT_AXIS_PX)
        self._texts: list[pg.TextItem] = []
        self._selection = QGraphicsRectItem()
        self._selection.setVisible(False)
        item.addItem(self._selection)
        self.scene().sigMouseMoved.connect(self._on_scene_mouse_moved)
        self.scene().sigMouseClicked.connect(on_action(
            self, self._on_scene_mouse_clicked,
            translate("EvaluationView", "Show a cell's images")))
        self._apply_palette()

    def retranslate(self) -> None:
        item = self.getPlotItem()
        item.setLabel("left", translate("ConfusionMatrixPlot", "true class"))
        item.setLabel("bottom", translate("ConfusionMatrixPlot", "predicted class"))

    def _apply_palette(self) -> None:
        pal = self.palette()
        fg = pal.color(QPalette.ColorRole.Text)
        self.setBackground(pal.color(QPalette.ColorRole.Base))
        for side in ("left", "bottom"):
            axis = self.getPlotItem().getAxis(side)
            axis.setPen(fg)
            axis.setTextPen(fg)
        self._selection.setPen(QPen(pal.color(QPalette.ColorRole.Highlight), 0.08))

    def set_matrix(self, matrix, class_names: list[str]) -> None:
        self.matrix = np.asarray(matrix, dtype=int).reshape(len(class_names), len(class_names))
        self.class_names = list(class_names)
        n = len(class_names)
        shares = row_normalised(self.matrix)
        # ImageItem indexes image[x, y]: x = predicted column, y = true row.
        self.image.setImage(shares.T, levels=(0.0, 1.0))
        self.image.setRect(QRectF(0, 0, n, n))
        for text in self._texts:
            self.getPlotItem().removeItem(text)
        self._texts.clear()
        if n <= MAX_CELL_TEXT_CLASSES:
            for t in range(n):
                for p in range(n):
                    colour = QColor("black") if shares[t, p] > 0.6 else QColor("white")
                    text = pg.TextItem(str(self.matrix[t, p]), color=colour, anchor=(0.5, 0.5))
                    text.setPos(p + 0.5, t + 0.5)
                    self.getPlotItem().addItem(text)
                    self._texts.append(text)
        self.getPlotItem().getViewBox().setRange(QRectF(0, 0, max(n, 1), max(n, 1)), padding=0.02)
        self.select_cell(None)
        self.update_labels()

    def update_labels(self) -> None:
        """Elide class names to the room a cell has on screen (full names show on hover)."""
        n = len(self.class_names)
        vb = self.getPlotItem().getViewBox()
        side = min(vb.width(), vb.height()) or 400.0  # aspect-locked: cells are square
        cell_px = side / max(n, 1)
        item = self.getPlotItem()
        metrics = QFontMetrics(item.getAxis("bottom").style.get("tickFont") or self.font())
        every_x = tick_plan(n, cell_px, metrics.horizontalAdvance("Wwww…"))
        every_y = tick_plan(n, cell_px, metrics.height())
        width_x = int(every_x * cell_px) - 6
        left = [(i + 0.5, metrics.elidedText(name, Qt.TextElideMode.ElideRight, LEFT_AXIS_PX - 16))
                for i, name in enumerate(self.class_names) if i % every_y == 0]
        bottom = [(i + 0.5, metrics.elidedText(name, Qt.TextElideMode.ElideRight, width_x))
                  for i, name in enumerate(self.class_names) if i % every_x == 0]
        item.getAxis("left").setTicks([left, []])
        item.getAxis("bottom").setTicks([bottom, []])

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        QTimer.singleShot(0, self.update_labels)  # after the view box has its new size

    def cell_at(self, scene_pos: QPointF) -> tuple[int, int] | None:
        """(true, predicted) under a scene position, or None outside the matrix."""
        vb = self.getPlotItem().getViewBox()
        if not vb.sceneBoundingRect().contains(scene_pos):
            return None
        point = vb.mapSceneToView(scene_pos)
        p, t = int(np.floor(point.x())), int(np.floor(point.y()))
        n = len(self.class_names)
        return (t, p) if 0 <= t < n and 0 <= p < n else None

    def cell_text(self, true: int, predicted: int) -> str:
        count = int(self.matrix[true, predicted])
        row = int(self.matrix[true].sum())
        names = {"true": self.class_names[true], "predicted": self.class_names[predicted]}
        if not row:
            return translate("ConfusionMatrixPlot", "true: {true}\npredicted: {predicted}\n"
                             "{count} images").format(count=count, **names)
        text = (translate("ConfusionMatrixPlot", "true: {true}\npredicted: {predicted}\n"
                          "{count} image ({share:.0f} % of {true})") if count == 1 else
                translate("ConfusionMatrixPlot", "true: {true}\npredicted: {predicted}\n"
                          "{count} images ({share:.0f} % of {true})"))
        return text.format(count=count, share=100.0 * count / row, **names)

    def scene_pos_of_cell(self, true: int, predicted: int) -> QPointF:
        """Scene position of a cell's centre (used by tests to click a cell)."""
        vb = self.getPlotItem().getViewBox()
        return vb.mapViewToScene(QPointF(predicted + 0.5, true + 0.5))

    def select_cell(self, cell: tuple[int, int] | None) -> None:
        self.selected = cell
        self._selection.setVisible(cell is not None)
        if cell is not None:
            t, p = cell
            self._selection.setRect(QRectF(p, t, 1, 1))

    def _on_scene_mouse_moved(self, pos: QPointF) -> None:
        cell = self.cell_at(pos)
        if cell is None:
            QToolTip.hideText()
            return
        global_pos = self.mapToGlobal(self.mapFromScene(pos))
        QToolTip.showText(global_pos, self.cell_text(*cell), self)

    def _on_scene_mouse_clicked(self, event) -> None:
        cell = self.cell_at(event.scenePos())
        if cell is not None:
            self.select_cell(cell)
            self.cell_clicked.emit(*cell)
