"""Events streamed by the training loop to any front end (CLI, GUI, metrics.jsonl).

Every event is a small frozen dataclass that serialises to one JSON object; the
lines of a run's metrics.jsonl are exactly these objects, so a front end can replay
a finished run the same way it follows a live one.
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any


def _now() -> float:
    return time.time()


@dataclass(frozen=True)
class Event:
    """Base class: `kind` names the event in JSON ("step", "evaluation", ...)."""

    kind = "event"
    time: float = field(default_factory=_now, kw_only=True)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["event"] = self.kind
        return data


@dataclass(frozen=True)
class RunStarted(Event):
    kind = "run_started"
    run_dir: str
    run_name: str
    classes: list[str]
    total_steps: int
    steps_per_epoch: int
    epochs: int
    device: str
    precision: str
    trainable_params: int
    total_params: int
    num_train: int = 0
    num_val: int = 0
    num_test: int = 0
    start_step: int = 0  # > 0 when resumed from a checkpoint


@dataclass(frozen=True)
class Step(Event):
    kind = "step"
    step: int  # optimizer steps done so far (1-based after the first update)
    epoch: float  # fractional epoch, e.g. 2.5 = half-way through the third epoch
    loss: float
    lr: float
    accuracy: float  # accuracy of this training batch (augmented images)
    images_per_s: float
    eta_s: float


@dataclass(frozen=True)
class Evaluation(Event):
    kind = "evaluation"
    step: int
    epoch: int  # 0 = before training (the zero-shot point)
    split: str  # "val" or "test"
    loss: float
    accuracy: float
    per_class_accuracy: dict[str, float] = field(default_factory=dict)
    is_best: bool = False
    zero_shot: bool = False


@dataclass(frozen=True)
class CheckpointSaved(Event):
    kind = "checkpoint"
    step: int
    epoch: int
    path: str
    label: str  # "last" | "best" | "final"


@dataclass(frozen=True)
class EarlyStopped(Event):
    kind = "early_stopped"
    epoch: int
    best_epoch: int
    patience: int


@dataclass(frozen=True)
class Log(Event):
    kind = "log"
    level: str  # "info" | "warning" | "error"
    message: str


@dataclass(frozen=True)
class Progress(Event):
    """Work before/around training that takes time: decoding images, downloading a model."""

    kind = "progress"
    stage: str  # "download" | "decode" | "embed" | "evaluate" | ...
    done: int
    total: int
    message: str = ""


@dataclass(frozen=True)
class RunFinished(Event):
    kind = "run_finished"
    status: str  # "completed" | "stopped" | "failed"
    run_dir: str
    best_val_accuracy: float | None = None
    best_epoch: int | None = None
    test_accuracy: float | None = None
    elapsed_s: float = 0.0
    error: str = ""
    invalid_input: bool = False  # failed because of the user's input (CLI exit code 2)


EVENT_TYPES: dict[str, type[Event]] = {
    cls.kind: cls
    for cls in (RunStarted, Step, Evaluation, CheckpointSaved, EarlyStopped, Log, Progress, RunFinished)
}


def event_from_dict(data: dict[str, Any]) -> Event:
    """Rebuild an event from its JSON form (unknown keys are ignored for forward compatibility)."""
    data = dict(data)
    kind = data.pop("event", None)
    cls = EVENT_TYPES.get(kind)
    if cls is None:
        raise ValueError(f"unknown event kind: {kind!r}")
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})
