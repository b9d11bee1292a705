"""Plain-language log lines for engine events (what the training log pane shows).

The templates are translated here (context "event_text"); Log messages come from the
engine already translated and are shown as they are."""
from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP

from engine.events import CheckpointSaved, EarlyStopped, Evaluation, Event, Log, RunStarted
from gui import format as fmt
from gui.i18n import translate

# A dataset split (an engine id) as a log line names it.
SPLITS = {
    "train": QT_TRANSLATE_NOOP("event_text", "train"),
    "val": QT_TRANSLATE_NOOP("event_text", "val"),
    "test": QT_TRANSLATE_NOOP("event_text", "test"),
}


def log_line(ev: Event) -> tuple[str, str] | None:
    """(message, level) for events worth a log line; None for the rest (steps, progress)."""
    if isinstance(ev, RunStarted):
        values = dict(name=ev.run_name, classes=len(ev.classes), images=ev.num_train,
                      steps=ev.total_steps, device=ev.device, precision=ev.precision,
                      start=ev.start_step, trainable=f"{ev.trainable_params:,}",
                      total=f"{ev.total_params:,}")
        if ev.start_step:
            text = translate("event_text", "Run {name}: {classes} classes, {images} training "
                             "images, {steps} steps on {device} ({precision}), resumed at step "
                             "{start}; {trainable} of {total} parameters train.")
        else:
            text = translate("event_text", "Run {name}: {classes} classes, {images} training "
                             "images, {steps} steps on {device} ({precision}); {trainable} of "
                             "{total} parameters train.")
        return text.format(**values), "info"
    if isinstance(ev, Evaluation):
        return _evaluation_line(ev), "info"
    if isinstance(ev, CheckpointSaved):
        if ev.label == "best":
            text = translate("event_text", "Saved the best checkpoint (epoch {epoch}).")
        elif ev.label == "last":
            text = translate("event_text", "Saved the last checkpoint (epoch {epoch}).")
        elif ev.label == "final":
            text = translate("event_text", "Saved the final checkpoint (epoch {epoch}).")
        else:
            text = translate("event_text", "Saved the {label} checkpoint (epoch {epoch}).")
        return text.format(label=ev.label, epoch=ev.epoch), "info"
    if isinstance(ev, EarlyStopped):
        return (translate("event_text", "Stopped early after epoch {epoch}: validation accuracy "
                          "did not improve for {patience} epoch(s); the best was epoch "
                          "{best_epoch}.").format(epoch=ev.epoch, patience=ev.patience,
                                                   best_epoch=ev.best_epoch), "info")
    if isinstance(ev, Log):
        return ev.message, ev.level
    return None


def _evaluation_line(ev: Evaluation) -> str:
    if ev.zero_shot and ev.is_best:
        text = translate("event_text", "{split} accuracy zero-shot (before training): {accuracy}, "
                         "loss {loss} — best so far")
    elif ev.zero_shot:
        text = translate("event_text", "{split} accuracy zero-shot (before training): {accuracy}, "
                         "loss {loss}")
    elif ev.is_best:
        text = translate("event_text", "{split} accuracy epoch {epoch}: {accuracy}, loss {loss} — "
                         "best so far")
    else:
        text = translate("event_text", "{split} accuracy epoch {epoch}: {accuracy}, loss {loss}")
    split = translate("event_text", SPLITS[ev.split]) if ev.split in SPLITS else ev.split
    return text.format(split=split, epoch=ev.epoch, accuracy=fmt.percent(ev.accuracy),
                       loss=f"{ev.loss:.3f}")
