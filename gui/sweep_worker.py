"""The sweep's bridge to Qt: iterates engine.sweep.runner.run_sweep in its own QThread and
re-emits every event as a signal (queued to the GUI thread). Stop goes through the
TrainControl the runner checks: the running trial saves and ends, nothing is killed."""
from __future__ import annotations

import traceback

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from engine.training.control import TrainControl


class SweepWorker(QObject):
    event_received = Signal(object)  # SweepStarted / TrialUpdate / SweepNote / SweepFinished
    done = Signal()  # the sweep has returned; the thread is about to end

    def __init__(self, spec, dataset=None, train_fn=None) -> None:
        super().__init__()
        self.spec, self.dataset, self.train_fn = spec, dataset, train_fn
        self.control = TrainControl()
        self._thread = QThread()
        self._thread.setObjectName("sweep")
        self.moveToThread(self._thread)
        self._thread.started.connect(self.run)
        self.done.connect(self._thread.quit, Qt.ConnectionType.DirectConnection)

    @property
    def thread_(self) -> QThread:
        return self._thread

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:  # from the GUI thread: a flag the runner reads
        self.control.stop()

    def is_running(self) -> bool:
        return self._thread.isRunning()

    def wait(self, ms: int = 120_000) -> bool:
        return self._thread.wait(ms)

    @Slot()
    def run(self) -> None:
        from engine.sweep.events import SweepFinished, SweepNote

        finished = False
        try:
            from engine.libraries import ready
            from engine.sweep.runner import run_sweep

            ready()  # the start-up imports first (engine/libraries.py)
            for event in run_sweep(self.spec, self.control, dataset=self.dataset,
                                   train_fn=self.train_fn):
                self.event_received.emit(event)
                finished = finished or event.kind == "sweep_finished"
        except BaseException as exc:  # noqa: BLE001 - reaches the dialog, in words
            self.event_received.emit(SweepNote(level="error", message="".join(
                traceback.format_exception(exc)).strip()))
            self.event_received.emit(SweepFinished(reason="failed", folder=str(self.spec.folder),
                                                   error=f"{type(exc).__name__}: {exc}"))
            finished = True
        if not finished:
            self.event_received.emit(SweepFinished(reason="failed", folder=str(self.spec.folder),
                                                   error="the sweep ended without a result"))
        self.done.emit()
