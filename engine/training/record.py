"""Bookkeeping around the training loop: the run folder, progress tracking, step statistics.

Kept apart from engine/training/loop.py so the loop itself reads top to bottom.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

import torch

from engine.config import TrainConfig
from engine.data.index import DatasetIndex
from engine.events import Event, Log, RunFinished, Step
from engine.i18n import _
from engine.runs import RunWriter, create_run_dir, library_versions, process_marker, read_run

MAX_LISTED_PROBLEMS = 20  # more than this and the log only says how many more


@dataclass
class Tracker:
    """Where the run is and the best epoch so far; saved in checkpoints for resuming.

    Epoch 0 (step 0) is the starting model, recorded before training when there is a
    validation split: an epoch only becomes the best by scoring strictly higher.
    """

    patience: int
    steps_per_epoch: int  # of the plan the steps refer to (resume checks it still holds)
    step: int = 0
    epoch: int = 0
    best_accuracy: float | None = None
    best_epoch: int | None = None
    best_step: int | None = None
    bad_epochs: int = 0  # epochs since the best one (early stopping)
    zero_shot: float | None = None
    elapsed_before: float = 0.0  # seconds spent before a resume

    def record(self, accuracy: float, epoch: int, warming_up: bool = False) -> bool:
        """Note an epoch's validation accuracy; True when it is the best so far.

        Epochs still inside the LR warmup do not count against early stopping: with a long
        run the warmup spans several epochs in which little can improve yet.
        """
        if self.best_accuracy is None or accuracy > self.best_accuracy:
            self.best_accuracy, self.best_epoch, self.best_step = accuracy, epoch, self.step
            self.bad_epochs = 0
            return True
        if not warming_up:
            self.bad_epochs += 1
        return False

    def should_stop_early(self) -> bool:
        return self.patience > 0 and self.bad_epochs >= self.patience

    def best_dict(self) -> dict[str, Any] | None:
        if self.best_epoch is None:
            return None
        return {"val_accuracy": self.best_accuracy, "epoch": self.best_epoch, "step": self.best_step}

    def state(self, elapsed_s: float) -> dict[str, Any]:
        data = asdict(self)
        data["elapsed_before"] = elapsed_s
        return data

    def restore(self, state: dict[str, Any]) -> None:
        for key, value in state.items():
            if hasattr(self, key) and key not in ("patience", "steps_per_epoch"):
                setattr(self, key, value)


def kept_start_note(tracker: Tracker) -> Log | None:
    """The log line for a run whose folder keeps its starting model (the best is step 0)."""
    if tracker.best_epoch != 0 or tracker.best_accuracy is None:
        return None
    if tracker.epoch == 0:  # stopped before the first epoch was validated
        text = _("Stopped before the first epoch was validated; the saved model is the "
                 "starting one ({accuracy:.1%}).")
    else:
        text = _("No epoch beat the starting model ({accuracy:.1%}); the saved model is the "
                 "starting one.")
    return Log(level="info", message=text.format(accuracy=tracker.best_accuracy))


class StepMeter:
    """Loss/accuracy/throughput between two Step events, without a GPU sync per step."""

    def __init__(self, world: int):
        self.world = world
        self.seconds_per_step: float | None = None
        self._last_step: int | None = None
        self._reset()
        self.restart_clock()

    def _reset(self) -> None:
        self._loss = torch.zeros(())
        self._correct = torch.zeros((), dtype=torch.long)
        self._batches = 0
        self._images = 0

    def restart_clock(self) -> None:
        """Start timing afresh (after a pause, an evaluation or a checkpoint)."""
        self._t = time.perf_counter()
        self._active = 0.0
        self._steps_timed = 0

    def add(self, loss: torch.Tensor, logits: torch.Tensor, labels: torch.Tensor) -> None:
        if self._loss.device != loss.device:
            self._loss = self._loss.to(loss.device)
            self._correct = self._correct.to(loss.device)
        self._loss += loss.float()
        self._correct += (logits.argmax(-1) == labels).sum()
        self._batches += 1
        self._images += len(labels)

    def event(self, step: int, epoch: float, lr: float, total_steps: int) -> Step:
        now = time.perf_counter()
        elapsed = self._active + now - self._t
        steps = step - (self._last_step if self._last_step is not None else step - 1)
        self._last_step = step
        per_step = elapsed / max(1, steps)
        # smooth the ETA; the first steps (allocations, warm-up) are slow
        self.seconds_per_step = per_step if self.seconds_per_step is None else \
            0.7 * self.seconds_per_step + 0.3 * per_step
        event = Step(step=step, epoch=round(epoch, 4),
                     loss=float(self._loss) / max(1, self._batches), lr=float(lr),
                     accuracy=float(self._correct) / max(1, self._images),
                     images_per_s=self._images * self.world / max(elapsed, 1e-9),
                     eta_s=max(0, total_steps - step) * self.seconds_per_step)
        self._reset()
        self._t, self._active = now, 0.0
        return event


class Recorder:
    """Passes events through, writing them to the run folder once it exists (main process)."""

    def __init__(self) -> None:
        self.writer: RunWriter | None = None
        self.main = True
        self.device = ""
        self.run_dir = ""
        self.tracker: Tracker | None = None
        self._pending: list[Event] = []
        self._closers: list = []
        self._t0 = time.monotonic()

    def __call__(self, event: Event) -> Event:
        if self.main and event.kind != "progress":
            if self.writer is not None:
                self.writer.log_event(event)
            else:
                self._pending.append(event)  # written when the folder exists
        return event

    def attach(self, writer: RunWriter) -> None:
        self.writer = writer
        self.run_dir = str(writer.run_dir)
        for event in self._pending:
            writer.log_event(event)
        self._pending.clear()

    def started(self, run_dir: Path, tracker: Tracker) -> None:
        self.run_dir, self.tracker = str(run_dir), tracker

    def elapsed(self) -> float:
        before = self.tracker.elapsed_before if self.tracker else 0.0
        return before + time.monotonic() - self._t0

    def update(self, **changes: Any) -> None:
        if self.writer is not None:
            self.writer.update(**changes)

    def finish(self, status: str, *, test_accuracy: float | None = None,
               error: str = "", invalid_input: bool = False) -> RunFinished:
        t = self.tracker
        event = RunFinished(status=status, run_dir=self.run_dir, invalid_input=invalid_input,
                            best_val_accuracy=t.best_accuracy if t else None,
                            best_epoch=t.best_epoch if t else None,
                            test_accuracy=test_accuracy, elapsed_s=round(self.elapsed(), 2),
                            error=error)
        try:
            self.update(status=status, error=error, elapsed_s=event.elapsed_s,
                        test_accuracy=test_accuracy, best=t.best_dict() if t else None)
            self(event)
        except OSError:  # e.g. the disk is full: the event still reaches the front end
            pass
        return event

    def on_close(self, closer) -> None:
        """Call `closer()` when the run ends, however it ends (e.g. a temporary file)."""
        self._closers.append(closer)

    def close(self) -> None:
        for closer in self._closers:
            closer()
        self._closers.clear()
        if self.writer is not None:
            self.writer.close()


def dataset_warnings(problems: Iterable) -> Iterator[Log]:
    """Log events for skipped files (warnings), at most MAX_LISTED_PROBLEMS one by one."""
    warnings = [p for p in problems if p.severity != "error"]
    for p in warnings[:MAX_LISTED_PROBLEMS]:
        yield Log(level="warning", message=_("Skipped {path}: {reason}").format(
            path=p.path, reason=p.reason))
    if len(warnings) > MAX_LISTED_PROBLEMS:
        yield Log(level="warning", message=_("... and {count} more files were skipped.").format(
            count=len(warnings) - MAX_LISTED_PROBLEMS))


def run_metadata(config: TrainConfig, dataset: DatasetIndex, info, precision: str, device: str,
                 world: int, trainable: int, total: int, created: str) -> dict[str, Any]:
    """The initial run.json."""
    return {
        "format_version": 1, "name": "", "created": created, "status": "running",
        "config": config.replace(resume_from="").to_dict(), "base_model": info.to_dict(),
        "method": config.method,
        "classes": [{"folder": c.folder, "display_name": c.display_name} for c in dataset.classes],
        "class_names": dataset.class_names,
        "dataset": {"root": dataset.root, "layout": dataset.layout,
                    "split_source": dataset.split_source, "counts": dataset.counts()},
        "best": None, "zero_shot_val_accuracy": None, "test_accuracy": None, "elapsed_s": 0.0,
        "versions": library_versions(), "error": "",
        "hardware": {"device": device, "precision": precision, "processes": world},
        "process": process_marker(),
        "parameters": {"trainable": trainable, "total": total},
    }


def open_run(config: TrainConfig, resume_dir: Path | None, dataset: DatasetIndex,
             meta: dict[str, Any], rec: Recorder, accelerator) -> Path:
    """Create (or reopen, when resuming) the run folder; only the main process writes."""
    if resume_dir is not None:
        run_dir = resume_dir
        if rec.main:
            old = read_run(run_dir)
            meta = {**old, "status": "running", "error": "", "hardware": meta["hardware"],
                    "process": meta["process"], "resumed": int(old.get("resumed", 0)) + 1,
                    "config": meta["config"]}  # with what the resume changed
    elif rec.main:
        run_dir = create_run_dir(config.output_dir, config.data_dir or dataset.root, config.run_name)
    if accelerator.num_processes > 1 and resume_dir is None:
        from accelerate.utils import broadcast_object_list

        shared = broadcast_object_list([str(run_dir) if rec.main else ""], from_process=0)
        run_dir = Path(shared[0])
    if rec.main:
        meta["name"] = run_dir.name
        writer = RunWriter(run_dir, meta)
        writer.update()
        if resume_dir is None:
            dataset.save_split(run_dir / "split.json")
        rec.attach(writer)
    return run_dir
