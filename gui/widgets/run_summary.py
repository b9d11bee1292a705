"""The card shown when a run ends: what it reached, how long it took, where it is saved,
and the next steps (evaluate it, try it, continue it)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QFont
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QPushButton, QWidget

from engine.events import RunFinished
from gui import format as fmt
from gui.errors import on_action
from gui.i18n import translate

HEADLINES = {
    "completed": QT_TRANSLATE_NOOP("RunSummaryCard", "Training finished"),
    "stopped": QT_TRANSLATE_NOOP("RunSummaryCard",
                                 "Training stopped — the model so far is saved and usable"),
    "failed": QT_TRANSLATE_NOOP("RunSummaryCard", "Training failed"),
    "interrupted": QT_TRANSLATE_NOOP("RunSummaryCard",
                                     "Training was interrupted (its process ended without "
                                     "finishing)"),
}


def calibration_line(cal: dict) -> str:
    """What the run did with its confidence (run.json's calibration, from
    engine.use.calibration.calibration_summary), with the numbers; "" when it says nothing."""
    status = cal.get("status")
    pct = fmt.percent
    values = dict(images=cal.get("images", 0), minimum=cal.get("minimum_images", 0),
                  temperature=float(cal.get("temperature", 1.0)),
                  tried=float(cal.get("tried_temperature", 1.0)),
                  before=pct(cal.get("ece_before")), after=pct(cal.get("ece_after")),
                  tried_ece=pct(cal.get("tried_ece")), fitted=pct(cal.get("tried_ece_fitted")))
    if status == "calibrated":
        text = translate("RunSummaryCard", "Confidence calibrated: temperature {temperature:.2f}; "
                         "calibration error on held-out validation images {before} → {after}.")
    elif status == "not_helpful":
        text = translate("RunSummaryCard", "Confidence left uncalibrated: temperature scaling "
                         "did not help (a temperature of {tried:.2f} gave calibration error "
                         "{before} → {tried_ece} on held-out validation images, {before} → "
                         "{fitted} on all of them).")
    elif status == "too_few_images":
        text = translate("RunSummaryCard", "Confidence left uncalibrated: {images} validation "
                         "images are too few to calibrate on (at least {minimum} are needed).")
    elif status == "no_mistakes":
        text = translate("RunSummaryCard", "Confidence left uncalibrated: the model made no "
                         "mistake on the {images} validation images to calibrate against.")
    elif values["temperature"] != 1.0:  # a run from before the decision was recorded
        text = translate("RunSummaryCard", "Confidence calibrated: temperature {temperature:.2f}.")
    else:
        return ""
    return text.format(**values)


def _read_calibration(run_dir: str, key: str = "calibration") -> dict:
    """run.json's calibration (or another object `key`; {} when there is none or the file
    cannot be read)."""
    import json

    try:
        cal = json.loads((Path(run_dir) / "run.json").read_text(encoding="utf-8")).get(key)
    except (OSError, ValueError, AttributeError):
        return {}
    return cal if isinstance(cal, dict) else {}


def backends_line(backends: dict) -> str:
    """How the faster prediction backends built for this run agree with it (run.json's
    "backends", engine.use.onnx_cache); "" when none was built or none had test images."""
    parts = []
    for name, facts in sorted(backends.items()):
        if isinstance(facts, dict) and isinstance(facts.get("top1_agreement"), (int, float)):
            parts.append(translate("RunSummaryCard", "{backend}: same top label on {agree} of "
                                   "{images} test images, probabilities within {dp:.4f}").format(
                backend=name, agree=fmt.percent(facts["top1_agreement"]),
                images=facts.get("images", 0), dp=float(facts.get("max_abs_dp") or 0.0)))
    if not parts:
        return ""
    return translate("RunSummaryCard", "Fast prediction, compared with the model in full "
                     "precision: {parts}.").format(parts="; ".join(parts))


def _metric(title: str) -> tuple[QLabel, QLabel]:
    caption = QLabel(title)
    value = QLabel("–")
    font = QFont(value.font())
    font.setPointSizeF(font.pointSizeF() * 1.6)
    font.setBold(True)
    value.setFont(font)
    return caption, value


class RunSummaryCard(QFrame):
    evaluation_requested = Signal(str)  # run_dir
    prediction_requested = Signal(str)
    continue_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("summaryCard")
        self.setStyleSheet("#summaryCard { background: palette(alternate-base); "
                           "border: 1px solid palette(mid); border-radius: 6px; }")
        self.run_dir = ""
        self.headline = QLabel()
        font = QFont(self.headline.font())
        font.setPointSizeF(font.pointSizeF() * 1.2)
        font.setBold(True)
        self.headline.setFont(font)
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        grid = QGridLayout()
        grid.setHorizontalSpacing(32)
        self.values: dict[str, QLabel] = {}
        for col, (key, title) in enumerate((
                ("best", translate("RunSummaryCard", "Best validation accuracy")),
                ("zero_shot", translate("RunSummaryCard", "Start (step 0)")),
                ("test", translate("RunSummaryCard", "Test accuracy")),
                ("time", translate("RunSummaryCard", "Time")))):
            caption, value = _metric(title)
            grid.addWidget(value, 0, col)
            grid.addWidget(caption, 1, col)
            self.values[key] = value
        self.calibration = QLabel()  # what the run did with its confidence
        self.calibration.setWordWrap(True)
        self.saved = QLabel()
        self.saved.setOpenExternalLinks(False)
        self.saved.linkActivated.connect(on_action(
            self.saved, self._on_saved_link_activated,
            translate("RunSummaryCard", "Open the run folder")))
        self.evaluate_button = QPushButton(translate("RunSummaryCard", "Open evaluation"))
        self.predict_button = QPushButton(translate("RunSummaryCard", "Try it in Prediction"))
        self.continue_button = QPushButton(translate("RunSummaryCard", "Continue training"))
        self.continue_button.setToolTip(translate(
            "RunSummaryCard", "Resume this run from its last checkpoint; you choose its total "
            "number of epochs (a finished run can train for more)."))
        self.predict_button.setDefault(True)
        self.evaluate_button.clicked.connect(lambda: self.evaluation_requested.emit(self.run_dir))
        self.predict_button.clicked.connect(lambda: self.prediction_requested.emit(self.run_dir))
        self.continue_button.clicked.connect(lambda: self.continue_requested.emit(self.run_dir))
        buttons = QHBoxLayout()
        buttons.addWidget(self.saved, 1)
        for b in (self.continue_button, self.evaluate_button, self.predict_button):
            buttons.addWidget(b)
        layout = QGridLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addWidget(self.headline, 0, 0)
        layout.addWidget(self.detail, 1, 0)
        layout.addLayout(grid, 2, 0)
        layout.addWidget(self.calibration, 3, 0)
        layout.addLayout(buttons, 4, 0)

    def show_result(self, finished: RunFinished, *, zero_shot: float | None = None,
                    elapsed_s: float | None = None) -> None:
        self.run_dir = finished.run_dir
        self.headline.setText(translate("RunSummaryCard", HEADLINES[finished.status])
                              if finished.status in HEADLINES else finished.status)
        self.detail.setText(finished.error if finished.status == "failed" else "")
        self.detail.setVisible(bool(self.detail.text()))
        best = finished.best_val_accuracy
        kept_start = best is not None and finished.best_epoch == 0  # no epoch beat step 0
        self.values["best"].setToolTip(translate(
            "RunSummaryCard", "No epoch scored higher than the model the run started from, so "
            "the saved model is the starting one.") if kept_start else "")
        if kept_start:
            self.values["best"].setText(translate("RunSummaryCard", "{accuracy} (the start)")
                                        .format(accuracy=fmt.percent(best)))
        elif best is not None and finished.best_epoch is not None:
            self.values["best"].setText(translate("RunSummaryCard", "{accuracy} (epoch {epoch})")
                                        .format(accuracy=fmt.percent(best),
                                                epoch=finished.best_epoch))
        else:
            self.values["best"].setText(fmt.percent(best))
        self.values["zero_shot"].setText(fmt.percent(zero_shot))
        self.values["test"].setText(fmt.percent(finished.test_accuracy))
        self.values["time"].setText(fmt.duration(elapsed_s if elapsed_s is not None
                                                 else finished.elapsed_s))
        self.calibration.setText("\n".join(filter(None, (
            calibration_line(_read_calibration(finished.run_dir)),
            backends_line(_read_calibration(finished.run_dir, "backends")))))
            if finished.status == "completed" and finished.run_dir else "")
        self.calibration.setVisible(bool(self.calibration.text()))
        usable = bool(finished.run_dir) and (Path(finished.run_dir) / "head.safetensors").is_file()
        if finished.run_dir:
            url = QUrl.fromLocalFile(finished.run_dir).toString()
            self.saved.setText(translate("RunSummaryCard", 'Saved in <a href="{url}">{path}</a>')
                               .format(url=url, path=finished.run_dir))
        else:
            self.saved.setText(translate("RunSummaryCard", "Nothing was saved."))
        self.evaluate_button.setEnabled(usable)
        self.predict_button.setEnabled(usable)
        resumable = (Path(finished.run_dir) / "checkpoints" / "last").is_dir() if finished.run_dir else False
        self.continue_button.setVisible(finished.status in ("stopped", "interrupted",
                                                            "completed") and resumable)
        self.show()

    def _on_saved_link_activated(self, url: str) -> None:
        QDesktopServices.openUrl(QUrl(url))
