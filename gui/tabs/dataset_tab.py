"""Step 1, Dataset: choose (or drop, or generate) a folder of labelled images and see
what LoRA Studio makes of it: layout, classes and counts per split, thumbnails, problems.

Scanning runs in a worker thread (gui.scan_worker) and thumbnails load lazily in
another (gui.widgets.thumbnails), so a 20,000-image folder never freezes the window.
Display names edited here travel with the DatasetIndex (`dataset_ready`) into the
zero-shot prompts and every result.
"""
from __future__ import annotations

import html
import os
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QLabel, QPushButton, QSplitter,
                               QStackedWidget, QVBoxLayout, QWidget)

from gui.engine_texts import engine_again
from gui.errors import on_action
from gui.i18n import dynamic, translate
from gui.readiness import dataset_readiness, dataset_text
from gui.review_flow import ReviewFlow
from gui.scan_worker import DatasetScanner
from gui.sorting_view import SortingView
from gui.widgets.banner import Banner
from gui.widgets.busy_row import BusyRow
from gui.widgets.class_panels import ClassGallery, ClassPanel
from gui.widgets.dataset_parts import (NAME_COL, SPLITS, EmptyState, imbalance_warning,
                                       recent_folders, remember_folder, split_counts_text)
from gui.widgets.problem_list import ProblemList, ProblemRow
from gui.widgets.review_page import ReviewPage
from gui.widgets.thumbnails import ThumbnailLoader


def _source_text(root: str) -> str:
    """The bar's "Folder: …", or "File: …" for a CSV dataset (the file is the dataset)."""
    if root.lower().endswith(".csv"):
        return translate("DatasetTab", "File: {root}").format(root=root)
    return translate("DatasetTab", "Folder: {root}").format(root=root)


def _is_dataset_source(paths: list[str]) -> bool:
    """A drop is a dataset when it is one folder or one CSV file."""
    return len(paths) == 1 and (os.path.isdir(paths[0]) or paths[0].lower().endswith(".csv"))


