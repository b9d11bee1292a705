"""Background work for the dataset tab: scanning a folder, creating the demo dataset.

A 20,000-image folder takes seconds to verify, so the scan never runs on the GUI thread.
Each job runs in its own short-lived QThread; a newer job supersedes an older one (its
results are dropped), and cancelling makes the scan's progress callback raise, which
unwinds scan_dataset cleanly without killing the thread.
"""
from __future__ import annotations

import threading
from typing import Any, Callable

from PySide6.QtCore import QObject, QThread, Signal, Slot

from gui.i18n import translate


# Every running thread stays referenced here until it has ended: a QThread object that
# Python collects while its thread still runs would abort the whole process.
_LIVE_THREADS: set["FunctionThread"] = set()


def keep_alive(thread: "FunctionThread") -> "FunctionThread":
    """Hold a reference to `thread` until it has ended (see _LIVE_THREADS)."""
    _LIVE_THREADS.add(thread)
    thread.finished.connect(lambda: _LIVE_THREADS.discard(thread))
    return thread


class _Cancelled(Exception):
    """Raised inside the worker thread to unwind a scan the user cancelled."""


def describe_error(exc: BaseException, doing: str) -> str:
    """A plain message: UserErrors already explain themselves; anything else is a bug, whose
    traceback goes to the log file (gui.errors) that the message names.

    `doing` is a translated phrase ("scanning {source}") that the message puts in a sentence.
    """
    from engine.errors import UserError

    if isinstance(exc, UserError):
        return str(exc)
    if isinstance(exc, OSError):  # disk full, no permission, folder gone: not a bug
        if exc.filename:
            return translate("ScanWorker", "The system refused while {doing}: {error} ({file}). "
                             "Check that the folder exists, that you may write to it and that "
                             "the disk has space, then try again.").format(
                doing=doing, error=exc.strerror or exc, file=exc.filename)
        return translate("ScanWorker", "The system refused while {doing}: {error}. Check that the "
                         "folder exists, that you may write to it and that the disk has space, "
                         "then try again.").format(doing=doing, error=exc.strerror or exc)
    # the traceback goes to the log file, never into the window
    from gui.errors import details_text, write_log

    return translate("ScanWorker", "Something went wrong while {doing}: {kind}: {error}. This is "
                     "probably a bug in LoRA Studio; please report it. {details}").format(
        doing=doing, kind=type(exc).__name__, error=exc,
        details=details_text(write_log(exc, doing)))


class FunctionThread(QThread):
    """Runs `fn(progress)` once in a worker thread and reports the outcome by signal.

    `progress(done, total)` may be called from `fn`; it raises _Cancelled after cancel().
    `needs`: the stage of engine.libraries that must be imported before `fn` runs ("all",
    the default, for anything that touches a model; "torch"; None for jobs that import
    neither, such as scanning a folder). The thread waits for that stage, so its first
    engine call never races the start-up imports (engine/libraries.py says why).
    """

    progress = Signal(int, int)
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, fn: Callable[[Callable[[int, int], None]], Any], doing: str,
                 parent: QObject | None = None, *, needs: str | None = "all") -> None:
        super().__init__(parent)
        self._fn = fn
        self._needs = needs
        self._doing = doing
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    def _report(self, done: int, total: int) -> None:
        if self._cancel.is_set():
            raise _Cancelled()
        self.progress.emit(int(done), int(total))

    def run(self) -> None:  # runs in the worker thread
        try:
            if self._needs:
                from engine.libraries import ready

                ready(self._needs)
            result = self._fn(self._report)
        except _Cancelled:
            self.cancelled.emit()
        except BaseException as exc:  # noqa: BLE001 - reported to the user, never lost
            self.failed.emit(describe_error(exc, self._doing))
        else:
            if self._cancel.is_set():
                self.cancelled.emit()
            else:
                self.succeeded.emit(result)


class DatasetScanner(QObject):
    """Runs engine.data.index.scan_dataset off the GUI thread; only the newest job reports.

    Signals: started(source), progress(done, total), finished(DatasetIndex),
    failed(message), cancelled().
    """

    started = Signal(str)
    progress = Signal(int, int)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._current: FunctionThread | None = None
        self._threads: set[FunctionThread] = set()

    @property
    def busy(self) -> bool:
        return self._current is not None

    def scan(self, source: str, *, val_fraction: float = 0.15, test_fraction: float = 0.15,
             seed: int = 42) -> None:
        def job(progress: Callable[[int, int], None]):
            from engine.data.index import scan_dataset

            return scan_dataset(source, val_fraction=val_fraction, test_fraction=test_fraction,
                                seed=seed, progress=progress)

        self._start(job, translate("DatasetScanner", "scanning {source}").format(source=source),
                    source)

    def make_demo(self, target: str) -> None:
        """Generate the demo dataset in `target`, then scan it (finished carries the index)."""
        def job(progress: Callable[[int, int], None]):
            from engine.data.index import scan_dataset
            from engine.demo.dataset import make_demo_dataset

            progress(0, 0)
            make_demo_dataset(target)
            return scan_dataset(target, progress=progress)

        self._start(job, translate("DatasetScanner", "creating the demo dataset in "
                                   "{target}").format(target=target), target)

    def cancel(self) -> None:
        if self._current is not None:
            self._current.cancel()

    def wait(self, ms: int = 10_000) -> None:
        """Block until every job has ended (used when the window closes, and by tests)."""
        for thread in list(self._threads):
            thread.cancel()
            thread.wait(ms)

    def _start(self, job: Callable, doing: str, source: str) -> None:
        if self._current is not None:
            self._current.cancel()  # superseded: its results will be ignored
        # Scanning and the demo dataset use PIL and numpy only (a test checks it): a scan
        # started at once after the window opens need not wait for torch and transformers.
        thread = FunctionThread(job, doing, needs=None)
        self._current = thread
        self._threads.add(thread)
        _LIVE_THREADS.add(thread)
        # Bound methods of this GUI-thread object make the connections queued; stale jobs
        # are recognised through sender() and ignored.
        thread.progress.connect(self._on_progress)
        thread.succeeded.connect(self._on_succeeded)
        thread.failed.connect(self._on_failed)
        thread.cancelled.connect(self._on_cancelled)
        thread.finished.connect(self._on_thread_finished)
        self.started.emit(source)
        thread.start()

    def _is_current(self) -> bool:
        return self._current is not None and self.sender() is self._current

    @Slot(int, int)
    def _on_progress(self, done: int, total: int) -> None:
        if self._is_current():
            self.progress.emit(done, total)

    @Slot(object)
    def _on_succeeded(self, index) -> None:
        if self._is_current():
            self._current = None
            self.finished.emit(index)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        if self._is_current():
            self._current = None
            self.failed.emit(message)

    @Slot()
    def _on_cancelled(self) -> None:
        if self._is_current():
            self._current = None
            self.cancelled.emit()

    @Slot()
    def _on_thread_finished(self) -> None:
        thread = self.sender()
        self._threads.discard(thread)
        _LIVE_THREADS.discard(thread)
