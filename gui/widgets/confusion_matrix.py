"""Confusion matrix heatmap (pyqtgraph ImageItem): rows = true class, columns = predicted.

Colour is the row-normalised share (so a small class's mistakes are as visible as a big
one's); counts are written in the cells while they fit. Class names label both axes,
elided for many classes; hovering a cell shows full names and counts, clicking it emits
`cell_clicked(true_index, predicted_index)`.

With many classes (more than MAX_CELL_TEXT_CLASSES) the whole matrix shows tiny cells, so
the view becomes zoomable: the mouse wheel zooms, dragging pans, `fit()` shows it all
again and `zoom_to_cell()` centres one cell at a readable size. Axis labels and counts
follow the zoom: labels for the rows and columns on screen, counts once cells are big
enough to hold them.
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

MAX_CELL_TEXT_CLASSES = 15  # beyond this, counts only appear on hover or when zoomed in
READABLE_CELL_PX = 24  # zooming to a cell makes cells at least this big on screen
COUNT_TEXT_PX = 22  # a zoomed-in matrix writes counts in cells at least this big
MAX_COUNT_TEXTS = 400  # ...while no more cells with images than this are on screen
LEFT_AXIS_PX = 150  # room for the true-class names (more when the widget has it)


def tick_plan(n: int, cell_px: float, label_px: float) -> int:
    """Label every k-th class so labels `label_px` apart never overlap (k >= 1)."""
    if n <= 0 or cell_px <= 0:
        return 1
    return max(1, math.ceil(label_px / cell_px))


def _window_start(cell: int, span: float, n: int) -> float:
    """Where a window `span` cells long starts to centre `cell`, kept inside 0..n."""
    if span >= n:
        return (n - span) / 2
    return min(max(cell + 0.5 - span / 2, 0.0), n - span)


def row_normalised(matrix: np.ndarray) -> np.ndarray:
    sums = matrix.sum(axis=1, keepdims=True)
    return np.divide(matrix, sums, out=np.zeros_like(matrix, dtype=float), where=sums > 0)


class ConfusionMatrixPlot(pg.PlotWidget):
    cell_clicked = Signal(int, int)  # true index, predicted index

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.matrix = np.zeros((0, 0), dtype=int)
        self._shares = np.zeros((0, 0))
        self._labels: dict[str, dict[float, str]] = {"left": {}, "bottom": {}}
        self.class_names: list[str] = []
        self.selected: tuple[int, int] | None = None
        self.image = pg.ImageItem()
        self.image.setColorMap(pg.colormap.get("viridis"))
        item = self.getPlotItem()
        item.addItem(self.image)
        self.retranslate()
        item.setMouseEnabled(x=False, y=False)  # zoomable only with many classes (set_matrix)
        item.hideButtons()
        item.setMenuEnabled(False)
        item.getViewBox().invertY(True)  # first class at the top, like a table
        item.getViewBox().setAspectLocked(True)
        item.getAxis("left").setWidth(LEFT_AXIS_PX)
        self._texts: list[pg.TextItem] = []
        self.zoomable = False
        self._selection = QGraphicsRectItem()
        self._selection.setVisible(False)
        item.addItem(self._selection)
        # Labels and counts follow the zoom, redone once per burst of range changes.
        self._relayout = QTimer(self, singleShot=True, interval=15)
        self._relayout.timeout.connect(self._on_view_changed)
        item.getViewBox().sigRangeChanged.connect(lambda *_: self._relayout.start())
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
        pen = QPen(pal.color(QPalette.ColorRole.Highlight), 0.08)
        if self.zoomable:  # tiny cells: a frame 2 screen pixels wide at any zoom
            pen = QPen(pal.color(QPalette.ColorRole.Highlight), 2)
            pen.setCosmetic(True)
        self._selection.setPen(pen)

    def set_matrix(self, matrix, class_names: list[str]) -> None:
        self.matrix = np.asarray(matrix, dtype=int).reshape(len(class_names), len(class_names))
        self.class_names = list(class_names)
        n = len(class_names)
        shares = row_normalised(self.matrix)
        # ImageItem indexes image[x, y]: x = predicted column, y = true row.
        self.image.setImage(shares.T, levels=(0.0, 1.0))
        self.image.setRect(QRectF(0, 0, n, n))
        self._shares = shares
        self.zoomable = n > MAX_CELL_TEXT_CLASSES
        vb = self.getPlotItem().getViewBox()
        vb.setMouseEnabled(x=self.zoomable, y=self.zoomable)
        # Zoomable: never in past a few cells, nor out or away much beyond the whole matrix.
        limits = dict(xMin=-n, xMax=2 * n, yMin=-n, yMax=2 * n, minXRange=2, minYRange=2,
                      maxXRange=3 * n, maxYRange=3 * n)
        vb.setLimits(**{k: (v if self.zoomable else None) for k, v in limits.items()})
        self._apply_palette()
        self._show_counts(range(n), range(n) if n <= MAX_CELL_TEXT_CLASSES else range(0))
        self.fit()
        self.select_cell(None)
        self.update_labels()

    def _show_counts(self, rows, cols) -> None:
        """Write the counts of these cells (only those, every other count is removed)."""
        for text in self._texts:
            self.getPlotItem().removeItem(text)
        self._texts.clear()
        for t in rows:
            for p in cols:
                if self.zoomable and not self.matrix[t, p]:
                    continue  # a zoomed-in many-class matrix writes only cells with images
                colour = QColor("black") if self._shares[t, p] > 0.6 else QColor("white")
                text = pg.TextItem(str(self.matrix[t, p]), color=colour, anchor=(0.5, 0.5))
                text.setPos(p + 0.5, t + 0.5)
                self.getPlotItem().addItem(text)
                self._texts.append(text)

    def fit(self) -> None:
        """Show the whole matrix."""
        n = max(len(self.class_names), 1)
        self.getPlotItem().getViewBox().setRange(QRectF(0, 0, n, n), padding=0.02)

    def zoom_to_cell(self, true: int, predicted: int) -> None:
        """Centre this cell, zoomed so that cells are at least READABLE_CELL_PX wide."""
        n = len(self.class_names)
        vb = self.getPlotItem().getViewBox()
        w, h = max(vb.width(), 1.0), max(vb.height(), 1.0)
        # Screen pixels per cell: readable, no smaller than the whole matrix would give,
        # and never so large that fewer than 3 cells show.
        px = min(max(READABLE_CELL_PX, min(w, h) / max(n, 1)), min(w, h) / 3)
        x = _window_start(predicted, w / px, n)
        y = _window_start(true, h / px, n)
        vb.setRange(QRectF(x, y, w / px, h / px), padding=0)

    def cell_px(self) -> float:
        """How many screen pixels wide a cell is now."""
        vb = self.getPlotItem().getViewBox()
        (x0, x1), (y0, y1) = vb.viewRange()
        return min(vb.width() / max(x1 - x0, 1e-9), vb.height() / max(y1 - y0, 1e-9))

    def visible_cells(self) -> tuple[range, range]:
        """The rows (true classes) and columns (predicted) at least partly on screen."""
        n = len(self.class_names)
        (x0, x1), (y0, y1) = self.getPlotItem().getViewBox().viewRange()
        return (range(max(0, math.floor(y0)), min(n, math.ceil(y1))),
                range(max(0, math.floor(x0)), min(n, math.ceil(x1))))

    def _on_view_changed(self) -> None:
        self.update_labels()
        if self.zoomable:
            rows, cols = self.visible_cells()
            shown = np.count_nonzero(self.matrix[rows.start:rows.stop, cols.start:cols.stop])
            if self.cell_px() < COUNT_TEXT_PX or shown > MAX_COUNT_TEXTS:
                rows, cols = range(0), range(0)  # too small or too many to read: none
            self._show_counts(rows, cols)

    def update_labels(self) -> None:
        """Elide class names to the room a cell has on screen (full names show on hover)."""
        n = len(self.class_names)
        cell_px = self.cell_px()  # aspect-locked: cells are square
        item = self.getPlotItem()
        metrics = QFontMetrics(item.getAxis("bottom").style.get("tickFont") or self.font())
        # Many classes' names share a start ("Breed_…"): keep both ends of each label.
        shortest = "Wwww…www" if self.zoomable else "Wwww…"
        every_x = tick_plan(n, cell_px, metrics.horizontalAdvance(shortest))
        every_y = tick_plan(n, cell_px, metrics.height())
        width_x = int(every_x * cell_px) - 6
        left_px, room = LEFT_AXIS_PX, LEFT_AXIS_PX - 16
        if self.zoomable:  # whole names when they take at most 40 % of the width
            longest = max((metrics.horizontalAdvance(name) for name in self.class_names),
                          default=0)
            label = 2 * metrics.height()  # the rotated "true class" beside the names
            left_px = max(LEFT_AXIS_PX, min(longest + label + 12, int(0.4 * self.width())))
            room = left_px - label - 12
        item.getAxis("left").setWidth(left_px)
        elide = Qt.TextElideMode.ElideMiddle
        left = [(i + 0.5, metrics.elidedText(name, elide, room))
                for i, name in enumerate(self.class_names) if i % every_y == 0]
        bottom = [(i + 0.5, metrics.elidedText(name, elide, width_x))
                  for i, name in enumerate(self.class_names) if i % every_x == 0]
        item.getAxis("left").setTicks([left, []])
        item.getAxis("bottom").setTicks([bottom, []])
        self._labels = {"left": dict(left), "bottom": dict(bottom)}

    def shown_labels(self, side: str) -> dict[int, str]:
        """class index -> the label the "left" (true) or "bottom" (predicted) axis shows for
        it, for the classes on screen now."""
        rows, cols = self.visible_cells()
        on_screen = rows if side == "left" else cols
        return {int(pos): text for pos, text in self._labels[side].items()
                if int(pos) in on_screen}

    def shown_counts(self) -> dict[tuple[int, int], str]:
        """(true, predicted) -> the count written in that cell."""
        return {(int(t.pos().y()), int(t.pos().x())): t.textItem.toPlainText()
                for t in self._texts}

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        QTimer.singleShot(0, self, self.update_labels)  # after the view box has its new size

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
