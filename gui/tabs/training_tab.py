"""Tab 3 — Training: start/pause/resume/stop, progress, live curves, the log, the result.

The run itself happens in gui.worker.TrainingWorker (its own QThread); this tab only
reacts to the events it re-emits. Text and progress bar updates are throttled like the
plots, so a fast loop never floods the GUI thread.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QT_TRANSLATE_NOOP, Qt, QTimer, Signal
from PySide6.QtWidgets import QMessageBox, QSplitter, QTabWidget, QVBoxLayout, QWidget

from engine.config import TrainConfig
from engine.events import Evaluation, Event, Progress, RunFinished, RunStarted, Step
from gui import format as fmt
from gui.event_text import log_line
from gui.errors import on_action
from gui.i18n import translate
from gui.progress_text import stage_line
from gui.readiness import dataset_readiness, dataset_text, go_to_text
from gui.settings import Settings
from gui.widgets.banner import Banner
from gui.widgets.evaluation_view import EvaluationView
from gui.widgets.log_pane import LogPane
from gui.widgets.plots import TrainingPlots, history_before, start_accuracy
from gui.widgets.run_controls import RunControls
from gui.widgets.run_history import RunHistory
from gui.widgets.run_summary import RunSummaryCard
from gui.worker import TrainFn, TrainingWorker

TEXT_REFRESH_MS = 100
# The one-line status after a run ends.
ENDED = {"completed": QT_TRANSLATE_NOOP("TrainingTab", "Completed."),
         "stopped": QT_TRANSLATE_NOOP("TrainingTab", "Stopped."),
         "failed": QT_TRANSLATE_NOOP("TrainingTab", "Failed."),
         "interrupted": QT_TRANSLATE_NOOP("TrainingTab", "Interrupted.")}


class TrainingTab(QWidget):
    state_changed = Signal(str)
    run_started = Signal(str)  # run_dir
    run_finished = Signal(str, str)  # run_dir, status — after the worker thread has ended
    status_message = Signal(str)
    prediction_requested = Signal(str)  # run_dir ("Try it in Prediction")
    navigate_requested = Signal(str)  # "dataset" | "config": the banner's button
    controls_changed = Signal()  # which of start/pause/resume/stop is possible changed

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.train_fn: TrainFn | None = None  # tests inject a fake engine here
        self.worker: TrainingWorker | None = None
        self._previous_worker: TrainingWorker | None = None
        self.started: RunStarted | None = None
        self.finished: RunFinished | None = None
        self.zero_shot: float | None = None
        self.error_dialog: QMessageBox | None = None
        self._provider: Callable[[], TrainConfig | None] = lambda: None
        self._dataset_provider: Callable[[], object] = lambda: None
        self._blocker = (dataset_text(dataset_readiness(None)), "dataset")
        self._last_step: Step | None = None
        self._stage = ""  # the words (and counts) of the stage now running, "" between stages
        self._count: tuple[int, int] | None = None  # its (done, total) before the first step
        self._history: list[Event] = []  # a continued run's metrics.jsonl, read at its start
        self._text_timer = QTimer(self)
        self._text_timer.setInterval(TEXT_REFRESH_MS)
        self._text_timer.timeout.connect(self._on_text_timer_timeout)
        self._build()
        self._update_buttons()

    def _build(self) -> None:
        self.controls = RunControls()
        c = self.controls
        self.start_button, self.pause_button = c.start_button, c.pause_button
        self.resume_button, self.stop_button = c.resume_button, c.stop_button
        self.stats, self.progress = c.stats, c.progress
        for button, slot in ((self.start_button, lambda: self.start()),
                             (self.pause_button, self.pause), (self.resume_button, self.resume),
                             (self.stop_button, self.stop)):
            button.clicked.connect(on_action(button, slot))
        self.banner = Banner(self._blocker[0], go_to_text("dataset"))  # what blocks a run
        self.banner.action.clicked.connect(lambda: self.navigate_requested.emit(self._blocker[1]))
        self.summary = RunSummaryCard()
        self.summary.hide()
        self.summary.evaluation_requested.connect(on_action(self.summary.evaluate_button,
                                                            self.open_evaluation))
        self.summary.prediction_requested.connect(self.prediction_requested)
        self.summary.continue_requested.connect(on_action(self.summary.continue_button,
                                                          self.continue_run))
        self.plots = TrainingPlots()
        self.evaluation = EvaluationView()
        self.pages = QTabWidget()
        self.pages.setDocumentMode(True)
        self.pages.addTab(self.plots, translate("TrainingTab", "Curves"))
        self.pages.addTab(self.evaluation, translate("TrainingTab", "Evaluation"))
        self.history = RunHistory()
        self.run_started.connect(self.history.set_current)  # not an "earlier" run
        self.history.comparison_toggled.connect(on_action(
            self.history.list, self._on_history_comparison_toggled,
            translate("TrainingTab", "Compare runs")))
        self.history.open_requested.connect(on_action(
            self.history.list, self.show_run, translate("TrainingTab", "Open a run")))
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.pages)
        splitter.addWidget(self.history)
        splitter.setStretchFactor(0, 5)
        splitter.setStretchFactor(1, 1)
        self.log = LogPane()
        layout = QVBoxLayout(self)
        layout.setSpacing(8)
        layout.addWidget(self.banner)
        layout.addWidget(self.controls)
        layout.addWidget(self.summary)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.log)

    # --- wiring from the main window -----------------------------------------------------
    def set_config_provider(self, provider: Callable[[], TrainConfig | None]) -> None:
        self._provider = provider

    def set_dataset_provider(self, provider: Callable[[], object]) -> None:
        """Where the DatasetIndex shown in step 1 comes from (it carries the display names)."""
        self._dataset_provider = provider

    def _dataset_for(self, config: TrainConfig):
        """The scanned index to train on, if it matches the config (else the engine scans)."""
        index = self._dataset_provider()
        if index is None or config.resume_from:
            return None  # a resumed run reuses its own split.json
        same = Path(index.root).resolve() == Path(config.data_dir).resolve() if config.data_dir else False
        return index if same else None

    def set_blocker(self, text: str, step: str = "") -> None:
        """What stops a run from starting ("" = nothing): shown with a button to that step."""
        self._blocker = (text, step)
        if step:
            self.banner.action.setText(go_to_text(step))
        self.banner.action.setVisible(bool(step))
        self.banner.show_state(text)  # stays hidden if the user closed this very text
        if self.is_running():
            self.banner.hide()
        self._update_buttons()

    def set_runs_root(self, root: str) -> None:
        self.history.refresh(root)

    # --- run control ----------------------------------------------------------------------
    def is_running(self) -> bool:
        return self.worker is not None

    def phase(self) -> str:
        if self.worker is None:
            return "idle"
        if self.worker.stop_requested:
            return "stopping"
        return "paused" if self.worker.paused else "running"

    def start(self, config: TrainConfig | None = None) -> bool:
        """Start a run with `config` (default: the config tab's). False if nothing started.

        A config that continues a run (the Config tab's "Continue run") goes through the same
        Continue training dialog as the button: a resumed run keeps its own settings."""
        if self.is_running():
            return False
        config = config or self._provider()
        if config is None:
            self.banner.setVisible(True)
            return False
        if config.resume_from:
            return self.continue_run(config.resume_from)
        return self._start(config)

    def _start(self, config: TrainConfig) -> bool:
        self.started, self.finished, self.zero_shot, self._last_step = None, None, None, None
        self._stage, self._count = translate("TrainingTab", "Preparing…"), None
        self._history = _history(config)
        self.plots.reset()
        self.summary.hide()
        self.log.clear()
        self.pages.setCurrentWidget(self.plots)
        self.controls.set_busy()  # until the engine knows the number of steps
        if self._previous_worker is not None:  # delete its Qt objects here, in the GUI thread
            self._previous_worker.thread_.deleteLater()
            self._previous_worker.deleteLater()
            self._previous_worker = None
        try:
            self.worker = TrainingWorker(config, self.train_fn, dataset=self._dataset_for(config))
            self.worker.event_received.connect(self._on_worker_event_received)
            self.worker.thread_.finished.connect(self._on_thread_finished)
            self.worker.start()
        except BaseException:  # nothing runs: Start stays possible (gui.errors reports it)
            self.worker = None
            self.controls.set_steps(0, 1)
            self._update_buttons()
            raise
        self.banner.hide()
        self._text_timer.start()
        self._update_buttons()
        self.state_changed.emit("running")
        return True

    def continue_run(self, run_dir: str) -> bool:
        """Resume a run from its last checkpoint: the dialog asks how long it trains on (the
        rest stays the run's own, engine/training/resume.py); True when it opened."""
        from engine.runs import read_run
        from engine.training.resume import stored_config
        from gui.widgets.continue_dialog import ContinueDialog

        if self.is_running():
            return False
        stored = stored_config(Path(run_dir))  # not a run, no checkpoint: a plain UserError
        dialog = ContinueDialog(run_dir, stored, read_run(run_dir).get("status", ""), self)
        self.continue_dialog = dialog
        dialog.accepted.connect(on_action(dialog, lambda: self._start(
            self._resume_request(run_dir, dialog.changes()))))
        dialog.open()
        return True

    def _resume_request(self, run_dir: str, changes: dict) -> TrainConfig:
        """The run's own settings, this machine's from the Config tab, the dialog's length."""
        from engine.training.resume import MACHINE, resume_request

        here = self._provider() or TrainConfig()
        return resume_request(run_dir, **{name: getattr(here, name) for name in MACHINE},
                              **changes)

    def pause(self) -> None:
        if self.worker is not None:
            self.worker.pause()
            self.log.append(translate("TrainingTab", "Paused (the current step finishes first)."))
            self._update_buttons()

    def resume(self) -> None:
        if self.worker is not None:
            self.worker.resume()
            self.log.append(translate("TrainingTab", "Resumed."))
            self._update_buttons()

    def stop(self) -> None:
        if self.worker is not None and not self.worker.stop_requested:
            self.worker.stop()
            self.log.append(translate("TrainingTab", "Stopping: saving the model trained so far…"))
            self._update_buttons()
            self._refresh_text()

    def wait_for_worker(self, ms: int = 120_000) -> bool:
        """Block until the worker thread ends (window closing); True if it did."""
        return self.worker is None or self.worker.wait(ms)

    def _update_buttons(self) -> None:
        self.controls.set_phase(self.phase(), can_start=not self._blocker[0])
        self.controls_changed.emit()

    # --- events from the worker -------------------------------------------------------------
    def _on_worker_event_received(self, ev: Event) -> None:
        if self.sender() is not self.worker:
            return
        self.plots.add_event(ev)
        line = log_line(ev)
        if line is not None:
            self.log.append(*line)
        if isinstance(ev, Progress):  # text and bar follow on the next timer tick
            self._stage = stage_line(ev.stage, ev.done, ev.total, ev.message)
            self._count = (ev.done, ev.total)
            return
        self._stage, self._count = "", None  # any other event: the stage before it has ended
        if isinstance(ev, Step):
            self._last_step = ev  # text and bar follow on the next timer tick
        elif isinstance(ev, RunStarted):
            self.started = ev
            self.controls.set_steps(ev.start_step, ev.total_steps)
            if self._history:  # continued: the curves so far, then the new points
                past = history_before(self._history, ev.start_step)
                self.plots.add_events(past)
                self.zero_shot = start_accuracy(past)
            self.run_started.emit(ev.run_dir)
        elif isinstance(ev, Evaluation) and ev.split == "val" and (ev.zero_shot or ev.epoch == 0):
            self.zero_shot = ev.accuracy
        elif isinstance(ev, RunFinished):
            self.finished = ev

    def _on_thread_finished(self) -> None:
        finished = self.finished
        # Keep the finished worker (and its QThread) alive until the next run: this slot is
        # called by that thread's own signal, and deleting a sender inside it is unsafe.
        self._previous_worker, self.worker = self.worker, None
        self._text_timer.stop()
        self._stage, self._count = "", None
        self.plots.flush()
        if finished is None:  # cannot happen (the worker guarantees one); stay safe
            finished = RunFinished(status="failed", run_dir="", error=translate(
                "TrainingTab", "The run ended without a result."))
        self.summary.show_result(finished, zero_shot=self.zero_shot)
        reached = self._reached()
        self.stats.setText(self._ended_text(finished.status, reached))
        if finished.status == "completed":
            self.controls.set_steps(1, 1)
        elif reached is not None:  # stopped or failed: the bar stays where the run got to
            self.controls.set_steps(reached, self.started.total_steps)
        elif self.controls.is_busy():  # ended before anything was counted: no moving bar
            self.controls.set_steps(0, 1)
        self._update_buttons()
        self.banner.show_state(self._blocker[0])
        self.history.refresh(exclude=finished.run_dir)
        if finished.status == "failed":
            self._show_failure(finished)
        self.status_message.emit(self.status_text())
        self.state_changed.emit("attention" if finished.status == "failed" else "done")
        self.run_finished.emit(finished.run_dir, finished.status)

    def _show_failure(self, finished: RunFinished) -> None:
        self.log.set_expanded(True)
        box = QMessageBox(QMessageBox.Icon.Critical, translate("TrainingTab", "Training failed"),
                          finished.error or translate("TrainingTab", "Training failed without a "
                                                      "message."),
                          QMessageBox.StandardButton.Ok, self)
        box.setInformativeText(translate("TrainingTab", "The log below the curves has the details. "
                                         "Fix the problem and press Start training again."))
        box.open()  # not exec(): the app keeps running, nothing waits on the dialog
        self.error_dialog = box

    # --- text ---------------------------------------------------------------------------------
    def _on_text_timer_timeout(self) -> None:
        self._refresh_text()

    def _refresh_text(self) -> None:
        text = self.status_text()
        self.stats.setText(text)
        if self.started is None:  # before the steps the bar counts the stage, if it can
            if self._count is not None and self._count[1] > 0:
                self.controls.set_steps(*self._count)
            else:
                self.controls.set_busy()
        elif self._last_step is not None:  # one source: the step the text shows
            self.controls.set_steps(self._last_step.step, self.started.total_steps)
        self.status_message.emit(text)

    def status_text(self) -> str:
        text = fmt.run_progress(self.phase(), self.started, self._last_step, self._stage,
                                self.finished)
        if self._stage and self._last_step is not None and self.is_running():
            return translate("TrainingTab", "{stage} · {progress}").format(stage=self._stage,
                                                                         progress=text)
        return text

    def _reached(self) -> int | None:
        """The last step the run got to (None before it started its steps)."""
        if self.started is None:
            return None
        return self._last_step.step if self._last_step is not None else self.started.start_step

    def _ended_text(self, status: str, reached: int | None) -> str:
        """'Stopped. At step 94 of 310 (30 %).': where a run that did not complete got to,
        the number the bar keeps showing."""
        ended = translate("TrainingTab", ENDED[status]) if status in ENDED else \
            f"{status.capitalize()}."
        if status == "completed" or reached is None:
            return ended
        total = self.started.total_steps
        return translate("TrainingTab", "{ended} At step {step} of {total} ({share}).").format(
            ended=ended, step=reached, total=total, share=fmt.share_text(reached, total))

    # --- finished runs ---------------------------------------------------------------------------
    def open_evaluation(self, run_dir: str) -> None:
        self.pages.setCurrentWidget(self.evaluation)
        self.evaluation.evaluate(run_dir)

    def show_run(self, run_dir: str) -> None:
        """Show a finished run's curves and result card (File > Open run, history double-click)."""
        from engine.runs import read_metrics

        if self.is_running():
            return
        events = read_metrics(run_dir)
        self.plots.load_events(events)
        finished = next((e for e in reversed(events) if isinstance(e, RunFinished)), None)
        if finished is None:
            finished = _interrupted(run_dir)
        elif finished.run_dir != run_dir:  # the folder was moved or copied since: this one
            finished = dataclasses.replace(finished, run_dir=run_dir)
        zero = start_accuracy(events)  # the step-0 point, zero-shot or not
        if finished is not None:
            self.finished, self.zero_shot = finished, zero
            self.summary.show_result(finished, zero_shot=zero)
        self.evaluation.set_run(run_dir)
        self.pages.setCurrentWidget(self.plots)

    def open_run_for_comparison(self, run_dir: str) -> None:
        if not self.history.set_checked(run_dir, True):
            self._on_history_comparison_toggled(run_dir, True)

    def _on_history_comparison_toggled(self, run_dir: str, shown: bool) -> None:
        from engine.runs import read_metrics

        self.plots.clear_comparisons()
        wanted = set(self.history.checked())
        if shown:
            wanted.add(run_dir)
        else:
            wanted.discard(run_dir)
        for path in sorted(wanted):
            self.plots.add_comparison(Path(path).name, read_metrics(path))
        self.plots.flush()

    def shutdown(self) -> None:
        self.evaluation.shutdown()


def _history(config: TrainConfig) -> list[Event]:
    """The events of the run `config` continues (its curves so far), or [] for a new run."""
    from engine.runs import read_metrics

    return read_metrics(config.resume_from) if config.resume_from else []


def _interrupted(run_dir: str) -> RunFinished | None:
    """A result card for a run whose process died mid-run (no RunFinished was written)."""
    from engine.runs import effective_status, read_run

    try:
        meta = read_run(run_dir)
    except (OSError, ValueError):
        return None
    if effective_status(meta) != "interrupted":
        return None
    best = meta.get("best") or {}  # what the run had published before it died
    return RunFinished(status="interrupted", run_dir=run_dir,
                       best_val_accuracy=best.get("val_accuracy"), best_epoch=best.get("epoch"))
