"""The Dataset tab's review view: the data check's suspicious images as a grid, decided
from the keyboard, saved as a reviewed CSV dataset or, after confirmation, applied to the
folder.

Keys (shown on the page): K keep · R relabel as the suggested class · 1-9 relabel as that
class · X or Delete exclude · U or Backspace undo. Each decision moves to the next image;
undo takes back the last decision, wherever it was (the page keeps their history), and
selects that image again.
"""
from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QSize, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QLabel, QListView, QPushButton,
                               QTabWidget, QVBoxLayout, QWidget)

from engine.review.decisions import Decision
from gui.errors import on_action
from gui.i18n import dynamic, translate
from gui.widgets.review_model import ReviewModel
from gui.widgets.thumbnails import ThumbnailLoader

THUMB = 160
KEYS_HELP = QT_TRANSLATE_NOOP("ReviewPage", "K keep · R relabel as suggested · 1–9 relabel as "
                              "class N · X exclude · U undo · arrows move")


class ReviewGrid(QListView):
    """A grid of ReviewModel rows that turns keys into decisions.

    Signals: decided(row, decision before) after a decision, undo_requested() for U."""

    decided = Signal(int, object)
    undo_requested = Signal()

    def __init__(self, model: ReviewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.review = model
        self.setModel(model)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setWordWrap(True)
        wide = 2 if model.kind == "duplicates" else 1
        self.setIconSize(QSize(wide * THUMB + (wide - 1) * 4, THUMB))
        self.setGridSize(QSize(wide * THUMB + 40, THUMB + 4 * self.fontMetrics().height() + 20))
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.class_folders: list[str] = []  # what the number keys relabel to

    def retranslate(self) -> None:
        self.review.refresh_texts()  # captions are made when the view asks for them

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt API)
        row = self.currentIndex().row()
        if event.key() in (Qt.Key.Key_U, Qt.Key.Key_Backspace):
            self.undo_requested.emit()  # the page knows which decision was the last
            return
        decision = self._decision_for(event, row) if row >= 0 else False
        if decision is False:
            super().keyPressEvent(event)
            return
        before = self.review.decisions.get(self.review.subject(row))
        self.review.decide(row, decision)
        self.decided.emit(row, before)
        if row + 1 < self.review.rowCount():
            self.setCurrentIndex(self.review.index(row + 1))

    def _decision_for(self, event: QKeyEvent, row: int):
        """The Decision a key means, or False for keys that are not decisions."""
        key, path = event.key(), self.review.subject(row)
        if key in (Qt.Key.Key_K, Qt.Key.Key_Return, Qt.Key.Key_Enter) and \
                self.review.kind == "proposals":  # sorting: accept the proposed class
            if self.review.row(row).get("unproposed"):
                return False  # nothing proposes yet: only a number key labels it
            return Decision(path, "relabel", self.review.row(row)["proposed"])
        if key == Qt.Key.Key_K:
            return Decision(path, "keep")
        if key in (Qt.Key.Key_X, Qt.Key.Key_Delete):
            return Decision(path, "exclude")
        if key == Qt.Key.Key_R and self.review.kind == "labels":
            suggested = self.review.row(row)["suggested"]
            folder = next((f for f, n in self.review.names.items() if n == suggested), suggested)
            return Decision(path, "relabel", folder)
        if Qt.Key.Key_1 <= key <= Qt.Key.Key_9 and self.review.kind != "duplicates":
            n = key - Qt.Key.Key_1
            if n < len(self.class_folders):
                return Decision(path, "relabel", self.class_folders[n])
        return False


