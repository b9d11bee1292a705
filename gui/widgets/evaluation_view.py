"""Evaluation of a finished run: accuracy summary, per-class table, confusion matrix, and
the images behind any confusion cell. With many classes the matrix zooms and a "Most
confused" list names the largest mistakes; a click on one shows its cell like a click on
the matrix, and zooms onto it.

engine.use.evaluate.evaluate_run runs off the GUI thread (it loads the model and classifies
every image of the split); this view only displays its Report.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QIcon, QPixmap
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QLabel, QListWidgetItem,
                               QProgressBar, QPushButton, QSplitter, QTabWidget, QVBoxLayout,
                               QWidget)

from gui import format as fmt
from gui.errors import on_action
from gui.i18n import translate
from gui.scan_worker import FunctionThread
from gui.widgets.cell_heatmaps import CellHeatMaps
from gui.widgets.confused_pairs import ConfusedPairs
from gui.widgets.confusion_matrix import ConfusionMatrixPlot
from gui.widgets.evaluation_texts import (MAX_CELL_IMAGES, cell_title_text, split_name,
                                          summary_text)
from gui.widgets.image_grid import placeholder_pixmap, thumbnail_strip
from gui.widgets.per_class_table import PerClassTable
from gui.widgets.reliability_plot import ReliabilityPlot
from gui.widgets.thumbnails import ThumbnailLoader

PATH_ROLE = Qt.ItemDataRole.UserRole + 1
THUMB = 96


def _name(value, class_names: list[str]) -> str:
    """Samples may carry class names or label indices."""
    if isinstance(value, int) and 0 <= value < len(class_names):
        return class_names[value]
    return str(value)


def cell_samples(report, true: int, predicted: int) -> list[dict]:
    """The report's samples whose true and predicted classes are this cell's, surest first."""
    names = list(report.class_names)
    t, p = names[true], names[predicted]
    picked = [s for s in report.samples
              if _name(s["true"], names) == t and _name(s["predicted"], names) == p]
    return sorted(picked, key=lambda s: -float(s.get("confidence", 0.0)))


class EvaluationView(QWidget):
    evaluation_finished = Signal(object)  # Report
    evaluation_failed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.report = None
        self.run_dir = ""
        self._thread: FunctionThread | None = None
        self._threads: set[FunctionThread] = set()
        self._makers: dict[str, Callable[[], str]] = {}  # label name -> its text, remade
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self._show("summary", lambda: translate(
            "EvaluationView", "Open a finished run's evaluation from the summary card in "
            "Training, or choose a run and press Evaluate."))
        self.split_combo = QComboBox()
        for split in ("test", "val", "train"):
            self.split_combo.addItem(split_name(split), split)
        self.split_combo.setToolTip(translate(
            "EvaluationView", "Which images to evaluate: test images were never used "
            "for training or for choosing the best epoch."))
        self.evaluate_button = QPushButton(translate("EvaluationView", "Evaluate"))
        self.evaluate_button.setEnabled(False)
        self.report_button = QPushButton(translate("EvaluationView", "Open report folder"))
        self.report_button.setEnabled(False)
        self.busy = QProgressBar()
        self.busy.setVisible(False)
        self.matrix = ConfusionMatrixPlot()
        self.table = PerClassTable()
        self.zoom_hint = QLabel(translate("EvaluationView", "Scroll to zoom, drag to move, "
                                          "hover a cell for its classes"))
        self.zoom_hint.setEnabled(False)  # a quiet hint, in the palette's disabled colour
        self.zoom_hint.setWordWrap(True)  # a narrow matrix pane gets two lines, not wider
        self.fit_button = QPushButton(translate("EvaluationView", "Fit"))
        self.fit_button.setToolTip(translate("EvaluationView", "Show the whole matrix"))
        self.fit_button.clicked.connect(on_action(self.fit_button, self.matrix.fit))
        self.pairs = ConfusedPairs()
        self.pairs.pair_clicked.connect(on_action(
            self.pairs, self._on_pair_clicked, translate("EvaluationView", "Show a cell's images")))
        self.cell_title = QLabel()
        self.cell_title.setWordWrap(True)  # long class names wrap in the narrower right pane
        self._show("cell_title", lambda: translate(
            "EvaluationView", "Click a cell of the matrix to see its images."))
        self.cell_images = thumbnail_strip(THUMB, lines=2, width=THUMB + 48)  # confidence, name
        self.loader = ThumbnailLoader(THUMB, parent=self)
        self.loader.ready.connect(self._on_loader_ready)
        self.reliability = ReliabilityPlot()
        self.heat_box = QCheckBox(translate("EvaluationView", "Heat maps"))
        self.heat_box.setToolTip(translate(
            "EvaluationView", "Show where the model looked for its class (Grad-CAM) on this "
            "cell's images; computed in the background"))
        self.heat_box.toggled.connect(on_action(self.heat_box, self._on_heat_toggled))
        self.heat_maps = CellHeatMaps(self)
        self.heat_maps.ready.connect(self._on_heat_ready)
        self.heat_maps.failed.connect(lambda text: self._show("cell_title", lambda: f"⚠ {text}"))
        self._heat: dict[str, QIcon] = {}
        self._cell_paths: list[str] = []
        self._build_layout()
        self.evaluate_button.clicked.connect(on_action(self.evaluate_button,
                                                       lambda: self.evaluate(self.run_dir)))
        self.report_button.clicked.connect(on_action(self.report_button,
                                                     self._on_report_button_clicked))
        self.matrix.cell_clicked.connect(on_action(
            self.matrix, self._on_matrix_cell_clicked,
            translate("EvaluationView", "Show a cell's images")))
        self.cell_images.itemDoubleClicked.connect(on_action(
            self.cell_images,
            lambda item: QDesktopServices.openUrl(QUrl.fromLocalFile(item.data(PATH_ROLE))),
            translate("EvaluationView", "Open an image")))

    def _build_layout(self) -> None:
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(QLabel(translate("EvaluationView", "Images:")))
        top.addWidget(self.split_combo)
        top.addWidget(self.evaluate_button)
        top.addWidget(self.report_button)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        matrix_pane = QWidget()
        column = QVBoxLayout(matrix_pane)
        column.setContentsMargins(0, 0, 0, 0)
        zoom_bar = QHBoxLayout()
        zoom_bar.addWidget(self.zoom_hint, 1)
        zoom_bar.addWidget(self.fit_button)
        column.addLayout(zoom_bar)
        column.addWidget(self.matrix, 1)
        self._set_zoom_bar_visible(False)
        splitter.addWidget(matrix_pane)
        self.side_tabs = QTabWidget()
        self.side_tabs.addTab(self.table, translate("EvaluationView", "Per class"))
        self.side_tabs.addTab(self.pairs, translate("EvaluationView", "Most confused"))
        self.side_tabs.setTabVisible(1, False)  # shown with many classes (set_report)
        self.side_tabs.addTab(self.reliability, translate("EvaluationView", "Confidence"))
        self.side_tabs.setTabToolTip(2, translate(
            "EvaluationView", "Reliability diagram: how often the model was right at "
            "each confidence, before and after calibration"))
        # The matrix takes the whole height on the left (a square wants it); the tables and
        # the clicked cell's images share the right, so a 1024x680 window still shows both.
        cell_pane = QWidget()
        cell_column = QVBoxLayout(cell_pane)
        cell_column.setContentsMargins(0, 0, 0, 0)
        cell_bar = QHBoxLayout()
        cell_bar.addWidget(self.cell_title, 1)
        cell_bar.addWidget(self.heat_box)
        cell_column.addLayout(cell_bar)
        cell_column.addWidget(self.cell_images)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.side_tabs)
        right.addWidget(cell_pane)
        right.setStretchFactor(0, 1)
        right.setStretchFactor(1, 0)
        right.setChildrenCollapsible(False)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setSpacing(8)
        layout.addLayout(top)
        layout.addWidget(self.busy)
        layout.addWidget(splitter, 1)

    def _show(self, label: str, make: Callable[[], str]) -> None:
        """Set the text of the label attribute `label` to make(); retranslate() makes it again."""
        self._makers[label] = make
        getattr(self, label).setText(make())

    def retranslate(self) -> None:
        for label, make in self._makers.items():
            getattr(self, label).setText(make())

    # --- evaluation ---------------------------------------------------------------------
    def set_run(self, run_dir: str) -> None:
        self.run_dir = run_dir
        self.evaluate_button.setEnabled(bool(run_dir) and not self.is_busy())

    def is_busy(self) -> bool:
        return self._thread is not None

    def evaluate(self, run_dir: str, split: str | None = None) -> None:
        """Evaluate `run_dir` on `split` in the background; the view fills in when done."""
        if split is not None and self.split_combo.findData(split) >= 0:
            self.split_combo.setCurrentIndex(self.split_combo.findData(split))
        split = self.split_combo.currentData()
        self.set_run(run_dir)
        self.evaluate_button.setEnabled(False)
        self.busy.setRange(0, 0)
        self.busy.setVisible(True)
        name = Path(run_dir).name
        self._show("summary", lambda: translate(
            "EvaluationView", "Evaluating {run} on the {split} images…").format(
                run=name, split=split_name(split)))

        def job(progress):
            from engine.use.evaluate import evaluate_run

            return evaluate_run(run_dir, split=split, progress=progress)

        try:
            thread = FunctionThread(job, translate("EvaluationView", "evaluating {run_dir}")
                                    .format(run_dir=run_dir))
            thread.progress.connect(self._on_thread_progress)
            thread.succeeded.connect(self._on_thread_succeeded)
            thread.failed.connect(self._on_thread_failed)
            thread.finished.connect(self._on_thread_finished)
            thread.start()
        except BaseException:  # nothing runs: Evaluate stays possible (gui.errors reports it)
            self.busy.setVisible(False)
            self.set_run(run_dir)
            raise
        self._thread = thread
        self._threads.add(thread)

    def _on_thread_progress(self, done: int, total: int) -> None:
        if self.sender() is self._thread and total > 0:
            self.busy.setRange(0, total)
            self.busy.setValue(done)

    def _on_thread_succeeded(self, report) -> None:
        if self.sender() is self._thread:
            self.busy.setVisible(False)
            self.set_report(report)
            self.evaluation_finished.emit(report)

    def _on_thread_failed(self, message: str) -> None:
        if self.sender() is self._thread:
            self.busy.setVisible(False)
            self._show("summary", lambda: translate(
                "EvaluationView", "✗ Evaluation failed: {message}").format(message=message))
            self.evaluation_failed.emit(message)

    def _on_thread_finished(self) -> None:
        self._threads.discard(self.sender())
        if self.sender() is self._thread:
            self._thread = None
            self.busy.setVisible(False)
            self.evaluate_button.setEnabled(bool(self.run_dir))

    def wait(self, ms: int = 60_000) -> None:
        for thread in list(self._threads):
            thread.wait(ms)

    def shutdown(self) -> None:
        self.wait()
        self.heat_maps.wait()
        self.loader.shutdown()

    # --- display --------------------------------------------------------------------------
    def set_report(self, report) -> None:
        self.report = report
        names = list(report.class_names)
        total = sum(sum(row) for row in report.confusion)
        wrong = total - sum(report.confusion[i][i] for i in range(len(names)))
        split = self.split_combo.currentData()
        cal = getattr(report, "calibration", None) or {}
        accuracy, top5 = report.accuracy, report.top5_accuracy
        self._show("summary", lambda: summary_text(accuracy, top5, total, split, wrong,
                                                   len(names), cal))
        self.reliability.set_calibration(cal)
        self.report_button.setEnabled(bool(getattr(report, "report_dir", "")))
        self.matrix.set_matrix(report.confusion, names)
        many = self.matrix.zoomable  # many classes: zoom, and name the worst mistakes
        self._set_zoom_bar_visible(many)
        self.pairs.set_pairs(report.confusion, names, self.matrix.cell_text)
        self.side_tabs.setTabVisible(self.side_tabs.indexOf(self.pairs), many)
        if many:
            self.side_tabs.setCurrentWidget(self.pairs)
        self.table.fill(report.per_class)
        self.cell_images.clear()
        self._show("cell_title", lambda: translate(
            "EvaluationView", "Click a cell of the matrix to see its images "
            "(off the diagonal = mistakes)."))

    def show_cell(self, true: int, predicted: int) -> list[dict]:
        """List the images of one confusion cell (also what a click on the matrix does)."""
        if self.report is None:
            return []
        names = list(self.report.class_names)
        samples = cell_samples(self.report, true, predicted)
        self.matrix.select_cell((true, predicted))
        count, t_name, p_name = len(samples), names[true], names[predicted]
        self._show("cell_title", lambda: cell_title_text(count, t_name, p_name, true == predicted))
        self.loader.cancel_pending()
        self.cell_images.clear()
        self._cell_paths = [str(s["path"]) for s in samples[:MAX_CELL_IMAGES]]
        if self.heat_box.isChecked():
            self.heat_maps.request(self.run_dir, self._cell_paths)
        placeholder = QIcon(placeholder_pixmap(THUMB, self.palette()))
        for sample in samples[:MAX_CELL_IMAGES]:
            path = str(sample["path"])
            item = QListWidgetItem(f"{fmt.percent(float(sample.get('confidence', 0.0)), 0)}\n"
                                   f"{os.path.basename(path)}")
            item.setData(PATH_ROLE, path)
            item.setToolTip(translate("EvaluationView", "{path}\nconfidence {confidence}").format(
                path=path, confidence=fmt.percent(float(sample.get("confidence", 0.0)))))
            pixmap = self.loader.get(path)
            icon = self._heat.get(path) if self.heat_box.isChecked() else None
            item.setIcon(icon or (QIcon(pixmap) if pixmap is not None else placeholder))
            self.cell_images.addItem(item)
        return samples

    def _on_heat_toggled(self, on: bool) -> None:
        if on and self._cell_paths:
            self.heat_maps.request(self.run_dir, self._cell_paths)
        self._refresh_icons()

    def _on_heat_ready(self, images: dict) -> None:
        self._heat.update({p: QIcon(QPixmap.fromImage(img)) for p, img in images.items()})
        self._refresh_icons()

    def _refresh_icons(self) -> None:
        heat = self.heat_box.isChecked()
        for i in range(self.cell_images.count()):
            item = self.cell_images.item(i)
            path = item.data(PATH_ROLE)
            pixmap = self.loader.get(path)
            icon = self._heat.get(path) if heat else None
            if icon is not None:
                item.setIcon(icon)
            elif pixmap is not None:
                item.setIcon(QIcon(pixmap))

    def _on_matrix_cell_clicked(self, true: int, predicted: int) -> None:
        self.show_cell(true, predicted)

    def _on_pair_clicked(self, true: int, predicted: int) -> None:
        """A row of "Most confused": that cell's images, and the cell found in the matrix."""
        self.show_cell(true, predicted)
        self.matrix.zoom_to_cell(true, predicted)

    def _set_zoom_bar_visible(self, visible: bool) -> None:
        self.zoom_hint.setVisible(visible)
        self.fit_button.setVisible(visible)

    def _on_loader_ready(self, path: str) -> None:
        pixmap = self.loader.get(path)
        if pixmap is None or (self.heat_box.isChecked() and path in self._heat):
            return
        for i in range(self.cell_images.count()):
            item = self.cell_images.item(i)
            if item.data(PATH_ROLE) == path:
                item.setIcon(QIcon(pixmap))

    def _on_report_button_clicked(self) -> None:
        if self.report is not None and getattr(self.report, "report_dir", ""):
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.report.report_dir)))
