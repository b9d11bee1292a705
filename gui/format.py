"""Small formatting helpers shared by the tabs (numbers right-aligned, with units)."""
from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP

from gui.i18n import dynamic, translate

# A finished run's status (an engine id) in words.
STATUS_TEXT = {
    "completed": QT_TRANSLATE_NOOP("format", "completed"),
    "stopped": QT_TRANSLATE_NOOP("format", "stopped"),
    "failed": QT_TRANSLATE_NOOP("format", "failed"),
    "damaged": QT_TRANSLATE_NOOP("format", "damaged"),
}


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
    return translate("format", "{value} %").format(value=f"{100.0 * fraction:.{digits}f}")


def share(done: int, total: int) -> int:
    """Whole per cent done, rounded down (100 only when all is done): the one rounding that
    progress bars and progress texts share, so they never show two numbers."""
    if total <= 0:
        return 0
    return max(0, min(100, int(done) * 100 // int(total)))


def share_text(done: int, total: int) -> str:
    """'30 %': share() as a bar or a line shows it."""
    return translate("format", "{value} %").format(value=share(done, total))


def status_text(status: str) -> str:
    """An engine run status ('completed', ...) in words; unknown ones as they are."""
    return translate("format", STATUS_TEXT[status]) if status in STATUS_TEXT else status


def run_progress(phase: str, started, last_step, stage: str, finished) -> str:
    """The training progress line, e.g. 'epoch 3/10 · step 94/310 · 30 % · 15.2 img/s ·
    4:12 left'. Arguments are engine events (RunStarted, Step, RunFinished) or None."""
    if phase == "idle" and finished is None:
        return ""
    if phase != "idle" and (started is None or last_step is None) and stage:
        return stage  # an engine text, already translated
    return dynamic(lambda: _run_progress(phase, started, last_step, finished))


def _run_progress(phase: str, started, last_step, finished) -> str:
    if phase == "idle":
        status = status_text(finished.status)
        if finished.best_val_accuracy is None:
            return status
        return translate("format", "{status} · best val {accuracy}").format(
            status=status, accuracy=percent(finished.best_val_accuracy))
    if started is None or last_step is None:
        return translate("format", "Preparing…")
    epoch = min(started.epochs, int(last_step.epoch) + 1)
    text = translate("format", "epoch {epoch}/{epochs} · step {step}/{total} · {share} % · "
                     "{rate} img/s · {left} left").format(
        epoch=epoch, epochs=started.epochs, step=last_step.step, total=started.total_steps,
        share=share(last_step.step, started.total_steps), rate=f"{last_step.images_per_s:.1f}",
        left=duration(last_step.eta_s))
    if phase == "paused":
        return translate("format", "Paused · {progress}").format(progress=text)
    if phase == "stopping":
        return translate("format", "Stopping… · {progress}").format(progress=text)
    return text
