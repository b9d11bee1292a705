"""The Dataset tab's map, start to end: embed the dataset's images with the Config tab's
base model and lay them out in a worker thread (engine.review.map_points, then
engine.review.map: PCA at once, refined by openTSNE), show each layout as it comes, and
keep the result per (dataset, model) for the session, so going back to the map is free.

The GUI thread only moves dots: the embedding pass, PCA and t-SNE run in the worker, which
leaves one core to the window (THREADS) so it keeps answering on a 2-core laptop.
"""
from __future__ import annotations

import os
import threading
from typing import Callable

from PySide6.QtCore import QT_TRANSLATE_NOOP, QObject, Signal
from PySide6.QtWidgets import QPushButton, QWidget

from gui.engine_texts import engine_again
from gui.errors import on_action
from gui.i18n import dynamic, translate
from gui.progress_text import staged
from gui.scan_worker import FunctionThread, keep_alive

# openTSNE's threads: all cores but one. With every core busy, the window's event loop
# waited up to ~140 ms at times on 2 cores (measured); with one left free, under 65 ms.
THREADS = max(1, (os.cpu_count() or 1) - 1)
STAGES = {  # the map's own stages; the embedding pass's come from gui.progress_text
    "neighbours": QT_TRANSLATE_NOOP("MapFlow", "Finding each image's nearest neighbours…"),
    "layout": QT_TRANSLATE_NOOP("MapFlow", "Refining the map: step {done} of {total}"),
}


def _stage_text(stage: str) -> str:
    if stage in STAGES:
        return translate("MapFlow", STAGES[stage])
    from gui.progress_text import template

    return template(stage)


def _index_key(index, model: str) -> tuple:
    """What a map depends on: the dataset's images and labels, and the model."""
    return (index.root, model, hash(tuple((s.path, s.label) for s in index.samples)))