class DatasetTab(QWidget):
    state_changed = Signal(str)
    dataset_ready = Signal(object)

    def __init__(self, settings=None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        self._scanned = None  # DatasetIndex exactly as scanned
        self._index = None  # ... with the user's display names
        self._names: dict[str, str] = {}  # folder -> display name typed by the user
        self._by_class: list[list] = []
        self._source = ""
        self._state = ""
        self.scanner = DatasetScanner(self)
        self.scanner.started.connect(self._on_scan_started)
        self.scanner.progress.connect(self._on_scan_progress)
        self.scanner.finished.connect(self._on_scan_finished)
        self.scanner.failed.connect(self._on_scan_failed)
        self.scanner.cancelled.connect(self._on_scan_cancelled)
        self.loader = ThumbnailLoader(size=96, parent=self)
        self._resplit_timer = QTimer(self, singleShot=True, interval=600)
        self._resplit_timer.timeout.connect(self._rescan)
        self._build()
        from gui.neighbours_flow import attach_more_like_this  # key M, right-click
        self.more_like_this = attach_more_like_this(self)
        self.drop_zone.watch(self)
        self._show_empty()

    # -- public interface ----------------------------------------------------------
    @property
    def index(self):
        return self._index

    def status_text(self) -> str:
        if self.scanner.busy:
            return translate("DatasetTab", "Scanning {name}…").format(name=Path(self._source).name)
        if self._index is None:
            return translate("DatasetTab", "No dataset chosen yet")
        values = {"name": Path(self._index.root).name, "classes": len(self._index.classes),
                  "images": f"{len(self._index.samples):,}"}
        if self._index.errors:
            return translate("DatasetTab", "Dataset {name}: {classes} classes · {images} images · "
                             "needs attention").format(**values)
        return translate("DatasetTab", "Dataset {name}: {classes} classes · {images} "
                         "images").format(**values)

    def choose_folder(self) -> None:
        start = self._source or (recent_folders(self._settings) or [str(Path.home())])[0]
        start = os.path.dirname(start) if os.path.isfile(start) else start  # a CSV dataset
        path = QFileDialog.getExistingDirectory(
            self, translate("DatasetTab", "Choose a folder of images"), start)
        if path:
            self.open_folder(path)

    def open_folder(self, path: str) -> None:
        """Scan `path` (a folder or CSV) in the background; dataset_ready follows."""
        self._source = str(path)
        self.split_box.reset()
        self.scanner.scan(self._source, **self.split_box.values())

    def create_demo_dataset(self, target_dir: str | None = None) -> None:
        """Generate the synthetic demo folder (or reuse the one already there), then open it."""
        from engine.config import default_data_dir
        from engine.demo.dataset import DEMO_CLASSES

        target = Path(target_dir) if target_dir else default_data_dir() / "demo-dataset"
        self._source = str(target)
        self.split_box.reset()
        if any((target / name).is_dir() for name, *_ in DEMO_CLASSES):
            self.scanner.scan(str(target), **self.split_box.values())
        else:
            self.scanner.make_demo(str(target))

    def shutdown(self) -> None:
        self._resplit_timer.stop()
        self.scanner.wait()
        self.review_flow.shutdown()
        self.more_like_this.shutdown()
        self.sorting.shutdown()
        self.review_page.shutdown()
        self.map_flow.shutdown()
        self.map_neighbours.shutdown()
        self.map_page.shutdown()
        self.loader.shutdown()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt API)
        self.shutdown()
        super().closeEvent(event)

    # -- building ------------------------------------------------------------------
    def _build(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(16, 16, 16, 16)
        root.setSpacing(8)
        # The result of the last scan, check, save or move (closable; the next result of the
        # same action replaces it)
        self.banner = Banner()
        self.banner.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner.setVisible(False)
        root.addWidget(self.banner)
        self.busy = BusyRow(self)
        self.busy.cancel_button.clicked.connect(on_action(self.busy.cancel_button,
                                                          self.scanner.cancel))
        root.addWidget(self.busy)
        self.pages = QStackedWidget()
        root.addWidget(self.pages, 1)
        self.pages.addWidget(self._build_empty_page())
        self.pages.addWidget(self._build_main_page())
        self.pages.addWidget(self._build_review())
        from gui.map_flow import attach_map

        attach_map(self)  # the map page, its flow and the Map button's action
        self.sorting = SortingView(self)  # adds the page that sorts an unsorted folder

    def _build_review(self) -> QWidget:
        from engine.config import DEFAULT_MODEL

        self.model_for_checks = lambda: DEFAULT_MODEL  # main_window passes the Config tab's
        flow = self.review_flow = ReviewFlow(self, lambda: self.model_for_checks())
        # each stage's words (a template, gui/progress_text.py); the counts fill them in
        flow.busy.connect(lambda text: self.busy.set_text(text) if self.busy.active
                          else self.busy.start(text))
        flow.busy.connect(lambda _: self.check_button.setEnabled(False))
        flow.progress.connect(self.busy.progress)
        flow.idle.connect(self.busy.stop)
        flow.idle.connect(lambda: self.check_button.setEnabled(True))
        self.busy.cancel_button.clicked.connect(on_action(self.busy.cancel_button, flow.cancel))
        flow.message.connect(lambda text: self._show_banner(text, "review"))
        flow.dataset_saved.connect(self.open_folder)
        flow.folder_changed.connect(self._rescan)
        page = self.review_page = ReviewPage()
        flow.report_ready.connect(self._on_report)
        page.back.connect(on_action(page.back_button, lambda: self.pages.setCurrentIndex(1)))
        page.save_requested.connect(on_action(page.save_button, flow.save))
        page.apply_requested.connect(on_action(page.apply_button, flow.apply))
        return page

    def _on_report(self, report) -> None:
        self.banner.clear("review")  # a failed check before this one is no longer the news
        self.review_page.show_report(report, self._index)
        self.pages.setCurrentIndex(2)

    def _build_empty_page(self) -> QWidget:
        self.drop_zone = EmptyState(accept_paths=_is_dataset_source)
        self.drop_zone.paths_dropped.connect(on_action(
            self, lambda paths: self.open_folder(paths[0]),
            translate("DatasetTab", "Drop a folder")))
        self.drop_zone.highlight_changed.connect(self._on_drag_highlight)
        self.drop_zone.recent_chosen.connect(on_action(
            self, self.open_folder, translate("DatasetTab", "Open a recent folder")))
        self.choose_button = self.drop_zone.choose_button
        self.choose_button.clicked.connect(on_action(self.choose_button, self.choose_folder))
        self.demo_button = self.drop_zone.demo_button
        self.demo_button.clicked.connect(on_action(self.demo_button,
                                                   lambda: self.create_demo_dataset()))
        return self.drop_zone

    def _build_main_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        bar = QHBoxLayout()
        self.folder_label = QLabel()
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        change = QPushButton(translate("DatasetTab", "Change…"))
        change.setToolTip(translate("DatasetTab", "Choose another folder (Ctrl+O), or drop one "
                                    "anywhere on this tab"))
        change.clicked.connect(on_action(change, self.choose_folder))
        self.rescan_button = rescan = QPushButton(translate("DatasetTab", "Rescan"))
        rescan.setToolTip(translate("DatasetTab", "Read the folder again (after adding, removing "
                                    "or fixing images)"))
        rescan.clicked.connect(on_action(rescan, self._rescan))
        bar.addWidget(self.folder_label, 1)
        bar.addWidget(change)
        bar.addWidget(rescan)
        self.check_button = QPushButton(translate("DatasetTab", "Check labels…"))
        self.check_button.setToolTip(translate("DatasetTab",
                                               "Find likely label mistakes and near-duplicate "
                                               "images (the same photo in train and test first) "
                                               "with the Config tab's base model; your folder is "
                                               "only read"))
        self.check_button.clicked.connect(on_action(
            self.check_button, lambda: self.review_flow.start(self._index)))
        bar.addWidget(self.check_button)
        self.map_button = QPushButton(translate("DatasetTab", "Map"))
        self.map_button.setToolTip(translate("DatasetTab", "Every image as a dot, placed by "
                                             "similarity with the Config tab's base model"))
        bar.addWidget(self.map_button)  # its action: gui.map_flow.attach_map
        self.unsorted_button = QPushButton(translate("DatasetTab", "Unsorted folder…"))
        bar.addWidget(self.unsorted_button)  # gui.sorting_view connects it
        layout.addLayout(bar)
        self.layout_label = QLabel()
        self.layout_label.setWordWrap(True)
        layout.addWidget(self.layout_label)
        # what blocks training, in the words the Config and Training tabs use (gui.readiness)
        self.readiness_banner = Banner("", translate("DatasetTab", "Show the problems"))
        self.readiness_banner.action.clicked.connect(on_action(
            self.readiness_banner.action, lambda: self.problems.set_expanded(True)))
        self.readiness_banner.setVisible(False)
        layout.addWidget(self.readiness_banner)
        vsplit = QSplitter(Qt.Orientation.Vertical)
        hsplit = QSplitter(Qt.Orientation.Horizontal)
        self.class_panel = ClassPanel()
        self.class_panel.table.name_edited.connect(self._on_name_edited)
        self.class_panel.table.currentCellChanged.connect(lambda row, *_: self._show_class(row))
        self.class_panel.split_box.changed.connect(self._resplit_timer.start)
        self.gallery = ClassGallery(self.loader)
        self.gallery.filter_changed.connect(lambda: self._show_class(self.table.currentRow()))
        # the parts tests and the status bar read, by their plain names
        self.table, self.split_box = self.class_panel.table, self.class_panel.split_box
        self.totals_label, self.notice = self.class_panel.totals_label, self.class_panel.notice
        self.grid, self.split_filter = self.gallery.grid, self.gallery.split_filter
        self.class_title = self.gallery.title
        hsplit.addWidget(self.class_panel)
        hsplit.addWidget(self.gallery)
        hsplit.setStretchFactor(0, 2)
        hsplit.setStretchFactor(1, 3)
        hsplit.setSizes([420, 600])
        vsplit.addWidget(hsplit)
        self.problems = ProblemList()
        self.problems.expanded_changed.connect(lambda on: on and self._size_problems(vsplit))
        vsplit.addWidget(self.problems)
        vsplit.setStretchFactor(0, 3)
        vsplit.setStretchFactor(1, 1)
        vsplit.setCollapsible(0, False)
        layout.addWidget(vsplit, 1)
        return page

    def _size_problems(self, vsplit: QSplitter) -> None:
        """Open the details just tall enough for the rows (at most 40 % of the height)."""
        rows = min(len(self.problems.rows()), 50)
        want = 40 + self.table.horizontalHeader().height() + rows * 30 + 16
        height = min(want, vsplit.height() * 2 // 5)
        vsplit.setSizes([vsplit.height() - height, height])

    # -- state ---------------------------------------------------------------------
    def _set_state(self, state: str) -> None:
        if state != self._state:
            self._state = state
            self.state_changed.emit(state)

    def _show_empty(self) -> None:
        self.drop_zone.set_recent(recent_folders(self._settings)[:4])
        self.pages.setCurrentIndex(0)

    def _show_banner(self, text: str, source: str = "") -> None:
        self.banner.show_message(text, source)

    def _on_drag_highlight(self, on: bool) -> None:
        if self.pages.currentIndex() == 1:
            root = self._index.root if self._index else self._source
            self.folder_label.setText(
                translate("DatasetTab", "Release to open this folder instead") if on
                else _source_text(root))

    # -- scanning ------------------------------------------------------------------
    def _rescan(self) -> None:
        if self._source:
            self.scanner.scan(self._source, **self.split_box.values())

    def _on_scan_started(self, source: str) -> None:
        self._show_banner("")
        self.busy.start(translate("DatasetTab", "Reading {source}…").format(source=source))
        self._set_state("running")

    def _on_scan_progress(self, done: int, total: int) -> None:
        self.busy.progress(done, total, translate("DatasetTab", "Checking images: {done} of "
                                                  "{total}").format(done=f"{done:,}",
                                                                    total=f"{total:,}")
                           if total else "")

    def _on_scan_cancelled(self) -> None:
        self.busy.stop()
        self._set_state(self._resting_state())

    def _on_scan_failed(self, message: str) -> None:
        self.busy.stop()
        text = dynamic(lambda: translate(
            "DatasetTab", "⚠ Could not open this dataset. {message}").format(
            message=engine_again(message)))
        if self._index is not None:
            self._source = root = self._index.root  # Rescan must mean the dataset on screen
            text = dynamic(lambda: translate(
                "DatasetTab", "⚠ Could not open this dataset. {message} Still showing "
                "{root}.").format(message=engine_again(message), root=root))
        else:
            self._show_empty()
        self._show_banner(text, "scan")
        self._set_state(self._resting_state() if self._index is not None else "attention")
        self.dataset_ready.emit(self._index if self._usable() else None)

    def _on_scan_finished(self, index) -> None:
        self.busy.stop()
        if self._scanned is not None and self._scanned.root != index.root:
            self._names = {}  # another dataset: the names typed for the last one don't apply
        self._scanned = index
        self._names = {k: v for k, v in self._names.items()
                       if k in {c.folder for c in index.classes}}
        self._index = index.with_display_names(self._names) if self._names else index
        self._source = index.root
        remember_folder(self._settings, index.root)
        self._by_class = [[] for _ in index.classes]
        for sample in index.samples:
            self._by_class[sample.label].append(sample)
        self._fill()
        self.pages.setCurrentIndex(1)
        self._set_state(self._resting_state())
        self.dataset_ready.emit(self._index if self._usable() else None)

    def _usable(self) -> bool:
        return dataset_readiness(self._index).ready

    def _resting_state(self) -> str:
        return dataset_readiness(self._index).mark

    def _show_readiness(self) -> None:
        """Say what blocks training, as the Config and Training tabs say it."""
        readiness = dataset_readiness(self._index)
        self.readiness_banner.show_state(dataset_text(readiness) if readiness.state == "blocked"
                                         else "")

    # -- showing an index ----------------------------------------------------------
    def _fill(self) -> None:
        index = self._index
        self.folder_label.setText(_source_text(index.root))
        # engine texts (conversions, skips, the split), made again after a language switch
        self.layout_label.setText(dynamic(lambda: "<br>".join(
            [translate("DatasetTab", "<b>Layout:</b> {layout}").format(
                layout=html.escape(engine_again(index.layout_description)))]
            + [html.escape(engine_again(note)) for note in index.notes])))
        self.split_box.setVisible(index.split_source == "automatic")
        counts = index.counts()
        totals = {s: sum(c.get(s, 0) for c in counts.values()) for s in SPLITS}
        self.totals_label.setText(dynamic(lambda: translate(
            "DatasetTab", "{classes} classes · {images} images ({splits})").format(
                classes=len(index.classes), images=f"{len(index.samples):,}",
                splits=split_counts_text(totals))))
        per_class = {c.display_name: counts.get(c.folder, {}).get("train", 0)
                     for c in index.classes}
        warning, small = imbalance_warning(per_class)
        self.class_panel.set_notice(warning)
        self.table.fill(index, small)
        self.problems.set_problems([ProblemRow(p.path, p.reason, p.severity)
                                    for p in index.problems])
        self._show_readiness()
        row = max(0, min(self.table.currentRow(), len(index.classes) - 1))
        self.table.setCurrentCell(row, NAME_COL)
        self._show_class(row)

    def _show_class(self, row: int) -> None:
        if self._index is None or not 0 <= row < len(self._by_class):
            self.gallery.show_class("", [])
        else:
            self.gallery.show_class(self._index.classes[row].display_name, self._by_class[row])

    def _on_name_edited(self, row: int, text: str) -> None:
        if self._scanned is None:
            return
        new = " ".join(text.split())  # collapse stray whitespace from typing
        old = self._index.classes[row].display_name
        others = {c.display_name for i, c in enumerate(self._index.classes) if i != row}
        if not new or new in others:
            self.class_panel.set_notice(
                translate("DatasetTab", "“{name}” cannot be used: class names must be unique and "
                          "not empty. The previous name was kept.").format(name=text) if new
                else translate("DatasetTab", "A class needs a name. The previous name was kept."))
            self.table.set_name(row, old)
            return
        self.table.set_name(row, new)
        self._names[self._scanned.classes[row].folder] = new
        self._index = self._scanned.with_display_names(self._names)
        counts = self._index.counts()
        warning, _ = imbalance_warning({c.display_name: counts[c.folder]["train"]
                                        for c in self._index.classes})
        self.class_panel.set_notice(warning)  # it names classes: show the new name
        self._show_class(self.table.currentRow())
        self.dataset_ready.emit(self._index if self._usable() else None)
