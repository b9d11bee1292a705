""""More like this" and "Why, by example", start to end: the embeddings a query needs,
computed in a worker thread (progress and Cancel in the panel), and the nearest search.

Dataset tab: every image of the open dataset embedded with the Config tab's base model
(engine.review.sorting.embed_images: cached on disk per model and file content, and kept
here per (dataset, model) for the session), then engine.review.neighbours.more_like.
Prediction tab: the run's training images nearest to a result, embedded by the run's own
tower (engine.review.examples). The search runs in the worker too: the GUI thread only
shows what came back.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QMenu

from gui.errors import on_action, reporter
from gui.i18n import translate
from gui.scan_worker import FunctionThread, keep_alive
from gui.widgets.neighbours_panel import NeighboursPanel

K = 12  # neighbours shown


class NeighboursFlow(QObject):
    """Runs one neighbour search at a time in a worker (a newer one supersedes it) and fills
    `panel`. Signal `stage(text)` (from the worker): the busy row's new words."""

    stage = Signal(str)

    def __init__(self, panel: NeighboursPanel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.panel = panel
        self.thread: FunctionThread | None = None
        self._embedded: dict[tuple[str, str], tuple[tuple, object]] = {}  # session cache
        self._action = ""
        self.stage.connect(panel.busy.set_text)
        panel.busy.cancel_button.clicked.connect(on_action(panel.busy.cancel_button, self.cancel))

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.isRunning()

    def more_like(self, index, path: str, model_ref: str) -> None:
        """The images of `index` (every class) nearest to `path`, by `model_ref`'s embeddings."""
        paths = tuple(s.path for s in index.samples)
        labels = {s.path: index.classes[s.label].display_name for s in index.samples}
        key = (str(index.root), str(model_ref))
        cached = self._embedded.get(key)
        embedded = cached[1] if cached and cached[0] == paths else None
        classes = list(index.class_names)
        name = os.path.basename(path)
        unreadable = translate("NeighboursFlow", "{name} could not be read, so it has no "
                                                 "neighbours.").format(name=name)

        def work(report):
            from engine.review.neighbours import more_like
            from engine.review.sorting import embed_images

            found = embedded or embed_images(list(paths), classes, model_ref=model_ref,
                                             progress=self._progress(report))
            if path not in found.paths:
                return key, paths, found, path, [], unreadable
            hits = more_like(found.vectors, found.paths, path, K)
            return key, paths, found, path, [(p, s, labels.get(p, "")) for p, s in hits], ""

        self._start(work, translate("NeighboursFlow", "More like {name}").format(name=name),
                    translate("NeighboursFlow", "Finding the images most like {name} "
                              "(with {model})…").format(name=name, model=model_ref),
                    translate("NeighboursFlow", "finding images like {name}").format(name=name),
                    translate("NeighboursFlow", "More like this"))

    def like_among(self, paths: list[str], vectors, labels: dict[str, str], path: str) -> None:
        """The images of `paths` (already embedded as `vectors`) nearest to `path`."""
        name = os.path.basename(path)

        def work(_report):
            from engine.review.neighbours import more_like

            hits = more_like(vectors, paths, path, K)
            return None, None, None, path, [(p, s, labels.get(p, "")) for p, s in hits], ""

        self._start(work, translate("NeighboursFlow", "More like {name}").format(name=name),
                    translate("NeighboursFlow", "Finding the images most like {name}…").format(
                        name=name),
                    translate("NeighboursFlow", "finding images like {name}").format(name=name),
                    translate("NeighboursFlow", "More like this"))

    def why(self, run_dir: str, source: str) -> None:
        """The training images of the run in `run_dir` nearest to the image `source`."""
        name = os.path.basename(source)
        title = translate("NeighboursFlow", "Training images nearest to {name}").format(name=name)

        def work(report):
            from engine.review.examples import nearest_training_images

            found = nearest_training_images(run_dir, source, K,
                                            progress=self._progress(report))
            note = found.note
            if found.failed:
                extra = translate("NeighboursFlow", "{count} training images could not be read "
                                  "and are left out.").format(count=len(found.failed))
                note = f"{note} {extra}".strip()
            return None, None, None, found.query, found.neighbours, note

        self._start(work, title, translate("NeighboursFlow", "Embedding the training images of "
                                           "{run} with its own model…").format(
            run=Path(run_dir).name), translate("NeighboursFlow", "finding the training images "
                                               "nearest to {name}").format(name=name),
                    translate("NeighboursFlow", "Why? Nearest training images"), title=title)

    def cancel(self) -> None:
        if self.thread is not None:
            self.thread.cancel()

    def shutdown(self, ms: int = 30_000) -> None:
        """Stop the search (the window closes) and the panel's thumbnail thread."""
        thread, self.thread = self.thread, None
        if thread is not None:
            thread.cancel()
            thread.wait(ms)
        self.panel.shutdown()

    # -- internals -------------------------------------------------------------------
    def _progress(self, report: Callable[[int, int], None]):
        """engine progress (stage, done, total) -> the busy row's words and counts."""
        from gui.progress_text import staged

        return staged(report, self.stage.emit)

    def _start(self, work, heading: str, busy_text: str, doing: str, action: str, *,
               title: str = "") -> None:
        if self.thread is not None:
            self.thread.cancel()  # superseded: its result is dropped
        self._action, self._title = action, title
        # no Qt parent: a tab closed meanwhile must not delete a running thread (keep_alive
        # holds it until it ends)
        thread = self.thread = keep_alive(FunctionThread(work, doing))
        thread.progress.connect(self._on_progress)
        thread.succeeded.connect(self._on_done)
        thread.failed.connect(self._on_failed)
        thread.cancelled.connect(self._on_cancelled)
        self.panel.start(heading, busy_text)
        thread.start()

    def _current(self) -> bool:
        return self.sender() is self.thread

    def _on_progress(self, done: int, total: int) -> None:
        if self._current():
            self.panel.busy.progress(done, total)

    def _on_done(self, result) -> None:
        if not self._current():
            return
        self.thread = None
        key, paths, found, query, neighbours, note = result
        if key is not None:
            self._embedded[key] = (paths, found)
        self.panel.show_for(query, neighbours, title=self._title, note=note)

    def _on_failed(self, text: str) -> None:
        if not self._current():
            return
        from engine.errors import UserError

        self.thread = None
        self.panel.close_panel()
        reporter().report(UserError(text), self._action, self.panel)

    def _on_cancelled(self) -> None:
        if self._current():
            self.thread = None
            self.panel.close_panel()


def _context_menu(owner, entries) -> QMenu:
    """A menu of (text, slot) entries, each through the error path."""
    menu = QMenu(owner)
    for text, slot in entries:
        action = menu.addAction(text)
        action.triggered.connect(on_action(owner, slot, text))
    return menu


def _wire(grid, flow: NeighboursFlow, start: Callable[[], None],
          go_to: Callable[[str], None]) -> None:
    """Key M and the right-click menu on `grid` start `start`; a chosen neighbour goes to
    `go_to`."""
    text = translate("NeighboursFlow", "More like this")

    def menu_at(pos) -> None:
        if grid.indexAt(pos).isValid():
            grid.setCurrentIndex(grid.indexAt(pos))
            _context_menu(grid, [(text, start)]).exec(grid.viewport().mapToGlobal(pos))

    grid.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
    grid.customContextMenuRequested.connect(on_action(grid, menu_at, text))
    flow.shortcut = QShortcut(QKeySequence(Qt.Key.Key_M), grid, on_action(grid, start, text),
                              context=Qt.ShortcutContext.WidgetShortcut)
    flow.panel.image_chosen.connect(on_action(flow.panel.strip, go_to, translate(
        "NeighboursPanel", "Go to a similar image")))


def attach_more_like_in(grid, host, source: Callable[[], tuple], current: Callable[[], str],
                        go_to: Callable[[str], None]) -> NeighboursFlow:
    """"More like this" for a view whose images are embedded already (the sorting view, the
    map): the panel goes into the layout `host`; `source()` gives (paths, vectors, {path:
    label}), `current()` the selected image's path ("" for none)."""
    panel = NeighboursPanel()
    host.addWidget(panel)
    flow = NeighboursFlow(panel, grid)

    def start() -> None:
        path = current()
        paths, vectors, labels = source()
        if not path or vectors is None or path not in paths:
            panel.show_message(translate("NeighboursFlow", "More like this"), translate(
                "NeighboursFlow", "Select an image first, then press M (or right-click it) to "
                "see the images most like it."))
            return
        flow.like_among(list(paths), vectors, labels, path)

    _wire(grid, flow, start, go_to)
    return flow


def attach_more_like_this(tab) -> NeighboursFlow:
    """Give the Dataset tab's class gallery "More like this" (key M, right-click): the panel
    under the grid shows the nearest images of the whole dataset; clicking one goes to it."""
    from gui.widgets.dataset_parts import NAME_COL

    panel = NeighboursPanel()
    tab.gallery.layout().addWidget(panel)
    flow = NeighboursFlow(panel, tab)
    grid = tab.grid
    text = translate("NeighboursFlow", "More like this")

    def start() -> None:
        current = grid.currentIndex()
        path = current.data(Qt.ItemDataRole.UserRole + 1) if current.isValid() else None
        if not path or tab.index is None:
            panel.show_message(text, translate(
                "NeighboursFlow", "Select an image first, then press M (or right-click it) to "
                "see the images most like it."))
            return
        flow.more_like(tab.index, path, tab.model_for_checks())

    def go_to(path: str) -> None:
        index = tab.index
        sample = next((s for s in index.samples if s.path == path), None) if index else None
        if sample is None:
            return
        if tab.split_filter.currentData() not in ("", sample.split):
            tab.split_filter.setCurrentIndex(0)  # the image is in another split: show all
        tab.table.setCurrentCell(sample.label, NAME_COL)
        row = grid.paths().index(path)
        grid.setCurrentIndex(grid.model().index(row))
        grid.scrollTo(grid.model().index(row))
        grid.setFocus()

    _wire(grid, flow, start, go_to)
    return flow


def attach_why_by_example(tab) -> NeighboursFlow:
    """Give the Prediction tab's results "Why? Nearest training images" (right-click): the
    panel under the results shows the run's training images nearest to that image."""
    panel = NeighboursPanel()
    tab.layout().addWidget(panel)
    flow = NeighboursFlow(panel, tab)
    model = tab.results.results_model

    def entries(row: int) -> list:
        prediction = model.predictions()[row]
        source = str(getattr(prediction, "source", ""))
        if getattr(prediction, "error", "") or not tab.run_dir or not os.path.isfile(source):
            return []
        run_dir = tab.run_dir
        return [(translate("NeighboursFlow", "Why? Nearest training images"),
                 lambda: flow.why(run_dir, source))]

    tab.results.menu_providers.append(entries)
    return flow
