"""The one bridge between the training loop and Qt.

`TrainingWorker` lives in its own QThread and iterates `engine.training.loop.train(config,
control)`; every event the generator yields is re-emitted as a Qt signal, which Qt
queues to the GUI thread. The GUI thread never runs a training step. Stop, pause and
resume go through `engine.training.control.TrainControl` (thread-safe flags the loop checks every
step), so a thread is never killed: a stop makes the engine save the adapter and finish
with a normal RunFinished(status="stopped").
"""
from __future__ import annotations

import sys
import traceback
from typing import Callable, Iterator

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from engine.config import TrainConfig
from engine.training.control import TrainControl
from engine.events import (CheckpointSaved, EarlyStopped, Evaluation, Event, Log, Progress,
                           RunFinished, RunStarted, Step)
from gui.i18n import translate

SWITCH_INTERVAL_S = 0.001

# train_fn(config, control, dataset=DatasetIndex | None) -> events; engine.training.loop.train's shape.
TrainFn = Callable[..., Iterator[Event]]


def _engine_train(config: TrainConfig, control: TrainControl, dataset=None) -> Iterator[Event]:
    # Imported here, in the worker thread: engine.training.loop pulls in torch and transformers,
    # which must never delay the window.
    from engine.training.loop import train

    return train(config, control, dataset=dataset)


# Event type -> name of its convenience signal. Names, not bound signals: a dict of the
# worker's own signals would tie it in a reference cycle that only the cyclic garbage
# collector frees, possibly in another thread (which Qt objects do not survive).
TYPED_SIGNALS = {RunStarted: "run_started", Step: "step", Evaluation: "evaluation",
                 CheckpointSaved: "checkpoint_saved", EarlyStopped: "early_stopped", Log: "log",
                 Progress: "progress", RunFinished: "run_finished"}


def _describe(exc: BaseException) -> str:
    from engine.errors import UserError

    if isinstance(exc, UserError):  # already says what happened and what to do
        return str(exc)
    return translate("worker", "Training stopped with an unexpected error ({error}). The "
                     "log below has the details; please report it if it happens again.").format(
        error=f"{type(exc).__name__}: {exc}")


class TrainingWorker(QObject):
    """Runs one training run in its own QThread. Create it, connect, then call `start()`."""

    event_received = Signal(object)  # every event, in order
    run_started = Signal(object)  # RunStarted
    step = Signal(object)  # Step
    evaluation = Signal(object)  # Evaluation
    checkpoint_saved = Signal(object)  # CheckpointSaved
    early_stopped = Signal(object)  # EarlyStopped
    log = Signal(object)  # Log
    progress = Signal(object)  # Progress
    run_finished = Signal(object)  # RunFinished (exactly once per run)
    done = Signal()  # the loop has returned; the thread is about to end

    def __init__(self, config: TrainConfig, train_fn: TrainFn | None = None, dataset=None) -> None:
        """`dataset`: the DatasetIndex the user saw (with their display names), or None to
        let the engine scan config.data_dir itself."""
        super().__init__()
        self.config = config
        self.dataset = dataset
        self.control = TrainControl()
        self._train_fn = train_fn or _engine_train
        # The thread exists before start() so callers can connect to its finished signal
        # first: a run that fails at once could otherwise end before they connect.
        self._thread = QThread()
        self._thread.setObjectName("training")
        self.moveToThread(self._thread)
        self._thread.started.connect(self.run)
        # Direct: quit() is thread-safe, and a queued call would never run while the GUI
        # thread blocks in wait() (closing the window during a run).
        self.done.connect(self._thread.quit, Qt.ConnectionType.DirectConnection)
        self._finished_event: RunFinished | None = None
        self._run_dir = ""  # known once RunStarted arrives; failures report it

    # --- lifecycle (GUI thread) -----------------------------------------------------------
    def start(self) -> None:
        """Start the run in the worker's thread (connect to `thread_.finished` first)."""
        if self._thread.isRunning() or self._thread.isFinished():
            raise RuntimeError("a TrainingWorker runs once; create a new one for the next run")
        # The GUI thread hands the GIL back and forth on every Qt call while it paints; with
        # the default 5 ms switch interval each hand-back can wait 5 ms for the training
        # thread. 1 ms keeps repaints quick during a run and costs the loop nothing measurable.
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_S))
        self._thread.start()

    @property
    def thread_(self) -> QThread:
        """The QThread this worker runs in (its `finished` signal ends every run)."""
        return self._thread

    def is_running(self) -> bool:
        return self._thread.isRunning()

    def wait(self, ms: int = 60_000) -> bool:
        """Block until the thread has ended (only for shutdown and tests)."""
        return self._thread.wait(ms)

    # Called from the GUI thread directly (not through signals: the worker thread is busy
    # inside the loop and would only see a queued call after the run ends).
    def stop(self) -> None:
        self.control.stop()

    def pause(self) -> None:
        self.control.pause()

    def resume(self) -> None:
        self.control.resume()

    @property
    def paused(self) -> bool:
        return self.control.paused

    @property
    def stop_requested(self) -> bool:
        return self.control.stop_requested

    # --- the loop (worker thread) ---------------------------------------------------------
    @Slot()
    def run(self) -> None:
        try:
            from engine.libraries import ready

            ready()  # waits for the start-up imports instead of racing them (engine/libraries.py)
            for event in self._train_fn(self.config, self.control, dataset=self.dataset):
                self._emit(event)
                if isinstance(event, RunFinished):
                    break  # the engine promises this is the last event
        except BaseException as exc:  # noqa: BLE001 - a crash must reach the user, not vanish
            self._emit(Log(level="error", message="".join(traceback.format_exception(exc)).strip()))
            self._emit(RunFinished(status="failed", run_dir=self._run_dir, error=_describe(exc)))
        if self._finished_event is None:
            self._emit(RunFinished(status="failed", run_dir=self._run_dir,
                                   error=translate("TrainingWorker", "The training loop ended "
                                                   "without reporting a result.")))
        self.done.emit()

    def _emit(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self._run_dir = event.run_dir
        if isinstance(event, RunFinished):
            if self._finished_event is not None:
                return  # exactly one RunFinished reaches the GUI
            self._finished_event = event
        self.event_received.emit(event)
        name = TYPED_SIGNALS.get(type(event))
        if name is not None:
            getattr(self, name).emit(event)
