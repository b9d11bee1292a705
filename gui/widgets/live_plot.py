"""The base of the live training plots: buffered series redrawn by a timer.

Points are buffered as they arrive and drawn by a QTimer at ~10 Hz, so a loop that
yields hundreds of steps per second costs the GUI thread ten cheap redraws per second,
never one per step. Colours come from the widget palette (dark mode works) plus a few
mid-tone series colours that read on light and dark backgrounds alike.
"""
from __future__ import annotations

import bisect
import math
import time
from dataclasses import dataclass, field

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QWidget

from gui.i18n import again, translate

REDRAW_INTERVAL_MS = 100
# Tableau-like mid tones: enough contrast on both white and near-black backgrounds.
COLOURS = {"train": "#4e79a7", "train_raw": "#4e79a7", "val": "#f28e2b", "lr": "#59a14f",
           "best": "#e15759", "marker": "#9c755f"}
COMPARE_COLOURS = ("#b07aa1", "#76b7b2", "#edc948", "#ff9da7", "#bab0ac")
pg.setConfigOptions(antialias=True)


def nice_ceiling(value: float) -> float:
    """The smallest tidy number (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 x 10^k) >= value."""
    exponent = math.floor(math.log10(value))
    for step in (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0):
        candidate = step * 10.0 ** exponent
        if candidate >= value * (1 - 1e-12):
            return candidate
    return 10.0 ** (exponent + 1)


@dataclass
class Ema:
    """Bias-corrected exponential moving average (TensorBoard's smoothing), one value at a
    time, so a redraw never recomputes the history."""

    beta: float = 0.9
    avg: float = 0.0
    count: int = 0

    def add(self, value: float) -> float:
        self.count += 1
        self.avg = self.beta * self.avg + (1 - self.beta) * value
        return self.avg / (1 - self.beta ** self.count)


class RedrawScheduler(QObject):
    """Redraws dirty plots from a timer: each plot at most every REDRAW_INTERVAL_MS, and
    plots sharing a scheduler take turns (one per tick), so the GUI thread never paints
    all of them in one go. The timer stops while nothing is dirty."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.plots: list["LivePlot"] = []
        self._turn = 0
        self._idle_ticks = 0
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._on_timer_timeout)

    def add(self, plot: "LivePlot") -> None:
        self.plots.append(plot)
        self._timer.setInterval(max(10, REDRAW_INTERVAL_MS // len(self.plots)))

    def request(self) -> None:
        self._idle_ticks = 0
        if not self._timer.isActive():
            self._timer.start()

    def _on_timer_timeout(self) -> None:
        plot = self.plots[self._turn % len(self.plots)]
        self._turn += 1
        if plot.dirty and plot.due():
            plot.flush()
            self._idle_ticks = 0
        elif plot.dirty:
            self._idle_ticks = 0  # waiting for its slower interval
        else:
            self._idle_ticks += 1
            if self._idle_ticks >= len(self.plots):
                self._timer.stop()  # a whole round with nothing new: no more wake-ups


@dataclass
class Series:
    """One curve's buffered points (plot coordinates)."""

    xs: list[float] = field(default_factory=list)
    ys: list[float] = field(default_factory=list)

    def add(self, x: float, y: float) -> None:
        self.xs.append(float(x))
        self.ys.append(float(y))

    def nearest(self, x: float) -> tuple[float, float] | None:
        if not self.xs:
            return None
        i = bisect.bisect_left(self.xs, x)
        candidates = [j for j in (i - 1, i) if 0 <= j < len(self.xs)]
        j = min(candidates, key=lambda k: abs(self.xs[k] - x))
        return self.xs[j], self.ys[j]


