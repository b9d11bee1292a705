"""Prediction off the GUI thread: a worker QObject living in its own QThread.

`PredictionService` (GUI thread) is what the prediction tab talks to. It forwards
requests to the worker through queued signals, so jobs run one after another in the
worker thread: dropping more images while a folder is being predicted simply queues
them. Work is done in chunks so results appear progressively and a cancel takes effect
within one chunk. Every request carries a job id; cancel() marks all ids issued so far
as cancelled, and the worker checks that between chunks (no thread is ever killed).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, QThread, Signal, Slot

from gui.i18n import translate
from gui.scan_worker import describe_error
from gui.widgets.thumbnails import pil_to_qimage

CHUNK = 16  # images per predict() call: small enough for a prompt cancel on CPU
HEAT_SIZE = 160  # px of a heat-map overlay (the list shows it at thumbnail size)


@dataclass
class _Shared:
    """State both threads read; single int/str assignments are atomic under the GIL."""

    cancel_below: int = 0
    backend: str = "auto"  # engine.use.backends: what computes the next loaded run
    # held while the predictor computes: the live page's classifier shares it, and an
    # OpenVINO predictor has one infer request, which two threads must not use at once
    lock: threading.Lock = field(default_factory=threading.Lock)
    tta: str = "off"  # engine.use.tta: the test-time augmentation of the next loaded run


def problem_text(problem) -> tuple[str, str]:
    """(path, reason) from whatever expand_inputs reports (Problem or tuple)."""
    if isinstance(problem, (tuple, list)):
        return str(problem[0]), str(problem[1])
    return str(getattr(problem, "path", "")), str(getattr(problem, "reason", problem))


class PredictionWorker(QObject):
    loaded = Signal(str, list)  # run_dir, class names
    load_failed = Signal(str, str)  # run_dir, message
    job_started = Signal(int, int)  # job id, number of inputs
    job_progress = Signal(int, int, int)  # job id, done, total
    job_results = Signal(int, list)  # job id, [Prediction]
    job_finished = Signal(int, str, str)  # job id, "completed"|"cancelled"|"failed", message
    explained = Signal(dict)  # path -> QImage of its heat map (Grad-CAM overlay)
    explain_failed = Signal(str)

    def __init__(self, shared: _Shared) -> None:
        super().__init__()
        self._shared = shared
        self._predictor = None
        self._explainer = None  # a torch Predictor for heat maps when an ONNX backend predicts

    @Slot(str)
    def load(self, run_dir: str) -> None:
        try:
            from engine.libraries import ready

            ready()  # waits for the start-up imports instead of racing them (engine/libraries.py)
            from engine.use.backends import open_predictor

            predictor = open_predictor(run_dir, self._shared.backend, tta=self._shared.tta)
        except BaseException as exc:  # noqa: BLE001 - shown to the user
            doing = translate("PredictionWorker", "loading the model in {run_dir}").format(
                run_dir=run_dir)
            self.load_failed.emit(run_dir, describe_error(exc, doing))
            return
        self._predictor = predictor
        self._explainer = None
        self.loaded.emit(run_dir, list(predictor.class_names))

    @Slot(int, list, int)
    def predict(self, job: int, inputs: list, top_k: int) -> None:
        if job < self._shared.cancel_below:
            self.job_finished.emit(job, "cancelled", "")
            return
        if self._predictor is None:
            self.job_finished.emit(job, "failed", translate(
                "PredictionWorker", "No model is loaded. Choose a trained run above (or open "
                "a run folder), then add the images again."))
            return
        try:
            self._run(job, inputs, top_k)
        except BaseException as exc:  # noqa: BLE001 - shown to the user
            self.job_finished.emit(job, "failed", describe_error(
                exc, translate("PredictionWorker", "predicting")))

    @Slot(int, list)
    def explain(self, job: int, paths: list) -> None:
        """Heat maps of `paths` (already predicted files), a chunk at a time."""
        if self._predictor is None:
            return
        try:
            from engine.use.explain import explain, overlay

            for start in range(0, len(paths), CHUNK):
                if job < self._shared.cancel_below:
                    return
                chunk = paths[start:start + CHUNK]
                images = {e.source: pil_to_qimage(overlay(e, size=HEAT_SIZE))
                          for e in explain(self._heat_map_predictor(), chunk)}
                self.explained.emit(images)
        except BaseException as exc:  # noqa: BLE001 - shown to the user
            self.explain_failed.emit(describe_error(
                exc, translate("PredictionWorker", "drawing heat maps")))

    def _heat_map_predictor(self):
        """Heat maps need torch's gradients: an ONNX backend's run is also loaded in torch."""
        if self._predictor.model is not None:
            return self._predictor
        if self._explainer is None:
            from engine.use.predict import Predictor

            self._explainer = Predictor(self._predictor.run_dir)
        return self._explainer

    def _run(self, job: int, inputs: list, top_k: int) -> None:
        from engine.use.predict import Prediction, expand_inputs

        images, problems = expand_inputs(inputs)
        self.job_started.emit(job, len(images) + len(problems))
        # Files that are not images become per-file messages; the rest still runs.
        skipped = [Prediction(source=p, top=[], error=r) for p, r in map(problem_text, problems)]
        if skipped:
            self.job_results.emit(job, skipped)
        done, total = len(skipped), len(images) + len(skipped)
        self.job_progress.emit(job, done, total)
        for start in range(0, len(images), CHUNK):
            if job < self._shared.cancel_below:
                self.job_finished.emit(job, "cancelled", "")
                return
            chunk = images[start:start + CHUNK]
            with self._shared.lock:
                results = self._predictor.predict(chunk, top_k=top_k, batch_size=CHUNK)
            done += len(chunk)
            self.job_results.emit(job, list(results))
            self.job_progress.emit(job, done, total)
        self.job_finished.emit(job, "completed", "")


class PredictionService(QObject):
    """GUI-thread facade. Signals:
    run_loaded(run_dir, class_names), run_failed(run_dir, message),
    progress(done, total) summed over queued jobs, results_ready(list[Prediction]),
    idle(status, message) once nothing is queued ("completed"|"cancelled"|"failed").
    """

    run_loaded = Signal(str, list)
    run_failed = Signal(str, str)
    progress = Signal(int, int)
    results_ready = Signal(list)
    idle = Signal(str, str)
    explained = Signal(dict)  # path -> QImage
    explain_failed = Signal(str)

    _load_requested = Signal(str)
    _predict_requested = Signal(int, list, int)
    _explain_requested = Signal(int, list)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._shared = _Shared()
        self._next_job = 0
        self._jobs: dict[int, tuple[int, int]] = {}  # job -> (done, total)
        self._outcome = ("completed", "")
        self._thread = QThread()
        self._thread.setObjectName("prediction")
        self._worker = PredictionWorker(self._shared)
        self._worker.moveToThread(self._thread)
        self._load_requested.connect(self._worker.load)
        self._predict_requested.connect(self._worker.predict)
        self._explain_requested.connect(self._worker.explain)
        self._worker.explained.connect(self.explained)
        self._worker.explain_failed.connect(self.explain_failed)
        self._worker.loaded.connect(self.run_loaded)
        self._worker.load_failed.connect(self.run_failed)
        self._worker.job_started.connect(self._on_job_progress_start)
        self._worker.job_progress.connect(self._on_job_progress)
        self._worker.job_results.connect(self._on_job_results)
        self._worker.job_finished.connect(self._on_job_finished)
        self._thread.start()

    @property
    def busy(self) -> bool:
        return bool(self._jobs)

    @property
    def predictor(self):
        """The loaded run's predictor (None before one loads); the live page's classifier
        thread calls it between the jobs here."""
        return self._worker._predictor

    @property
    def predictor_lock(self) -> threading.Lock:
        """Hold it while calling `predictor` from another thread."""
        return self._shared.lock

    def open_run(self, run_dir: str) -> None:
        self._load_requested.emit(run_dir)

    def set_backend(self, backend: str) -> None:
        """What computes runs opened from now on (engine.use.backends.BACKENDS)."""
        self._shared.backend = backend

    def set_tta(self, mode: str) -> None:
        """The test-time augmentation of runs opened from now on (engine.use.tta.MODES)."""
        self._shared.tta = mode

    def tta_info(self) -> dict:
        """The loaded run's test-time augmentation (engine.use.tta.use_tta's tta_info)."""
        return dict(getattr(self._worker._predictor, "tta_info", {}) or {})

    def predict(self, inputs: list[str], top_k: int = 5) -> None:
        job = self._next_job
        self._next_job += 1
        self._jobs[job] = (0, 0)
        self._predict_requested.emit(job, list(inputs), int(top_k))
        self._emit_progress()

    def explain(self, paths: list[str]) -> None:
        """Heat maps for these predicted files, after the queued predictions."""
        if paths:
            job = self._next_job
            self._next_job += 1  # an id of its own, so cancel() reaches it too
            self._explain_requested.emit(job, list(paths))

    def cancel(self) -> None:
        self._shared.cancel_below = self._next_job

    def shutdown(self) -> None:
        self.cancel()
        self._thread.quit()
        # No time limit: a QThread destroyed while running aborts the process, and a model
        # load in progress cannot be interrupted (it ends on its own, loaded or failed).
        self._thread.wait()

    def _live(self, job: int) -> bool:
        return job in self._jobs and job >= self._shared.cancel_below

    def _emit_progress(self) -> None:
        done = sum(d for d, _ in self._jobs.values())
        total = sum(t for _, t in self._jobs.values())
        self.progress.emit(done, total)

    @Slot(int, int)
    def _on_job_progress_start(self, job: int, total: int) -> None:
        if self._live(job):
            self._jobs[job] = (0, total)
            self._emit_progress()

    @Slot(int, int, int)
    def _on_job_progress(self, job: int, done: int, total: int) -> None:
        if self._live(job):
            self._jobs[job] = (done, total)
            self._emit_progress()

    @Slot(int, list)
    def _on_job_results(self, job: int, results: list) -> None:
        if self._live(job):
            self.results_ready.emit(results)

    @Slot(int, str, str)
    def _on_job_finished(self, job: int, status: str, message: str) -> None:
        self._jobs.pop(job, None)
        if status != "completed" or self._outcome[0] == "completed":
            self._outcome = (status, message)  # remember the most telling outcome
        if not self._jobs:
            outcome, self._outcome = self._outcome, ("completed", "")
            self.idle.emit(*outcome)
