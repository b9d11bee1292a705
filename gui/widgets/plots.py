"""Live training curves (pyqtgraph): LossPlot, AccuracyPlot, LrPlot, and TrainingPlots
(the three side by side, fed with engine events). Buffering, the ~10 Hz redraw timer,
hover read-outs and palette colours live in the LivePlot base class (live_plot.py).
"""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QT_TRANSLATE_NOOP
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QHBoxLayout, QWidget

from engine.events import CheckpointSaved, EarlyStopped, Evaluation, Event, RunStarted, Step
from gui.i18n import translate
from gui.widgets.live_plot import COLOURS, Ema, LivePlot, RedrawScheduler


class LossPlot(LivePlot):
    title = QT_TRANSLATE_NOOP("LivePlot", "Loss")
    y_label = QT_TRANSLATE_NOOP("LivePlot", "loss")
    y_from_zero = True

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._add_curve("train_raw", translate("LossPlot", "train (raw)"), COLOURS["train_raw"],
                        width=1, alpha=70)
        self._add_curve("train", translate("LossPlot", "train (smoothed)"), COLOURS["train"])
        self._add_curve("val", translate("LossPlot", "validation"), COLOURS["val"], dashed=True,
                        symbol="o")
        self._ema = Ema()

    def add_step(self, ev: Step) -> None:
        self._series["train_raw"].add(ev.step, ev.loss)
        self._point("train", ev.step, self._ema.add(ev.loss))

    def add_evaluation(self, ev: Evaluation) -> None:
        if ev.split == "val":
            self._point("val", ev.step, ev.loss)

    def reset(self) -> None:
        self._ema = Ema()
        super().reset()


