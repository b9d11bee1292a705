"""The learning-rate finder window (Config tab, "Find learning rate…").

It runs engine.training.lr_finder in a worker thread (progress and Cancel while it works),
then plots loss against LR on a log axis, marks the suggestion with a line, a dot and its
value, and "Use 3.2e-04" sets the Config tab's field (LoRA's learning rate, or the head's
for the linear probe) through the `use_requested` signal. Nothing is trained or saved here
but the small report the finder writes into the output folder.
"""
from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import QT_TRANSLATE_NOOP, QEvent, Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (QDialog, QHBoxLayout, QLabel, QProgressBar, QPushButton,
                               QVBoxLayout, QWidget)

from gui.errors import on_action
from gui.i18n import translate
from gui.scan_worker import FunctionThread, keep_alive
from gui.widgets.live_plot import COLOURS

FIELD_NAMES = {"lr": QT_TRANSLATE_NOOP("LRFinderDialog", "learning rate"),
               "head_lr": QT_TRANSLATE_NOOP("LRFinderDialog", "head learning rate")}


def why_not(config, index, problems: dict) -> str:
    """Why the finder cannot run now ('' when it can): no dataset, a blocked or tiny one,
    settings that need fixing. In the words the rest of the Config tab uses."""
    from engine.training.lr_finder import MIN_TRAIN_IMAGES

    if index is None and not config.data_dir:
        return translate("LRFinderDialog", "Choose a dataset in step 1 (Dataset) first: the "
                         "learning-rate finder trains briefly on its images.")
    if index is not None and index.errors:
        return translate("LRFinderDialog", "The dataset cannot be used for training yet: "
                         "step 1 (Dataset) says why.")
    if index is not None and len(index.split("train")) < MIN_TRAIN_IMAGES:
        return translate("LRFinderDialog", "The dataset has {count} training images; the "
                         "learning-rate finder needs at least {minimum}. Add images, or keep "
                         "the preset's learning rate.").format(
            count=len(index.split("train")), minimum=MIN_TRAIN_IMAGES)
    blocking = {k: v for k, v in problems.items() if k != "data_dir"}
    if blocking:
        return translate("LRFinderDialog", "Fix the settings marked in red first.")
    return ""


def report_location(config):
    from engine.training.lr_report import report_paths

    return report_paths(None, config.output_dir, config.data_dir)


