"""The Dataset tab's data check, start to end: run engine.review's check in a worker
thread, show the review page, save the decisions as a reviewed CSV dataset, or apply them
to the folder after the user confirmed the list of every move.

The GUI thread only moves results around: embeddings, the probe and cleanlab run in the
worker; the file moves are a handful of renames after an explicit yes.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from gui.scan_worker import FunctionThread, keep_alive

MAX_LISTED_MOVES = 40  # the dialog's text; its details list every move


class ReviewFlow(QObject):
    """Signals: busy(str), progress(done, total), idle(), report_ready(report),
    message(str) for the tab's banner, dataset_saved(csv path), folder_changed()."""

    busy = Signal(str)
    progress = Signal(int, int)
    idle = Signal()
    report_ready = Signal(object)
    message = Signal(str)
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
        from engine.review.check import check_dataset

        if self.running or index is None:
            return
        self.index, model = index, self.model_ref()
        stages = {"decode": "Decoding images", "embed": "Embedding images"}
        last = {"stage": ""}

        def work(report):
            def progress(stage: str, done: int, total: int) -> None:
                if stage != last["stage"]:
                    last["stage"] = stage
                    self.busy.emit(f"{stages.get(stage, 'Checking')} for the data check…")
                report(done, total)

            return check_dataset(index.root, model_ref=model, index=index, progress=progress)

        self.thread = keep_alive(FunctionThread(work, "checking the dataset", self))
        self.thread.progress.connect(self.progress)
        self.thread.succeeded.connect(self._on_done)
        self.thread.failed.connect(self._on_failed)
        self.thread.cancelled.connect(self.idle)
        self.busy.emit(f"Checking labels and duplicates with {model}…")
        self.thread.start()

    def cancel(self) -> None:
        if self.thread is not None:
            self.thread.cancel()

    def _on_done(self, report) -> None:
        self.idle.emit()
        self.report_ready.emit(report)

    def _on_failed(self, text: str) -> None:
        self.idle.emit()
        self.message.emit(f"⚠ The data check could not run. {text}")

    # -- decisions -----------------------------------------------------------------------
    def save(self, decisions: dict) -> str:
        """Write the reviewed CSV into the app's data folder; returns its path."""
        from engine.config import default_data_dir
        from engine.review.decisions import write_reviewed_csv

        stamp = dt.datetime.now().strftime("%Y-%m-%d-%H%M%S")
        name = f"{Path(self.index.root).name or 'dataset'}-reviewed-{stamp}.csv"
        path = write_reviewed_csv(self.index, decisions, default_data_dir() / "reviewed" / name)
        root = self.index.root
        self.dataset_saved.emit(str(path))  # opens it (a new scan clears the banner first)
        self.message.emit(f"Saved the reviewed dataset ({len(decisions)} decisions) to {path}. "
                          f"It is now the dataset; your folder {root} is unchanged.")
        return str(path)

    def apply(self, decisions: dict) -> int:
        """List the moves, ask, and make them; returns how many files moved."""
        from engine.errors import UserError
        from engine.review.decisions import apply_moves, plan_moves

        try:
            moves = plan_moves(self.index, decisions)
        except UserError as exc:
            self.message.emit(f"⚠ {exc}")
            return 0
        if not moves:
            self.message.emit("Nothing to move: every decision so far keeps an image where it is.")
            return 0
        if not self.confirm_moves(moves):
            return 0
        try:
            done = apply_moves(moves)
        except (UserError, OSError) as exc:
            self.message.emit(f"⚠ Moving stopped: {exc}")
            self.folder_changed.emit()
            return 0
        root = self.index.root
        self.folder_changed.emit()  # read again (a new scan clears the banner first)
        self.message.emit(f"Moved {len(done)} files in {root} (excluded images went to "
                          f"{Path(root).name}-excluded beside it).")
        return len(done)

    def confirm_moves(self, moves: list) -> bool:
        """Ask before touching the folder, listing every move (tests answer for the user)."""
        lines = [f"{m.source}  →  {m.target}  ({m.reason})" for m in moves]
        box = QMessageBox(QMessageBox.Icon.Question, "Apply the review to your folder?",
                          f"This moves {len(moves)} files in your dataset folder:\n\n"
                          + "\n".join(lines[:MAX_LISTED_MOVES])
                          + (f"\n… and {len(lines) - MAX_LISTED_MOVES} more (see details)"
                             if len(lines) > MAX_LISTED_MOVES else "")
                          + "\n\nNothing is deleted or overwritten.",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                          self._parent)
        box.setDetailedText("\n".join(lines))
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        return box.exec() == QMessageBox.StandardButton.Yes

    def shutdown(self) -> None:
        if self.thread is not None:
            self.thread.cancel()
            self.thread.wait()
