"""Words and counts for long work: "Decoding 1,200 / 20,520 images".

One table for the stages the engine reports (training's Progress events, the data check's
progress callbacks): each stage's words while its total is not known, and the words with
the counts once it is. Templates hold {done} and {total}; fill() puts the counts in.
"""
from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP

from gui.i18n import translate

# stage id (engine) -> (words while the total is unknown, words with the counts)
STAGES = {
    "scan": (QT_TRANSLATE_NOOP("Progress", "Checking the dataset…"),
             QT_TRANSLATE_NOOP("Progress", "Checking {done} / {total} files")),
    "download": (QT_TRANSLATE_NOOP("Progress", "Downloading the model…"),
                 QT_TRANSLATE_NOOP("Progress", "Downloading the model: {done} / {total} MB")),
    "decode": (QT_TRANSLATE_NOOP("Progress", "Decoding images…"),
               QT_TRANSLATE_NOOP("Progress", "Decoding {done} / {total} images")),
    "embed": (QT_TRANSLATE_NOOP("Progress", "Embedding images…"),
              QT_TRANSLATE_NOOP("Progress", "Embedding {done} / {total} images")),
    "frozen": (QT_TRANSLATE_NOOP("Progress", "Computing the frozen blocks…"),
               QT_TRANSLATE_NOOP("Progress", "Computing the frozen blocks: {done} / {total} "
                                 "images")),
    "compile": (QT_TRANSLATE_NOOP("Progress", "Compiling the model (about a minute)…"),
                QT_TRANSLATE_NOOP("Progress", "Compiling the model: {done} / {total} batch "
                                  "sizes")),
    "evaluate": (QT_TRANSLATE_NOOP("Progress", "Writing the test report…"),
                 QT_TRANSLATE_NOOP("Progress", "Writing the test report: {done} / {total} "
                                   "images")),
    "probe": (QT_TRANSLATE_NOOP("Progress", "Cross-validating the probe…"),
              QT_TRANSLATE_NOOP("Progress", "Cross-validating the probe: {done} of {total} "
                                "folds done")),
    "rank": (QT_TRANSLATE_NOOP("Progress", "Ranking likely label mistakes…"),
             QT_TRANSLATE_NOOP("Progress", "Ranking likely label mistakes…")),
    "duplicates": (QT_TRANSLATE_NOOP("Progress", "Finding near-duplicates…"),
                   QT_TRANSLATE_NOOP("Progress", "Finding near-duplicates: {done} / {total} "
                                     "images compared")),
    "report": (QT_TRANSLATE_NOOP("Progress", "Writing the report…"),
               QT_TRANSLATE_NOOP("Progress", "Writing the report: {done} / {total} files")),
}
UNKNOWN = QT_TRANSLATE_NOOP("Progress", "Working… {done} / {total}")  # a stage not listed
MEGABYTES = {"download"}  # stages counted in bytes, shown in MB


def count(n: int) -> str:
    """1200 -> '1,200' (the same grouping in every line)."""
    return f"{int(n):,}"


def fill(text: str, done: int | None = None, total: int | None = None,
         megabytes: bool = False) -> str:
    """`text` with {done} and {total} replaced by the counts ('…' while unknown); text
    without them comes back as it is. replace(), not format(): a path or model name in the
    text may hold braces."""
    if not total or done is None:
        return text.replace("{done}", "…").replace("{total}", "…")
    show = (lambda n: f"{n / 1e6:,.1f}") if megabytes else count
    return text.replace("{done}", show(done)).replace("{total}", show(total))


def template(stage: str) -> str:
    """The translated words-with-counts template of `stage` (see STAGES)."""
    return translate("Progress", STAGES[stage][1] if stage in STAGES else UNKNOWN)


def staged(report, say, words=None):
    """An engine progress callback (stage, done, total) for a worker thread: `say` gets the
    new stage's words (`words(stage)`, by default its template here) when the stage changes,
    `report` every count. One place for what each background flow's busy row needs."""
    words = words or template
    last = [None]

    def progress(stage: str, done: int, total: int) -> None:
        if stage != last[0]:
            last[0] = stage
            say(words(stage))
        report(done, total)

    return progress


def stage_line(stage: str, done: int, total: int, message: str = "") -> str:
    """One line for a Progress event: 'Decoding 1,200 / 20,520 images'; words alone while
    the total is unknown (0). `message` (the engine's words) names a stage not listed."""
    if stage in STAGES:
        words, counted = STAGES[stage]
        if total <= 0:
            return translate("Progress", words)
        return fill(translate("Progress", counted), done, total, stage in MEGABYTES)
    words = message or stage
    if total <= 0:
        return words
    return translate("Progress", "{words}: {done} / {total}").format(
        words=words, done=count(done), total=count(total))