class LRFinderDialog(QDialog):
    """Runs the finder on `config` (and the Dataset tab's `index`) as soon as it opens."""

    use_requested = Signal(str, float)  # (config field, value)
    work_ended = Signal()  # the curve (or a failure) is shown, or the test was cancelled

    def __init__(self, config, index=None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(translate("LRFinderDialog", "Find a learning rate"))
        self.config, self.index = config, index
        self.result = None
        self.thread: FunctionThread | None = None
        self._stage = ""
        from engine.training.control import TrainControl

        self.control = TrainControl()
        self.status = QLabel(translate("LRFinderDialog", "Starting…"))
        self.status.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.plot = pg.PlotWidget()
        self.plot.setLogMode(x=True, y=False)
        self.plot.setLabel("bottom", translate("LRFinderDialog", "learning rate (log scale)"))
        self.plot.setLabel("left", translate("LRFinderDialog", "training loss"))
        self.plot.getPlotItem().getAxis("left").enableAutoSIPrefix(False)
        self.legend = self.plot.addLegend(offset=(-10, 10))
        self._apply_palette()
        self.plot.setMinimumSize(480, 280)
        self.plot.setVisible(False)
        self.use_button = QPushButton()
        self.use_button.setVisible(False)
        self.use_button.setDefault(True)
        self.use_button.clicked.connect(on_action(self.use_button, self._on_use_button_clicked))
        self.cancel_button = QPushButton(translate("LRFinderDialog", "Cancel"))
        self.cancel_button.clicked.connect(on_action(self.cancel_button,
                                                     self._on_cancel_button_clicked))
        self.close_button = QPushButton(translate("LRFinderDialog", "Close"))
        self.close_button.setVisible(False)
        self.close_button.clicked.connect(on_action(self.close_button, self.reject))
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.cancel_button, self.close_button, self.use_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setSpacing(8)
        layout.addWidget(self.status)
        layout.addWidget(self.progress)
        layout.addWidget(self.plot, 1)
        layout.addLayout(buttons)

    # --- the work ---------------------------------------------------------------------
    def start(self) -> None:
        config, index, control = self.config, self.index, self.control
        json_path, png_path = report_location(config)

        def work(progress):
            from engine.training.lr_finder import find_lr, run_to_end
            from engine.training.lr_report import write_report

            def on_event(event) -> None:
                if event.kind == "progress":
                    self._stage = event.message or event.stage
                    progress(event.done, event.total)

            result = run_to_end(find_lr(config, control, dataset=index), on_event)
            if result.status != "stopped":
                try:
                    write_report(result, json_path, png_path,
                                 {"model": config.model, "data_dir": config.data_dir})
                except OSError:  # the plot is here; a report that cannot be written is no loss
                    pass
            return result

        thread = self.thread = keep_alive(FunctionThread(
            work, translate("LRFinderDialog", "finding a learning rate"), self))
        thread.progress.connect(self._on_progress)
        thread.succeeded.connect(self._on_found)
        thread.failed.connect(self._on_failed)
        thread.cancelled.connect(self.reject)
        thread.cancelled.connect(self.work_ended)
        thread.start()

    def running(self) -> bool:
        return self.thread is not None and self.thread.isRunning()

    def stop(self) -> None:
        self.control.stop()
        if self.thread is not None:
            self.thread.cancel()

    def wait(self, ms: int = 30_000) -> None:
        if self.thread is not None:
            self.thread.wait(ms)

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.status.setText(translate("LRFinderDialog", "{stage}: {done} of {total}").format(
            stage=self._stage, done=done, total=total))

    def _on_failed(self, message: str) -> None:
        self._finished()
        self.status.setText(message)

    def _on_found(self, result) -> None:
        if result.status == "stopped":
            self.reject()
            self.work_ended.emit()
            return
        self._finished()
        self.result = result
        self.show_curve(result)

    def _finished(self) -> None:
        self.work_ended.emit()
        self.progress.setVisible(False)
        self.cancel_button.setVisible(False)
        self.close_button.setVisible(True)

    # --- the curve --------------------------------------------------------------------
    def _apply_palette(self) -> None:
        """The plot in the window's colours (dark mode too), as the training plots are."""
        pal = self.palette()
        bg, fg = pal.color(QPalette.ColorRole.Base), pal.color(QPalette.ColorRole.Text)
        self.plot.setBackground(bg)
        for side in ("left", "bottom"):
            axis = self.plot.getPlotItem().getAxis(side)
            axis.setPen(fg)
            axis.setTextPen(fg)
        self.legend.setLabelTextColor(fg)

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "legend"):
            self._apply_palette()
        super().changeEvent(event)

    def show_curve(self, result) -> None:
        self.plot.setVisible(True)
        plot = self.plot
        plot.clear()
        points = [(a, b, c) for a, b, c in zip(result.lrs, result.losses, result.smoothed)
                  if math.isfinite(b) and math.isfinite(c)]
        lrs = [p[0] for p in points]
        plot.plot(lrs, [p[1] for p in points], pen=pg.mkPen(COLOURS["train_raw"], width=1,
                                                             style=Qt.PenStyle.DotLine),
                  name=translate("LRFinderDialog", "loss"))
        smoothed = [p[2] for p in points]
        plot.plot(lrs, smoothed, pen=pg.mkPen(COLOURS["train"], width=2),
                  name=translate("LRFinderDialog", "smoothed"))
        if smoothed:  # the fall fills the view; raw spikes and the blow-up may leave it
            low, first = min(smoothed), smoothed[0]
            top = min(max(smoothed), first + 3 * (first - low) + 0.05 * abs(first))
            spread = max(top - low, 1e-6)
            plot.setYRange(low - spread * 0.1, top + spread * 0.1)
        field = translate("LRFinderDialog", FIELD_NAMES.get(result.field, result.field))
        seconds = translate("LRFinderDialog", "{seconds:.0f} s").format(seconds=result.elapsed_s)
        if result.suggested_lr is None:
            self.status.setText(translate(
                "LRFinderDialog", "The loss did not fall at any learning rate tried, so there "
                "is no suggestion. Check the dataset's labels, or keep the current {field}. "
                "({seconds})").format(field=field, seconds=seconds))
            return
        lr = result.suggested_lr
        line = pg.InfiniteLine(math.log10(lr), angle=90, pen=pg.mkPen(COLOURS["best"], width=2),
                               label=f"{lr:.1e}", labelOpts={"position": 0.9,
                                                             "color": COLOURS["best"]})
        plot.addItem(line)
        at = min(range(len(result.lrs)), key=lambda i: abs(math.log(result.lrs[i] / lr)))
        if math.isfinite(result.smoothed[at]):
            plot.plot([lr], [result.smoothed[at]], pen=None, symbol="o", symbolSize=10,
                      symbolBrush=COLOURS["best"])
        self.status.setText(translate(
            "LRFinderDialog", "Suggested {field}: {lr:.1e} (now {current:.1e}), half-way down "
            "the longest steady fall of the loss. Found in {seconds} from {steps} short steps "
            "on a throw-away copy of the model; your settings change only if you use it.").format(
            field=field, lr=lr, current=result.current_lr, seconds=seconds,
            steps=len(result.lrs)))
        self.use_button.setText(translate("LRFinderDialog", "Use {lr:.1e}").format(lr=lr))
        self.use_button.setVisible(True)
        self.use_button.setFocus()

    def _on_use_button_clicked(self) -> None:
        if self.result is not None and self.result.suggested_lr is not None:
            self.use_requested.emit(self.result.field, float(f"{self.result.suggested_lr:.1e}"))
            self.accept()

    def _on_cancel_button_clicked(self) -> None:
        self.status.setText(translate("LRFinderDialog", "Stopping…"))
        self.cancel_button.setEnabled(False)
        self.stop()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.stop()  # closed while working: the thread ends on its own, nothing waits
        super().closeEvent(event)

    def reject(self) -> None:
        self.stop()
        super().reject()


def finder_row(field: QWidget, button: QPushButton) -> QWidget:
    """A field's editor with the finder's button beside it (Config tab)."""
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(8)
    # the row is as narrow as the form allows: the editor keeps room for its value
    field.setMinimumWidth(max(field.sizeHint().width(), field.fontMetrics().horizontalAdvance(
        "0.000000e-00") + 40))
    layout.addWidget(field)
    layout.addWidget(button)
    layout.addStretch(1)
    return row
