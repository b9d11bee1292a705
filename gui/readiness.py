"""What each step says about being ready to train: one source for the tabs' banners and marks.

The Dataset, Config and Training tabs each say something about the dataset (a banner, the ✓
or ! on their tab). They used to decide it separately and disagreed: a dataset with a
problem that blocks training read "Nothing to train on yet" in Training and "No dataset yet"
in Config. Here the dataset's state is decided once, from the DatasetIndex step 1 shows
(blocking problems included), and every tab words it with the same sentence.

- `dataset_readiness(index)`: missing, blocked (with its first blocking problem) or ready.
- `config_readiness(dataset, problems)`: the Config tab's mark, from the dataset and the
  tab's own problems (ConfigTab.problems(): validation, and whatever else the tab checks,
  such as the base model's check).
- `training_blocker(dataset, config)`: what stops a run, and which step fixes it.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QT_TRANSLATE_NOOP

from gui.engine_texts import engine_again
from gui.i18n import Tr, dynamic, translate

MARKS = {"missing": "", "waiting": "", "blocked": "attention", "ready": "done"}
# The button that takes the user to the step that fixes it (one text for every tab).
GO_TO = {"dataset": QT_TRANSLATE_NOOP("Readiness", "Go to Dataset"),
         "config": QT_TRANSLATE_NOOP("Readiness", "Go to Config"),
         "training": QT_TRANSLATE_NOOP("Readiness", "Go to Training"),
         "prediction": QT_TRANSLATE_NOOP("Readiness", "Go to Prediction")}


@dataclass(frozen=True)
class Readiness:
    """state: "missing" (nothing chosen), "blocked" (something must be fixed first),
    "waiting" (fine itself, but an earlier step is not ready) or "ready".
    reason: the first thing to fix (an engine or config message), count: how many."""

    state: str
    reason: str = ""
    count: int = 0
    field: str = ""  # for a config problem: the setting it is about

    @property
    def ready(self) -> bool:
        return self.state == "ready"

    @property
    def mark(self) -> str:
        """The tab state main_window turns into ✓ / ! ("" = no mark)."""
        return MARKS[self.state]


def dataset_readiness(index) -> Readiness:
    """`index`: the DatasetIndex step 1 shows (None when there is none)."""
    if index is None:
        return Readiness("missing")
    errors = list(getattr(index, "errors", None) or [])
    if errors:
        return Readiness("blocked", errors[0].reason, len(errors))
    return Readiness("ready")


def config_readiness(dataset: Readiness, problems: dict[str, str]) -> Readiness:
    """The Config tab's state: blocked (!) while one of its `problems` needs fixing, waiting
    (no mark) while the dataset is not ready, else ready (✓). "data_dir" (no dataset chosen)
    is the dataset's business, not a setting to fix here."""
    own = {name: text for name, text in problems.items() if name != "data_dir"}
    if own:
        name, text = next(iter(own.items()))
        return Readiness("blocked", text, len(own), name)
    if not dataset.ready:
        return Readiness("waiting")
    if problems:  # a data_dir problem with a ready dataset: still not runnable
        name, text = next(iter(problems.items()))
        return Readiness("blocked", text, len(problems), name)
    return Readiness("ready")


def dataset_text(dataset: Readiness) -> Tr | str:
    """The sentence every tab shows about the dataset ("" when it is ready)."""
    if dataset.state == "missing":
        return translate("Readiness", "No dataset yet: choose a folder of images in step 1 "
                         "(or create the demo dataset).")
    if dataset.state != "blocked":
        return ""
    reason, count = dataset.reason, dataset.count
    if count == 1:
        return dynamic(lambda: translate(
            "Readiness", "The dataset has a problem that blocks training: {reason}").format(
            reason=engine_again(reason)))
    return dynamic(lambda: translate(
        "Readiness", "The dataset has {count} problems that block training. The first: "
        "{reason}").format(count=count, reason=engine_again(reason)))


def training_blocker(dataset: Readiness, config: Readiness) -> tuple[str, str]:
    """(what stops a run, the step that fixes it: "dataset" | "config"); ("", "") when a run
    can start."""
    if not dataset.ready:
        return dataset_text(dataset), "dataset"
    if not config.ready:
        field, reason = config.field, config.reason
        return dynamic(lambda: translate(
            "Readiness", "A setting needs attention first ({name}): {problem}").format(
            name=field, problem=engine_again(reason))), "config"
    return "", ""


def go_to_text(step: str) -> str:
    """The banner button's text for a step: "dataset", "config", "training", "prediction"."""
    return translate("Readiness", GO_TO[step])
