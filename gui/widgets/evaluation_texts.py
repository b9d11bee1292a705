"""The evaluation view's sentences: the accuracy summary, a split's name, and the line
above a confusion cell's images."""
from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP

from gui import format as fmt
from gui.i18n import translate

MAX_CELL_IMAGES = 300  # a cell of a huge test set lists its first images, says how many more


def split_name(split: str) -> str:
    """A split as the user reads it ("test" -> 测试集 in Chinese)."""
    names = {"test": translate("evaluation_view", "test"),
             "val": translate("evaluation_view", "val"),
             "train": translate("evaluation_view", "train")}
    return names.get(split, split)


def summary_text(accuracy: float, top5: float | None, total: int, split: str, wrong: int,
                 classes: int, cal: dict) -> str:
    """'<b>Accuracy 92.5 %</b> · 120 test images · 9 mistakes · 4 classes', the summary."""
    parts = [translate("evaluation_view", "<b>Accuracy {accuracy}</b>").format(
        accuracy=fmt.percent(accuracy))]
    if top5 is not None:
        parts.append(translate("evaluation_view", "top-5 {accuracy}").format(
            accuracy=fmt.percent(top5)))
    parts.append(translate("evaluation_view", "{count} {split} images").format(
        count=total, split=split_name(split)))
    parts.append((translate("evaluation_view", "{count} mistake") if wrong == 1 else
                  translate("evaluation_view", "{count} mistakes")).format(count=wrong))
    parts.append(translate("evaluation_view", "{count} classes").format(count=classes))
    if cal:
        parts.append(calibration_text(cal))
    return " · ".join(parts)


UNCALIBRATED = {  # engine.use.calibration's statuses: why training left the confidence as is
    "not_helpful": QT_TRANSLATE_NOOP("evaluation_view", "calibration error {error} "
                                     "(uncalibrated: temperature scaling did not help on "
                                     "held-out validation images)"),
    "too_few_images": QT_TRANSLATE_NOOP("evaluation_view", "calibration error {error} "
                                        "(uncalibrated: too few validation images)"),
    "no_mistakes": QT_TRANSLATE_NOOP("evaluation_view", "calibration error {error} "
                                     "(uncalibrated: no mistakes on the validation images to "
                                     "calibrate against)"),
}


def calibration_text(cal: dict) -> str:
    """The report's calibration (engine.use.evaluate's Report.calibration) in a few words."""
    error = fmt.percent(cal["ece"])
    if cal.get("temperature", 1.0) != 1.0:
        return translate("evaluation_view", "calibration error {error} ({before} "
                         "uncalibrated; temperature {temperature:.2f})").format(
            error=error, before=fmt.percent(cal["ece_before"]), temperature=cal["temperature"])
    why = UNCALIBRATED.get(cal.get("status", ""))
    return (translate("evaluation_view", why) if why else
            translate("evaluation_view", "calibration error {error} (uncalibrated)")).format(
        error=error)


def cell_title_text(count: int, true: str, predicted: str, correct: bool) -> str:
    """The line above a confusion cell's images."""
    if correct:
        text = (translate("evaluation_view", "{count} correct image: true <b>{true}</b>, "
                          "predicted <b>{predicted}</b>") if count == 1 else
                translate("evaluation_view", "{count} correct images: true <b>{true}</b>, "
                          "predicted <b>{predicted}</b>"))
    else:
        text = (translate("evaluation_view", "{count} mistaken image: true <b>{true}</b>, "
                          "predicted <b>{predicted}</b>") if count == 1 else
                translate("evaluation_view", "{count} mistaken images: true <b>{true}</b>, "
                          "predicted <b>{predicted}</b>"))
    text = text.format(count=count, true=true, predicted=predicted)
    if count > MAX_CELL_IMAGES:
        text = translate("evaluation_view", "{cell} — showing the first {count}").format(
            cell=text, count=MAX_CELL_IMAGES)
    return text