class AccuracyPlot(LivePlot):
    """Train (smoothed batch accuracy) and validation accuracy in %, from the zero-shot point."""

    title = QT_TRANSLATE_NOOP("LivePlot", "Accuracy")
    y_label = QT_TRANSLATE_NOOP("LivePlot", "accuracy (%)")
    y_format = "{:.1f} %"
    legend_offset = (-10, -30)  # accuracy rises: the lower right stays free

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # batch accuracy is too noisy raw
        self._add_curve("train", translate("AccuracyPlot", "train (smoothed)"), COLOURS["train"])
        self._add_curve("val", translate("AccuracyPlot", "validation"), COLOURS["val"], symbol="o")
        item = self.getPlotItem()
        item.setYRange(0, 100, padding=0.02)
        self.best_marker = pg.ScatterPlotItem(symbol="star", size=18, brush=QColor(COLOURS["best"]),
                                              pen=pg.mkPen(QColor(COLOURS["best"])))
        self.checkpoint_markers = pg.ScatterPlotItem(symbol="t1", size=8,
                                                     brush=QColor(COLOURS["marker"]), pen=None)
        self.zero_shot_label = pg.TextItem(translate("AccuracyPlot", "zero-shot"), anchor=(0, 1.2))
        self.best_label = pg.TextItem(translate("AccuracyPlot", "best"), anchor=(1.3, 1.1))
        for extra in (self.best_marker, self.checkpoint_markers, self.zero_shot_label,
                      self.best_label):
            item.addItem(extra, ignoreBounds=True)
        self.early_stop_line: pg.InfiniteLine | None = None
        self._early_best_epoch: int | None = None
        self._best: tuple[float, float] | None = None
        self._zero_shot: tuple[float, float] | None = None
        self._from_text = True
        self._checkpoints: list[tuple[float, str]] = []
        self._ema = Ema()
        self._markers_drawn = None  # what the markers show now (redrawn only on change)
        self._apply_marker_palette()

    def add_step(self, ev: Step) -> None:
        self._point("train", ev.step, self._ema.add(100.0 * ev.accuracy))

    def add_evaluation(self, ev: Evaluation) -> None:
        if ev.split != "val":
            return
        y = 100.0 * ev.accuracy
        self._point("val", ev.step, y)
        if ev.zero_shot or (ev.epoch == 0 and self._zero_shot is None):
            self._zero_shot = (ev.step, y)
            self._from_text = ev.zero_shot  # else a prototype or random head: the "start"
        if ev.is_best:
            self._best = (ev.step, y)

    def add_checkpoint(self, ev: CheckpointSaved) -> None:
        self._checkpoints.append((float(ev.step), ev.label))
        self._mark_dirty()

    def add_early_stop(self, ev: EarlyStopped) -> None:
        step = self._series["val"].xs[-1] if self._series["val"].xs else 0.0
        self._early_best_epoch = ev.best_epoch
        if self.early_stop_line is None:
            self.early_stop_line = pg.InfiniteLine(
                pos=step, angle=90, movable=False, label=self._early_stop_text(),
                labelOpts={"position": 0.92, "color": self.palette().color(QPalette.ColorRole.Text)},
                pen=pg.mkPen(QColor(COLOURS["best"]), width=1, style=pg.QtCore.Qt.PenStyle.DashLine))
            self.getPlotItem().addItem(self.early_stop_line, ignoreBounds=True)
        self.early_stop_line.setPos(step)
        self._mark_dirty()

    def _early_stop_text(self) -> str:
        return translate("AccuracyPlot", "early stop (best: epoch {epoch})").format(
            epoch=self._early_best_epoch)

    def retranslate(self) -> None:
        super().retranslate()
        self.best_label.setText(translate("AccuracyPlot", "best"))
        self._set_zero_shot_text()
        if self.early_stop_line is not None:
            self.early_stop_line.label.setFormat(self._early_stop_text())

    def _set_zero_shot_text(self) -> None:
        if self._zero_shot and not self._from_text:
            self.zero_shot_label.setText(translate("AccuracyPlot", "start {accuracy} %").format(
                accuracy=f"{self._zero_shot[1]:.0f}"))
        elif self._zero_shot:
            self.zero_shot_label.setText(translate("AccuracyPlot", "zero-shot {accuracy} %").format(
                accuracy=f"{self._zero_shot[1]:.0f}"))
        else:
            self.zero_shot_label.setText(translate("AccuracyPlot", "zero-shot"))

    @property
    def best_point(self) -> tuple[float, float] | None:
        return self._best

    @property
    def zero_shot_point(self) -> tuple[float, float] | None:
        return self._zero_shot

    def reset(self) -> None:
        self._ema = Ema()
        self._markers_drawn = None
        self._best = self._zero_shot = None
        self._checkpoints.clear()
        if self.early_stop_line is not None:
            self.getPlotItem().removeItem(self.early_stop_line)
            self.early_stop_line = None
        self._early_best_epoch = None
        super().reset()

    def _redraw(self) -> None:
        super()._redraw()
        markers = (self._best, self._zero_shot, len(self._checkpoints))
        if markers == self._markers_drawn:
            return  # text items are costly to re-render; most redraws only add points
        self._markers_drawn = markers
        self.best_marker.setData([self._best[0]] if self._best else [],
                                 [self._best[1]] if self._best else [])
        self.best_label.setVisible(self._best is not None)
        if self._best:
            self.best_label.setPos(*self._best)
        self.zero_shot_label.setVisible(self._zero_shot is not None)
        if self._zero_shot:
            self.zero_shot_label.setPos(*self._zero_shot)
            self._set_zero_shot_text()
        self.checkpoint_markers.setData([x for x, _ in self._checkpoints],
                                        [2.0] * len(self._checkpoints),
                                        data=[label for _, label in self._checkpoints])

    def _apply_palette(self) -> None:
        super()._apply_palette()
        if hasattr(self, "best_label"):
            self._apply_marker_palette()

    def _apply_marker_palette(self) -> None:
        fg = self.palette().color(QPalette.ColorRole.Text)
        self.zero_shot_label.setColor(fg)
        self.best_label.setColor(QColor(COLOURS["best"]))


