"""The Dataset tab's data check, start to end: run engine.review's check in a worker
thread, show the review page, save the decisions as a reviewed CSV dataset, or apply them
to the folder after the user confirmed the list of every move.

The GUI thread only moves results around: embeddings, the probe and cleanlab run in the
worker; the file moves are a handful of renames after an explicit yes.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from gui.engine_texts import engine_again
from gui.i18n import dynamic, translate
from gui.progress_text import staged
from gui.scan_worker import FunctionThread, keep_alive

MAX_LISTED_MOVES = 40  # the dialog's text; its details list every move
# What a save adds to the dataset's name; a dataset reviewed again keeps its first name.
REVIEWED_SUFFIX = re.compile(r"-reviewed-\d{4}-\d{2}-\d{2}-\d{6}(-\d+)?$")


def reviewed_csv_path(root: str, folder: Path, now: dt.datetime | None = None) -> Path:
    """<dataset>-reviewed-<time>.csv in `folder`, never an existing file: each save writes
    its own CSV, so a run trained on an earlier one keeps the dataset it recorded."""
    source = Path(root)
    stem = source.stem if source.suffix.lower() == ".csv" else source.name
    stem = REVIEWED_SUFFIX.sub("", stem) or "dataset"
    base = f"{stem}-reviewed-{(now or dt.datetime.now()):%Y-%m-%d-%H%M%S}"
    path, n = folder / f"{base}.csv", 1
    while path.exists():
        n += 1
        path = folder / f"{base}-{n}.csv"
    return path


def _stage_text(stage: str) -> str:
    """What the busy row says while the data check is at `stage` (called in the worker): the
    stage's words, whose {done} and {total} the row fills with each count."""
    from gui.progress_text import template

    return template(stage)


class ReviewFlow(QObject):
    """Signals: busy(str), progress(done, total), idle(), report_ready(report),
    message(str) for the tab's banner, dataset_saved(csv path), folder_changed()."""

    busy = Signal(str)
    progress = Signal(int, int)
    idle = Signal()
    report_ready = Signal(object)
    message = Signal(object)  # a str, or a gui.i18n.Tr that a language switch makes again
    dataset_saved = Signal(str)
    folder_changed = Signal()

    def __init__(self, parent: QWidget, model_ref: Callable[[], str]) -> None:
        super().__init__(parent)
        self._parent = parent
        self.model_ref = model_ref
        self.thread: FunctionThread | None = None
        self.index = None

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.isRunning()

    def start(self, index) -> None:
        """Check `index` (the dataset on screen) in the background."""
        if self.running or index is None:
            return
        self.index, model = index, self.model_ref()

        def work(report):
            # imported here, in the worker: engine.review.check imports torch, which the GUI
            # thread never does (and the thread has waited for the start-up imports)
            from engine.review.check import check_dataset

            progress = staged(report, self.busy.emit, _stage_text)

            return check_dataset(index.root, model_ref=model, index=index, progress=progress)

        self.thread = keep_alive(FunctionThread(
            work, translate("ReviewFlow", "checking the dataset"), self))
        self.thread.progress.connect(self.progress)
        self.thread.succeeded.connect(self._on_done)
        self.thread.failed.connect(self._on_failed)
        self.thread.cancelled.connect(self.idle)
        self.busy.emit(translate("ReviewFlow", "Checking labels and duplicates with "
                                 "{model}…").format(model=model))
        self.thread.start()

    def cancel(self) -> None:
        if self.thread is not None:
            self.thread.cancel()

    def _on_done(self, report) -> None:
        self.idle.emit()
        self.report_ready.emit(report)

    def _on_failed(self, text: str) -> None:
        self.idle.emit()
        self.message.emit(dynamic(lambda: translate(
            "ReviewFlow", "⚠ The data check could not run. {error}").format(
            error=engine_again(text))))

    # -- decisions -----------------------------------------------------------------------
    def save(self, decisions: dict) -> str:
        """Write the reviewed CSV (with the display names the dataset has now) into the app's
        data folder; returns its path, or "" when it could not be written (the reason goes to
        the banner, like Apply's)."""
        from engine.config import default_data_dir
        from engine.errors import UserError
        from engine.review.decisions import write_reviewed_csv

        try:
            path = write_reviewed_csv(self.index, decisions, reviewed_csv_path(
                self.index.root, default_data_dir() / "reviewed"))
        except (UserError, OSError) as exc:
            error = str(exc)
            self.message.emit(dynamic(lambda: translate(
                "ReviewFlow", "⚠ The reviewed dataset was not saved: {error}").format(
                error=engine_again(error))))
            return ""
        root = self.index.root
        self.dataset_saved.emit(str(path))  # opens it (a new scan clears the banner first)
        count = len(decisions)
        self.message.emit(dynamic(lambda: translate(
            "ReviewFlow", "Saved the reviewed dataset ({count} decisions) to {path}. It is now "
            "the dataset; your folder {root} is unchanged.").format(count=count, path=path,
                                                                    root=root)))
        return str(path)

    def apply(self, decisions: dict) -> int:
        """List the moves, ask, and make them; returns how many files moved."""
        from engine.errors import UserError
        from engine.review.decisions import apply_moves, plan_moves

        try:
            moves = plan_moves(self.index, decisions)
        except UserError as exc:
            error = str(exc)
            self.message.emit(dynamic(lambda: f"⚠ {engine_again(error)}"))
            return 0
        if not moves:
            self.message.emit(translate("ReviewFlow", "Nothing to move: every decision so far "
                                        "keeps an image where it is."))
            return 0
        if not self.confirm_moves(moves):
            return 0
        try:
            done = apply_moves(moves)
        except (UserError, OSError) as exc:
            error = str(exc)
            self.message.emit(dynamic(lambda: translate(
                "ReviewFlow", "⚠ Moving stopped: {error}").format(error=engine_again(error))))
            self.folder_changed.emit()
            return 0
        root = self.index.root
        self.folder_changed.emit()  # read again (a new scan clears the banner first)
        count = len(done)
        self.message.emit(dynamic(lambda: translate(
            "ReviewFlow", "Moved {count} files in {root} (excluded images went to "
            "{name}-excluded beside it).").format(count=count, root=root, name=Path(root).name)))
        return len(done)

    def confirm_moves(self, moves: list) -> bool:
        """Ask before touching the folder, listing every move (tests answer for the user)."""
        lines = [f"{m.source}  →  {m.target}  ({m.reason})" for m in moves]
        listed = "\n".join(lines[:MAX_LISTED_MOVES])
        if len(lines) > MAX_LISTED_MOVES:
            listed += "\n" + translate("ReviewFlow", "… and {count} more (see details)").format(
                count=len(lines) - MAX_LISTED_MOVES)
        text = translate("ReviewFlow", "This moves {count} files in your dataset folder:\n\n"
                         "{moves}\n\nNothing is deleted or overwritten.").format(
            count=len(moves), moves=listed)
        box = QMessageBox(QMessageBox.Icon.Question,
                          translate("ReviewFlow", "Apply the review to your folder?"), text,
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                          self._parent)
        box.setDetailedText("\n".join(lines))
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        return box.exec() == QMessageBox.StandardButton.Yes

    def shutdown(self) -> None:
        if self.thread is not None:
            self.thread.cancel()
            self.thread.wait()
