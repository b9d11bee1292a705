"""What a sweep tells a front end (the CLI prints them, the GUI's table shows them)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

STATES = ("running", "complete", "pruned", "failed", "interrupted")


@dataclass(frozen=True)
class SweepStarted:
    """The first event: where the sweep lives and what it searches."""

    kind = "sweep_started"
    folder: str
    mode: str  # "lora" | "last-n" | "linear-probe" (engine.sweep.space)
    mode_note: str  # what the mode means, and why it was chosen
    trials: int  # the study's total
    trial_epochs: int
    continuing: bool = False  # the folder already held this sweep
    rerun: int = 0  # interrupted trials queued again

    def to_dict(self) -> dict[str, Any]:
        return {"event": self.kind, **dataclasses.asdict(self)}


@dataclass(frozen=True)
class TrialUpdate:
    """One trial's row: sent when it starts, after each validated epoch and when it ends."""

    kind = "trial"
    number: int
    state: str  # one of STATES
    run_dir: str
    changes: dict[str, Any] = field(default_factory=dict)  # its settings (config fields)
    value: float | None = None  # best validation accuracy so far
    epoch: int = 0  # epochs validated
    epochs: int = 0  # epochs it trains at most
    minutes: float = 0.0
    note: str = ""  # why it was pruned / failed

    def to_dict(self) -> dict[str, Any]:
        return {"event": self.kind, **dataclasses.asdict(self)}


@dataclass(frozen=True)
class SweepNote:
    """A line for the user: the mode chosen, the budget, a trial's failure."""

    kind = "note"
    message: str
    level: str = "info"  # "info" | "warning" | "error"

    def to_dict(self) -> dict[str, Any]:
        return {"event": self.kind, **dataclasses.asdict(self)}


@dataclass(frozen=True)
class SweepFinished:
    """The last event: why the sweep ended and its best trial (None when none completed)."""

    kind = "sweep_finished"
    reason: str  # "trials" (all done) | "budget" | "stopped" | "failed"
    folder: str
    best_number: int | None = None
    best_value: float | None = None
    best_changes: dict[str, Any] = field(default_factory=dict)
    best_config_path: str = ""
    trials_done: int = 0
    error: str = ""
    invalid_input: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"event": self.kind, **dataclasses.asdict(self)}