class LrPlot(LivePlot):
    title = QT_TRANSLATE_NOOP("LivePlot", "Learning rate")
    y_label = QT_TRANSLATE_NOOP("LivePlot", "learning rate")
    y_from_zero = True
    min_interval_s = 0.5  # the schedule changes smoothly: 2 redraws a second are plenty

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._add_curve("lr", translate("LrPlot", "learning rate"), COLOURS["lr"])
        self._legend.setVisible(False)
        self.getPlotItem().getAxis("left").enableAutoSIPrefix(False)  # 5e-4, not "x1e-06"

    def add_step(self, ev: Step) -> None:
        self._point("lr", ev.step, ev.lr)


POINTS = (Step, Evaluation, CheckpointSaved)  # the events drawn at a step


def whole_run(events: list[Event]) -> list[Event]:
    """A run's metrics.jsonl as one run, each step drawn once: where it was continued from a
    checkpoint, the points it had drawn past that checkpoint (a stretch after the last save
    that an interruption lost, trained again) and an early stop it went on past are dropped."""
    kept: list[Event] = []
    for ev in events:
        if isinstance(ev, RunStarted):
            kept = [e for e in kept if not isinstance(e, EarlyStopped) and
                    not (isinstance(e, POINTS) and e.step > ev.start_step)]
        kept.append(ev)
    return kept


def history_before(events: list[Event], step: int) -> list[Event]:
    """The points a continued run had before `step`, its resume point (with it)."""
    return [e for e in whole_run(events) if isinstance(e, POINTS) and e.step <= step]


def start_accuracy(events: list[Event]) -> float | None:
    """The validation accuracy at step 0 (zero-shot, or the starting head's), if measured."""
    return next((e.accuracy for e in events if isinstance(e, Evaluation) and e.split == "val"
                 and (e.zero_shot or e.epoch == 0)), None)


class TrainingPlots(QWidget):
    """The three plots side by side, fed with engine events."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loss = LossPlot()
        self.accuracy = AccuracyPlot()
        self.lr = LrPlot()
        self.scheduler = RedrawScheduler(self)  # the three take turns: one paint per tick
        for plot in self.plots:
            plot.set_scheduler(self.scheduler)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(self.loss, 4)
        layout.addWidget(self.accuracy, 4)
        layout.addWidget(self.lr, 2)

    @property
    def plots(self) -> tuple[LivePlot, ...]:
        return (self.loss, self.accuracy, self.lr)

    def add_event(self, ev: Event) -> None:
        if isinstance(ev, RunStarted):
            for plot in self.plots:
                plot.set_x_extent(ev.total_steps)
        elif isinstance(ev, Step):
            for plot in self.plots:
                plot.add_step(ev)
        elif isinstance(ev, Evaluation):
            self.loss.add_evaluation(ev)
            self.accuracy.add_evaluation(ev)
        elif isinstance(ev, CheckpointSaved):
            self.accuracy.add_checkpoint(ev)
        elif isinstance(ev, EarlyStopped):
            self.accuracy.add_early_stop(ev)

    def reset(self) -> None:
        for plot in self.plots:
            plot.reset()

    def load_events(self, events: list[Event]) -> None:
        """Replay a finished run (its metrics.jsonl) and draw it at once."""
        self.reset()
        self.add_events(whole_run(events))
        self.flush()

    def add_events(self, events: list[Event]) -> None:
        """Add earlier points (a continued run's history) to what is drawn."""
        for ev in events:
            self.add_event(ev)

    def flush(self) -> None:
        for plot in self.plots:
            plot.flush()

    def add_comparison(self, label: str, events: list[Event]) -> None:
        """Overlay an earlier run's validation curves (dotted) for comparison."""
        val = [e for e in events if isinstance(e, Evaluation) and e.split == "val"]
        xs = [float(e.step) for e in val]
        name = translate("TrainingPlots", "{run} (val)").format(run=label)
        self.accuracy.add_comparison(name, xs, [100.0 * e.accuracy for e in val])
        self.loss.add_comparison(name, xs, [e.loss for e in val])

    def clear_comparisons(self) -> None:
        self.loss.clear_comparisons()
        self.accuracy.clear_comparisons()

    def export_png(self, path: str) -> bool:
        self.flush()
        return self.grab().save(path, "PNG")
