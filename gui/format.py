"""Small formatting helpers shared by the tabs (numbers right-aligned, with units)."""
from __future__ import annotations


def duration(seconds: float | None) -> str:
    """4:12, 1:02:03; '–' when unknown."""
    if seconds is None or seconds != seconds or seconds < 0:  # None, NaN, negative
        return "–"
    s = int(round(seconds))
    hours, rest = divmod(s, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def percent(fraction: float | None, digits: int = 1) -> str:
    """0.925 -> '92.5 %'; '–' when unknown."""
    if fraction is None:
        return "–"
    return f"{100.0 * fraction:.{digits}f} %"


def run_progress(phase: str, started, last_step, stage: str, finished) -> str:
    """The training progress line, e.g. 'epoch 3/10 · step 94/310 · 30 % · 15.2 img/s ·
    4:12 left'. Arguments are engine events (RunStarted, Step, RunFinished) or None."""
    if phase == "idle":
        if finished is None:
            return ""
        best = (f" · best val {percent(finished.best_val_accuracy)}"
                if finished.best_val_accuracy is not None else "")
        return f"{finished.status}{best}"
    if started is None or last_step is None:
        return stage or "Preparing…"
    epoch = min(started.epochs, int(last_step.epoch) + 1)
    share = 100.0 * last_step.step / max(1, started.total_steps)
    text = (f"epoch {epoch}/{started.epochs} · step {last_step.step}/{started.total_steps} · "
            f"{share:.0f} % · {last_step.images_per_s:.1f} img/s · "
            f"{duration(last_step.eta_s)} left")
    return {"paused": "Paused · ", "stopping": "Stopping… · "}.get(phase, "") + text