class MapFlow(QObject):
    """Signals: busy(str), progress(done, total), idle(), points_ready(MapPoints) before
    the first layout of a dataset, layout_ready(xy [N, 2], final), message(str or Tr)."""

    busy = Signal(str)
    progress = Signal(int, int)
    idle = Signal()
    points_ready = Signal(object)
    layout_ready = Signal(object, bool)
    message = Signal(object)
    _layout_waiting = Signal()  # from the worker: a newer layout is in self._latest

    def __init__(self, parent: QWidget, model_ref: Callable[[], str]) -> None:
        super().__init__(parent)
        self.model_ref = model_ref
        self.thread: FunctionThread | None = None
        self.cache: dict[tuple, tuple] = {}  # key -> (MapPoints or None, final layout)
        self._lock = threading.Lock()
        self._latest = None
        self._pending = None  # a layout asked for while another ran
        self._stop = threading.Event()
        self._layout_waiting.connect(self._on_layout_waiting)

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.isRunning()

    def start(self, index) -> None:
        """Map `index` (the dataset on screen): from the cache at once, else in the
        background."""
        if self.running or index is None:
            return
        model = self.model_ref()
        key = _index_key(index, model)
        if key in self.cache:
            points, xy = self.cache[key]
            self.points_ready.emit(points)
            self.layout_ready.emit(xy, True)
            return

        def work(report):
            from engine.review.map_points import map_points

            progress = staged(report, self.busy.emit, _stage_text)

            points = map_points(index.root, model_ref=model, progress=progress)
            self.points_ready.emit(points)
            return points, self._lay_out(points.vectors, progress)

        self._run(work, key, translate("MapFlow", "Mapping the dataset with {model}…").format(
            model=model))

    def lay_out(self, paths: list[str], vectors) -> None:
        """A layout for embeddings already computed (an unsorted folder's)."""
        if self.running:  # the newest request wins; it starts when this one has stopped
            self._pending = (paths, vectors)
            self.cancel()
            return
        key = ("points", len(paths), hash(tuple(paths)))
        if key in self.cache:
            self.layout_ready.emit(self.cache[key][1], True)
            return

        def work(report):
            return None, self._lay_out(vectors, lambda stage, d, t: report(d, t))

        self._run(work, key, _stage_text("neighbours"))

    def _lay_out(self, vectors, progress):
        """In the worker: the quick layout, then the refined one (None when cancelled)."""
        from engine.review.map import MapCancelled, quick_layout, refined_layout

        quick = quick_layout(vectors)
        self._offer(quick)
        try:
            return refined_layout(vectors, initial=quick, progress=progress,
                                  cancel=self._stop.is_set, on_layout=self._offer,
                                  threads=THREADS)
        except MapCancelled:
            return None  # the thread reports "cancelled" (its cancel flag is set too)

    def _run(self, work, key, text: str) -> None:
        self._stop.clear()
        thread = self.thread = keep_alive(FunctionThread(
            work, translate("MapFlow", "drawing the dataset map"), self))
        thread.progress.connect(self.progress)
        thread.succeeded.connect(lambda result: self._on_done(key, result))
        thread.failed.connect(self._on_failed)
        thread.cancelled.connect(self.idle)
        thread.finished.connect(self._start_pending)
        self.busy.emit(text)
        thread.start()

    def _start_pending(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None and not self.running:
            self.lay_out(*pending)

    def _offer(self, xy) -> None:
        """In the worker: keep only the newest layout; the window takes it when it can."""
        with self._lock:
            waiting, self._latest = self._latest is not None, xy
        if not waiting:
            self._layout_waiting.emit()

    def _on_layout_waiting(self) -> None:
        with self._lock:
            xy, self._latest = self._latest, None
        if xy is not None and not self._stop.is_set():
            self.layout_ready.emit(xy, False)

    def cancel(self) -> None:
        self._stop.set()
        if self.thread is not None:
            self.thread.cancel()

    def _on_done(self, key, result) -> None:
        points, xy = result
        self.idle.emit()
        if xy is None:
            return
        self.cache[key] = (points, xy)
        self.layout_ready.emit(xy, True)

    def _on_failed(self, text: str) -> None:
        self.idle.emit()
        self.message.emit(dynamic(lambda: translate(
            "MapFlow", "⚠ The map could not be drawn. {error}").format(error=engine_again(text))))

    def shutdown(self) -> None:
        self._pending = None
        self.cancel()
        if self.thread is not None:
            self.thread.wait()


def marks_from(report, paths: list[str]) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """The last data check's likely label mistakes and near-duplicate pairs, as marks on
    the map's `paths` ({path: "mistake" | "duplicate"}, [(first, second)])."""
    if report is None:
        return {}, []
    known = {os.path.normcase(os.path.abspath(p)): p for p in paths}
    find = lambda p: known.get(os.path.normcase(os.path.abspath(p)))  # noqa: E731
    marks, pairs = {}, []
    for pair in report.duplicates:
        a, b = find(pair["first"]), find(pair["second"])
        for p in (a, b):
            if p:
                marks[p] = "duplicate"
        if a and b:
            pairs.append((a, b))
    for issue in report.issues:  # a likely mistake is the news when an image is both
        if find(issue["path"]):
            marks[find(issue["path"])] = "mistake"
    return marks, pairs


def attach_map(tab) -> None:
    """Give the Dataset tab its map: the page (tab.map_page), the flow (tab.map_flow), the
    Map button's action, and saving decisions like the review view saves them."""
    from gui.review_flow import ReviewFlow
    from gui.widgets.map_page import MapPage

    flow = tab.map_flow = MapFlow(tab, lambda: tab.model_for_checks())
    page = tab.map_page = MapPage()
    tab.pages.addWidget(page)
    busy = tab.busy
    flow.busy.connect(lambda text: busy.set_text(text) if busy.active else busy.start(text))
    flow.progress.connect(busy.progress)
    flow.idle.connect(busy.stop)
    flow.busy.connect(lambda _: tab.map_button.setEnabled(False))
    flow.idle.connect(lambda: tab.map_button.setEnabled(True))
    busy.cancel_button.clicked.connect(on_action(busy.cancel_button, flow.cancel))
    flow.message.connect(lambda text: tab.banner.show_message(text, "map"))

    def on_points(points) -> None:
        if points is None:
            return
        report = tab.review_page.report
        same = report is not None and tab.index is not None and report.root == tab.index.root
        marks, pairs = marks_from(report if same else None, points.paths)
        page.set_dataset(points, tab.index, marks, pairs)
        tab.pages.setCurrentWidget(page)

    flow.points_ready.connect(on_points)
    flow.layout_ready.connect(lambda xy, final: page.set_layout(xy))
    page.layout_requested.connect(on_action(page, flow.lay_out,
                                            translate("MapFlow", "Map these images")))
    saver = tab.map_saver = ReviewFlow(tab, lambda: tab.model_for_checks())
    saver.message.connect(lambda text: tab.banner.show_message(text, "map"))
    saver.dataset_saved.connect(tab.open_folder)

    def save(decisions) -> None:
        saver.index = tab.index
        if saver.save(decisions):
            page.decisions, page.history = {}, []

    page.save_requested.connect(on_action(page.save_button, save))
    tab.map_return = None  # the page the map was opened from, when not the dataset's
    page.back.connect(on_action(page.back_button, lambda: tab.pages.setCurrentWidget(
        tab.map_return or tab.pages.widget(1))))
    button: QPushButton = tab.map_button
    button.clicked.connect(on_action(button, lambda: flow.start(tab.index)))
    from gui.neighbours_flow import attach_more_like_in

    # "more like this" in the selection grid, over the map's images (key M, right-click)
    tab.map_neighbours = attach_more_like_in(
        page.grid, page.selection_layout, lambda: (page.map.paths, page.vectors, page.labels()),
        page.current_path, page.go_to)
