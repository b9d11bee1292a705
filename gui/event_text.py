"""Plain-language log lines for engine events (what the training log pane shows)."""
from __future__ import annotations

from engine.events import CheckpointSaved, EarlyStopped, Evaluation, Event, Log, RunStarted
from gui import format as fmt


def log_line(ev: Event) -> tuple[str, str] | None:
    """(message, level) for events worth a log line; None for the rest (steps, progress)."""
    if isinstance(ev, RunStarted):
        resumed = f", resumed at step {ev.start_step}" if ev.start_step else ""
        return (f"Run {ev.run_name}: {len(ev.classes)} classes, {ev.num_train} training images, "
                f"{ev.total_steps} steps on {ev.device} ({ev.precision}){resumed}; "
                f"{ev.trainable_params:,} of {ev.total_params:,} parameters train.", "info")
    if isinstance(ev, Evaluation):
        what = "zero-shot (before training)" if ev.zero_shot else f"epoch {ev.epoch}"
        best = " — best so far" if ev.is_best else ""
        return (f"{ev.split} accuracy {what}: {fmt.percent(ev.accuracy)}, loss {ev.loss:.3f}{best}",
                "info")
    if isinstance(ev, CheckpointSaved):
        return f"Saved the {ev.label} checkpoint (epoch {ev.epoch}).", "info"
    if isinstance(ev, EarlyStopped):
        return (f"Stopped early after epoch {ev.epoch}: validation accuracy did not improve for "
                f"{ev.patience} epoch(s); the best was epoch {ev.best_epoch}.", "info")
    if isinstance(ev, Log):
        return ev.message, ev.level
    return None