class LivePlot(pg.PlotWidget):
    """Base class: buffered series, timer-driven redraw, hover read-out, palette colours.
    `title` and `y_label` are marked with QT_TRANSLATE_NOOP("LivePlot", ...) by subclasses;
    curve labels are translate() results, made again by retranslate()."""

    title = ""
    y_label = ""
    y_format = "{:.4g}"
    legend_offset = (-10, 10)  # pyqtgraph: negative = from the right / bottom edge
    min_interval_s = REDRAW_INTERVAL_MS / 1000  # slower-changing plots may redraw less often
    y_from_zero = False  # y axis 0..a rounded maximum that only ever grows (see _fit_y)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.redraw_count = 0
        self.dirty = False
        self._last_flush = 0.0
        self._y_top = 0.0
        self._compare_tops: list[float] = []
        self._x_extent: float | None = None  # requested x range end (None = follow data)
        self._x_applied: float | None = None
        self._series: dict[str, Series] = {}
        self._curves: dict[str, pg.PlotDataItem] = {}
        self._labels: dict[str, str] = {}
        self._compare_items: list[pg.PlotDataItem] = []
        self._compare_labels: list[str] = []
        self.scheduler = RedrawScheduler(self)
        self.scheduler.add(self)
        item = self.getPlotItem()
        item.setTitle(self._title())
        self._set_axis_labels()
        # No grid: it doubles the cost of every repaint (measured), and hovering shows values.
        item.hideButtons()
        item.setClipToView(True)
        item.setDownsampling(auto=True, mode="peak")
        self._legend = item.addLegend(offset=self.legend_offset)
        self._hover_line = pg.InfiniteLine(angle=90, movable=False)
        self._hover_text = pg.TextItem(anchor=(0, 1))
        for hover in (self._hover_line, self._hover_text):
            hover.setVisible(False)
            item.addItem(hover, ignoreBounds=True)
        self.scene().sigMouseMoved.connect(self._on_scene_mouse_moved)
        self._apply_palette()

    # --- texts ------------------------------------------------------------------------
    def _title(self) -> str:
        return translate("LivePlot", self.title) if self.title else ""

    def _set_axis_labels(self) -> None:
        item = self.getPlotItem()
        item.setLabel("bottom", translate("LivePlot", "step"))
        item.setLabel("left", translate("LivePlot", self.y_label) if self.y_label else "")

    def retranslate(self) -> None:
        """Title, axis labels and legend entries in the current language."""
        self._set_axis_labels()
        self._apply_palette()  # sets the title, in the text colour
        for name, curve in self._curves.items():
            self._labels[name] = again(self._labels[name])
            self._rename(curve, self._labels[name])
        for i, curve in enumerate(self._compare_items):
            self._compare_labels[i] = again(self._compare_labels[i])
            self._rename(curve, self._compare_labels[i])

    def _rename(self, curve: pg.PlotDataItem, name: str) -> None:
        curve.opts["name"] = name
        label = self._legend.getLabel(curve)
        if label is not None:
            label.setText(name)

    # --- series -----------------------------------------------------------------------
    def _add_curve(self, name: str, label: str, colour: str, *, width: float = 2.0,
                   dashed: bool = False, symbol: str | None = None, alpha: int = 255) -> None:
        qc = QColor(colour)
        qc.setAlpha(alpha)
        pen = pg.mkPen(qc, width=width)
        if dashed:
            pen.setStyle(pg.QtCore.Qt.PenStyle.DashLine)
        kwargs = dict(symbol=symbol, symbolSize=7, symbolBrush=qc, symbolPen=qc) if symbol else {}
        self._curves[name] = self.plot([], [], pen=pen, name=label, **kwargs)
        self._series[name] = Series()
        self._labels[name] = label

    def _point(self, name: str, x: float, y: float) -> None:
        self._series[name].add(x, y)
        self._mark_dirty()

    def _mark_dirty(self) -> None:
        self.dirty = True
        self.scheduler.request()

    def set_scheduler(self, scheduler: RedrawScheduler) -> None:
        """Share a scheduler with other plots (they then repaint in turns)."""
        self.scheduler = scheduler
        scheduler.add(self)

    def due(self) -> bool:
        return time.monotonic() - self._last_flush >= self.min_interval_s * 0.9

    def flush(self) -> None:
        """Draw buffered points now (the scheduler calls this at most ~10 times a second)."""
        self.dirty = False
        self.redraw_count += 1
        self._last_flush = time.monotonic()
        if self._x_extent != self._x_applied:
            self._x_applied = self._x_extent
            self._apply_x_extent()
        self._redraw()
        if self.y_from_zero:
            self._fit_y()

    def _fit_y(self) -> None:
        """Keep the y axis still while points arrive: 0 to a rounded-up maximum, changed
        only when a point goes above it. (A moving axis is recomputed and repainted on
        every redraw; that was most of a live plot's cost.)"""
        top = max([max(s.ys) for s in self._series.values() if s.ys] + self._compare_tops,
                  default=0.0)
        if top <= 0.0 or top <= self._y_top:
            return
        self._y_top = nice_ceiling(top * 1.05)
        self.getPlotItem().setYRange(0.0, self._y_top, padding=0.0)

    def set_x_extent(self, last_step: float | None) -> None:
        """Fix the x axis to the whole run (curves grow into it, and the axis need not be
        recomputed on every redraw); None goes back to following the data. Applied at the
        next scheduled redraw, so plots sharing a scheduler re-lay their axes in turns."""
        self._x_extent = last_step
        self._mark_dirty()

    def _apply_x_extent(self) -> None:
        item = self.getPlotItem()
        if self._x_extent:
            item.setXRange(0, self._x_extent, padding=0.02)
        else:
            item.enableAutoRange(x=True)

    def _redraw(self) -> None:
        for name, curve in self._curves.items():
            s = self._series[name]
            curve.setData(s.xs, s.ys)

    def reset(self) -> None:
        self._y_top = 0.0
        for s in self._series.values():
            s.xs.clear()
            s.ys.clear()
        self.set_x_extent(None)
        self.flush()

    def point_count(self, name: str) -> int:
        return len(self._series[name].xs)

    def series(self, name: str) -> Series:
        return self._series[name]

    # --- comparison with earlier runs -------------------------------------------------
    def add_comparison(self, label: str, xs: list[float], ys: list[float]) -> None:
        colour = QColor(COMPARE_COLOURS[len(self._compare_items) % len(COMPARE_COLOURS)])
        pen = pg.mkPen(colour, width=1.5, style=pg.QtCore.Qt.PenStyle.DotLine)
        self._compare_items.append(self.plot(xs, ys, pen=pen, name=label, symbol="o",
                                             symbolSize=4, symbolBrush=colour, symbolPen=colour))
        self._compare_labels.append(label)
        self._compare_tops.append(max(ys, default=0.0))
        if self.y_from_zero:
            self._fit_y()

    def clear_comparisons(self) -> None:
        for item in self._compare_items:
            self.removeItem(item)
            self._legend.removeItem(item)
        self._compare_items.clear()
        self._compare_labels.clear()
        self._compare_tops.clear()

    def comparison_count(self) -> int:
        return len(self._compare_items)

    # --- look ---------------------------------------------------------------------------
    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "_legend"):
            self._apply_palette()
        super().changeEvent(event)

    def _apply_palette(self) -> None:
        pal = self.palette()
        bg, fg = pal.color(QPalette.ColorRole.Base), pal.color(QPalette.ColorRole.Text)
        self.setBackground(bg)
        item = self.getPlotItem()
        for side in ("left", "bottom"):
            axis = item.getAxis(side)
            axis.setPen(fg)
            axis.setTextPen(fg)
        item.titleLabel.setText(self._title(), color=fg.name())
        self._legend.setLabelTextColor(fg)
        self._hover_text.setColor(fg)
        self._hover_line.setPen(pg.mkPen(fg, width=1, style=pg.QtCore.Qt.PenStyle.DotLine))

    def export_png(self, path: str) -> bool:
        self.flush()
        return self.grab().save(path, "PNG")

    # --- hover --------------------------------------------------------------------------
    def hover_text_at(self, x: float) -> str:
        """The read-out for plot x: the nearest point of every curve that has data."""
        lines = []
        for name, s in self._series.items():
            p = s.nearest(x)
            if p is not None:
                lines.append(translate("LivePlot", "{label}: {value} (step {step})").format(
                    label=self._labels[name], value=self.y_format.format(p[1]), step=f"{p[0]:g}"))
        return "\n".join(lines)

    def _on_scene_mouse_moved(self, pos: QPointF) -> None:
        vb = self.getPlotItem().getViewBox()
        if not vb.sceneBoundingRect().contains(pos):
            self._hover_line.setVisible(False)
            self._hover_text.setVisible(False)
            return
        point = vb.mapSceneToView(pos)
        text = self.hover_text_at(point.x())
        self._hover_line.setPos(point.x())
        self._hover_text.setText(text)
        self._hover_text.setPos(point.x(), point.y())
        self._hover_line.setVisible(bool(text))
        self._hover_text.setVisible(bool(text))