class ReviewPage(QWidget):
    """Signals: back(), save_requested(decisions), apply_requested(decisions)."""

    back = Signal()
    save_requested = Signal(dict)
    apply_requested = Signal(dict)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loader = ThumbnailLoader(size=THUMB, parent=self)
        self.labels = ReviewModel(self.loader, "labels", self)
        self.duplicates = ReviewModel(self.loader, "duplicates", self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        bar = QHBoxLayout()
        self.title = QLabel()
        self.title.setWordWrap(True)
        bar.addWidget(self.title, 1)
        self.save_button = QPushButton(translate("ReviewPage", "Save reviewed dataset"))
        self.save_button.setToolTip(translate("ReviewPage",
                                              "Write your folder's images with these decisions "
                                              "as a CSV dataset in LoRA Studio's data folder and "
                                              "open it: your folder stays as it is"))
        self.save_button.clicked.connect(on_action(
            self.save_button, lambda: self.save_requested.emit(self.decisions())))
        self.apply_button = QPushButton(translate("ReviewPage", "Apply to folder…"))
        self.apply_button.setToolTip(translate("ReviewPage",
                                               "Move relabelled images into their new class "
                                               "folder and excluded ones out of the dataset, "
                                               "after showing you every move"))
        self.apply_button.clicked.connect(on_action(
            self.apply_button, lambda: self.apply_requested.emit(self.decisions())))
        back = self.back_button = QPushButton(translate("ReviewPage", "Back to the dataset"))
        back.clicked.connect(self.back)
        for button in (self.save_button, self.apply_button, back):
            bar.addWidget(button)
        layout.addLayout(bar)
        self.keys = QLabel(translate("ReviewPage", KEYS_HELP))
        self.keys.setEnabled(False)  # a quiet hint in the palette's disabled colour
        self.keys.setWordWrap(True)
        layout.addWidget(self.keys)
        self.tabs = QTabWidget()
        self.label_grid = ReviewGrid(self.labels)
        self.duplicate_grid = ReviewGrid(self.duplicates)
        self.tabs.addTab(self.label_grid, translate("ReviewPage", "Label mistakes"))
        self.tabs.addTab(self.duplicate_grid, translate("ReviewPage", "Near-duplicates"))
        layout.addWidget(self.tabs, 1)
        # (grid, row, the decision it had before): what U takes back, last first
        self.history: list[tuple[ReviewGrid, int, Decision | None]] = []
        for grid in (self.label_grid, self.duplicate_grid):
            grid.decided.connect(lambda row, before, g=grid: self._on_decided(g, row, before))
            grid.undo_requested.connect(on_action(
                grid, self.undo, translate("ReviewPage", "Undo the last decision")))
        self.report = None

    def show_report(self, report, index) -> None:
        """Fill both grids from an engine.review.check.DataReport of `index`."""
        self.report = report
        self.history = []
        names = {c.folder: c.display_name for c in index.classes}
        self.labels.set_rows(report.issues, names)
        self.duplicates.set_rows(report.duplicates, names)
        self.label_grid.class_folders = [c.folder for c in index.classes]
        numbered = " · ".join(f"{i + 1} {c.display_name}" for i, c in enumerate(index.classes[:9]))
        self.keys.setText(dynamic(lambda: translate("ReviewPage", KEYS_HELP) + "\n" + translate(
            "ReviewPage", "Classes: {classes}").format(classes=numbered)))
        self._update_counts()
        grid = self.label_grid if report.issues or not report.duplicates else self.duplicate_grid
        self.tabs.setCurrentWidget(grid)
        if grid.review.rowCount():
            grid.setCurrentIndex(grid.review.index(0))
        grid.setFocus()

    def decisions(self) -> dict[str, Decision]:
        return {**self.duplicates.decisions, **self.labels.decisions}

    def _on_decided(self, grid: ReviewGrid, row: int, before: Decision | None) -> None:
        self.history.append((grid, row, before))
        self._update_counts()

    def undo(self) -> None:
        """Take back the last decision (in either grid) and select its image again."""
        if not self.history:
            return
        grid, row, before = self.history.pop()
        grid.review.decide(row, before)
        self.tabs.setCurrentWidget(grid)
        grid.setCurrentIndex(grid.review.index(row))
        grid.setFocus()
        self._update_counts()

    def _update_counts(self) -> None:
        r = self.report
        if r is None:
            return
        leaks = sum(d["across_splits"] for d in r.duplicates)
        self.title.setText(translate(
            "ReviewPage", "<b>Data check</b> of {checked} labelled images ({source}): {issues} "
            "likely label mistakes, {pairs} near-duplicate pairs ({leaks} across splits). "
            "Decided: {decided} of {total}.").format(
                checked=f"{r.checked:,}", source=r.source, issues=len(r.issues),
                pairs=len(r.duplicates), leaks=leaks,
                decided=self.labels.decided() + self.duplicates.decided(),
                total=len(r.issues) + len(r.duplicates)))
        self.tabs.setTabText(0, translate("ReviewPage", "Label mistakes ({count})").format(
            count=len(r.issues)))
        self.tabs.setTabText(1, translate("ReviewPage", "Near-duplicates ({count})").format(
            count=len(r.duplicates)))
        has = bool(self.decisions())
        self.save_button.setEnabled(has)
        self.apply_button.setEnabled(has)

    def shutdown(self) -> None:
        self.loader.shutdown()
