"""DatasetMap: every image as one dot of a pyqtgraph scatter, coloured by class, with marks
for likely label mistakes and near-duplicates, a thumbnail card on hover, and rectangle or
lasso selection.

One ScatterPlotItem draws every dot (pxMode, styles shared per class), so 20,000 dots pan
and zoom smoothly; hovering finds the nearest dot with one numpy pass over the positions
in screen pixels; a new layout moves the dots without rebuilding them (map_parts).
"""
from __future__ import annotations

import os

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QVBoxLayout, QWidget

from gui.i18n import translate
from gui.widgets.map_parts import (EXCLUDED, UNLABELLED, Dots, HoverCard, MapViewBox,
                                   class_colour, inside_polygon, move_points)
from gui.widgets.thumbnails import ThumbnailLoader

DOT = 7  # px
HOVER_REACH = 8  # px from a dot's centre that still counts as over it
THUMB = 128
FADED = 40  # alpha of the dots outside a selection
RINGED = 50  # selections up to this size also get a ring around each dot
MISTAKE, DUPLICATE = "mistake", "duplicate"
NO_CLASS, OUT = -1, -2  # label codes: no label, excluded by the user


class DatasetMap(QWidget):
    """Signals: selection_changed(list of paths), image_selected(path) when one dot is
    clicked (for "more like this")."""

    selection_changed = Signal(list)
    image_selected = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = MapViewBox()
        self.plot = pg.PlotWidget(viewBox=self.view)
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.plot.hideButtons()  # pyqtgraph's "A" (auto-range): the page has Fit
        self.plot.setBackground(self.palette().color(QPalette.ColorRole.Base))
        self.view.setAspectLocked(True)  # a square map: distances read the same both ways
        self.links = pg.PlotCurveItem(connect="pairs", pen=pg.mkPen("#c2185b", width=1))
        self.dots = Dots(pxMode=True, size=DOT, pen=None, hoverable=False)
        self.mistakes = Dots(pxMode=True, size=DOT + 8, symbol="o", brush=None,
                                           pen=pg.mkPen("#e65100", width=2))
        self.duplicates = Dots(pxMode=True, size=DOT + 6, symbol="s", brush=None,
                                             pen=pg.mkPen("#c2185b", width=1.5))
        self.chosen = Dots(pxMode=True, size=DOT + 5, symbol="o", brush=None,
                                         pen=pg.mkPen(self.palette().color(
                                             QPalette.ColorRole.Highlight), width=2.5))
        for item in (self.links, self.dots, self.mistakes, self.duplicates, self.chosen):
            self.view.addItem(item)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        self.card = HoverCard(self)
        self.loader = ThumbnailLoader(size=THUMB, parent=self)
        self.loader.ready.connect(self._on_thumbnail)
        self.plot.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.view.polygon_drawn.connect(self.select_polygon)
        self.view.clicked_at.connect(self._on_clicked)
        self.paths: list[str] = []
        self.codes = np.zeros(0, dtype=np.int64)  # class index per dot, or NO_CLASS / OUT
        self.class_names: list[str] = []
        self.xy = np.zeros((0, 2), dtype=np.float64)
        self.selected = np.zeros(0, dtype=bool)
        self.marks: dict[str, str] = {}
        self.pairs: list[tuple[str, str]] = []
        self._row: dict[str, int] = {}

    # -- data ----------------------------------------------------------------------------
    def set_points(self, paths: list[str], codes, class_names: list[str], xy=None,
                   marks: dict[str, str] | None = None,
                   pairs: list[tuple[str, str]] | None = None) -> None:
        """Dots for `paths`, coloured by `codes` (an index into `class_names`, NO_CLASS or
        OUT), placed at `xy` [N, 2] (all at the centre until a layout arrives)."""
        self.paths = list(paths)
        self._row = {p: i for i, p in enumerate(self.paths)}
        self.codes = np.asarray(codes, dtype=np.int64).reshape(-1)
        self.class_names = list(class_names)
        self.xy = (np.zeros((len(self.paths), 2)) if xy is None
                   else np.asarray(xy, dtype=np.float64))
        self.selected = np.zeros(len(self.paths), dtype=bool)
        self.marks = dict(marks or {})
        self.pairs = [(a, b) for a, b in (pairs or []) if a in self._row and b in self._row]
        self.card.hide()
        self._draw_dots()
        self._draw_marks()
        self._draw_selection()
        self.fit()

    def set_layout(self, xy) -> None:
        """Move every dot to its place in a new layout (same images, same order)."""
        xy = np.asarray(xy, dtype=np.float64)
        if xy.shape != (len(self.paths), 2):
            return
        self.xy = xy
        move_points(self.dots, xy)
        self._draw_marks()
        self._draw_selection()

    def set_codes(self, codes) -> None:
        """New classes for the dots (after relabelling or excluding)."""
        self.codes = np.asarray(codes, dtype=np.int64).reshape(-1)
        self._draw_dots()

    def colour(self, code: int) -> QColor:
        if code == OUT:
            return QColor(EXCLUDED)
        if code < 0:
            return QColor(UNLABELLED)
        colour = class_colour(code, len(self.class_names))
        if self.palette().color(QPalette.ColorRole.Base).lightness() < 128 and \
                colour.lightness() < 80:  # dark mode: black and navy would vanish
            colour = QColor.fromHsl(max(0, colour.hslHue()), colour.hslSaturation(), 200)
        return colour

    def _draw_dots(self) -> None:
        """One brush per class shared by its dots; with a selection, the other dots fade."""
        dim = self.selected.any() if len(self.selected) == len(self.codes) else False
        brushes = np.empty(len(self.codes), dtype=object)
        for code in np.unique(self.codes).tolist():
            colour = self.colour(code)
            of_class = self.codes == code
            brushes[of_class] = pg.mkBrush(colour)
            if dim:
                faded = QColor(colour)
                faded.setAlpha(FADED)
                brushes[of_class & ~self.selected] = pg.mkBrush(faded)
        self.dots.setData(pos=self.xy, brush=brushes if len(brushes) else None)

    def _draw_marks(self) -> None:
        for item, kind in ((self.mistakes, MISTAKE), (self.duplicates, DUPLICATE)):
            rows = [self._row[p] for p, k in self.marks.items() if k == kind and p in self._row]
            item.setData(pos=self.xy[rows] if rows else np.zeros((0, 2)))
        if self.pairs:
            ends = np.array([[self._row[a], self._row[b]] for a, b in self.pairs]).reshape(-1)
            self.links.setData(x=self.xy[ends, 0], y=self.xy[ends, 1])
        else:
            self.links.setData(x=[], y=[])

    def _draw_selection(self) -> None:
        """A few selected dots (a click) get a ring; many stand out by the others fading."""
        few = 0 < self.selected.sum() <= RINGED
        self.chosen.setData(pos=self.xy[self.selected] if few else np.zeros((0, 2)))

    def fit(self) -> None:
        """Show the whole map (every layout lies in [-1, 1] x [-1, 1])."""
        self.view.setRange(xRange=(-1.05, 1.05), yRange=(-1.05, 1.05), padding=0)

    # -- selection -----------------------------------------------------------------------
    def select_polygon(self, polygon) -> None:
        """Select the dots inside `polygon` ([M, 2] map coordinates; a rectangle's corners
        or a lasso's outline)."""
        self.set_selection(inside_polygon(self.xy, polygon))

    def set_selection(self, mask) -> None:
        self.selected = np.asarray(mask, dtype=bool).reshape(-1)
        self._draw_dots()
        self._draw_selection()
        self.selection_changed.emit(self.selected_paths())

    def selected_paths(self) -> list[str]:
        return [self.paths[i] for i in np.flatnonzero(self.selected)]

    def _on_clicked(self, pos: QPointF) -> None:
        row = self.dot_at(pos)
        mask = np.zeros(len(self.paths), dtype=bool)
        if row is not None:
            mask[row] = True
        self.set_selection(mask)
        if row is not None:
            self.image_selected.emit(self.paths[row])

    # -- hover ---------------------------------------------------------------------------
    def dot_at(self, pos: QPointF) -> int | None:
        """The row of the dot nearest to `pos` (map coordinates) within HOVER_REACH px."""
        return self.dot_near(self.view.mapViewToScene(pos))

    def dot_near(self, scene_pos: QPointF) -> int | None:
        """The row of the dot drawn nearest to `scene_pos` within HOVER_REACH px: every dot
        mapped to the screen as the painter maps it, in one pass."""
        if not len(self.paths):
            return None
        self.view.updateMatrix()  # a range set since the last paint is applied first
        t = self.view.childGroup.sceneTransform()
        x, y = self.xy[:, 0], self.xy[:, 1]
        sx = t.m11() * x + t.m21() * y + t.dx() - scene_pos.x()
        sy = t.m12() * x + t.m22() * y + t.dy() - scene_pos.y()
        d2 = sx * sx + sy * sy
        row = int(np.argmin(d2))
        return row if d2[row] <= HOVER_REACH ** 2 else None

    def screen_pos(self, row: int) -> QPoint:
        """Where dot `row` is drawn, in this widget's coordinates (tests hover there)."""
        scene = self.view.mapViewToScene(QPointF(*self.xy[row]))
        return self.plot.mapTo(self, self.plot.mapFromScene(scene))

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        row = (self.dot_near(scene_pos)
               if self.view.sceneBoundingRect().contains(scene_pos) else None)
        if row is None:
            self.card.hide()
            self.card.path = ""
            return
        path = self.paths[row]
        if path != self.card.path:
            self.card.path = path
            self.card.name.setText(os.path.basename(path))
            code = int(self.codes[row])
            self.card.label.setText(self._label_text(code))
            self._show_thumbnail()
        self._place_card(self.plot.mapTo(self, self.plot.mapFromScene(scene_pos)))

    def _label_text(self, code: int) -> str:
        if code == OUT:
            return translate("DatasetMap", "excluded")
        if code < 0:
            return translate("DatasetMap", "no label")
        return self.class_names[code]

    def _show_thumbnail(self) -> None:
        pixmap = self.loader.get(self.card.path)
        if pixmap is not None:
            self.card.image.setPixmap(pixmap)
        else:
            problem = self.loader.failure(self.card.path)
            self.card.image.clear()
            self.card.image.setText(problem or "…")
        self.card.adjustSize()
        self.card.show()
        self.card.raise_()

    def _on_thumbnail(self, path: str) -> None:
        if path == self.card.path and self.card.isVisible():
            self._show_thumbnail()

    def _place_card(self, at: QPoint) -> None:
        """Beside the cursor, flipped to the other side near the widget's edges."""
        size = self.card.sizeHint()
        x = at.x() + 16 if at.x() + 16 + size.width() <= self.width() else at.x() - 16 - size.width()
        y = at.y() + 16 if at.y() + 16 + size.height() <= self.height() else at.y() - 16 - size.height()
        self.card.move(max(0, x), max(0, y))

    def leaveEvent(self, event) -> None:  # noqa: N802 (Qt API)
        self.card.hide()
        self.card.path = ""
        super().leaveEvent(event)

    def shutdown(self) -> None:
        self.loader.shutdown()
