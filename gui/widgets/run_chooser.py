"""'Model: [runs ▾] [Open run folder…] [Refresh]': which trained run the Prediction tab uses."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, Qt, Signal
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QWidget

from gui.errors import on_action
from gui.i18n import dynamic, translate

# engine.runs' run statuses, as a run's label shows them (unknown ones show as they are)
STATUS_NAMES = {
    "stopped": QT_TRANSLATE_NOOP("run_chooser", "stopped"),
    "interrupted": QT_TRANSLATE_NOOP("run_chooser", "interrupted"),
    "failed": QT_TRANSLATE_NOOP("run_chooser", "failed"),
    "running": QT_TRANSLATE_NOOP("run_chooser", "running"),
    "damaged": QT_TRANSLATE_NOOP("run_chooser", "damaged"),
}


def run_label(summary) -> str:
    """'pets-2026-11-29-1412 · val 96.5 %' (+ status when the run did not complete)."""
    name, accuracy, status = summary.name, summary.best_val_accuracy, summary.status
    if accuracy is None and status == "completed":
        return name
    return dynamic(lambda: _label_text(name, accuracy, status))  # remade after a switch


def _label_text(name: str, accuracy: float | None, status: str) -> str:
    text = name
    if accuracy is not None:
        text = translate("run_chooser", "{run} · val {accuracy:.1f} %").format(
            run=text, accuracy=accuracy * 100)
    if status != "completed":
        shown = translate("run_chooser", STATUS_NAMES[status]) if status in STATUS_NAMES else status
        text = translate("run_chooser", "{run} ({status})").format(run=text, status=shown)
    return text


def has_model(summary) -> bool:
    """Whether a listed run saved a model: a failed or still-running one may have none yet."""
    if getattr(summary, "problem", ""):
        return False  # damaged: it would only fail to load
    if summary.status in ("completed", "stopped"):
        return True
    return summary.status == "interrupted" and Path(summary.path, "head.safetensors").is_file()


class RunChooser(QWidget):
    chosen = Signal(str)  # a run folder, picked in the list or opened with the dialog
    refresh_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.root = "runs"
        self.problems: dict[str, str] = {}  # run folder -> why it is damaged (listed runs)
        bar = QHBoxLayout(self)
        bar.setContentsMargins(0, 0, 0, 0)
        bar.setSpacing(8)
        bar.addWidget(QLabel(translate("RunChooser", "Model:")))
        self.combo = QComboBox()
        self.combo.setMinimumWidth(320)
        self.combo.activated.connect(on_action(self.combo, self._on_activated,
                                               translate("RunChooser", "Choose a run")))
        bar.addWidget(self.combo, 1)
        open_button = QPushButton(translate("RunChooser", "Open run folder…"))
        self.open_button = open_button
        open_button.clicked.connect(on_action(open_button, self.choose_folder))
        bar.addWidget(open_button)
        refresh = QPushButton(translate("RunChooser", "Refresh"))
        refresh.setToolTip(translate("RunChooser", "Look for new runs in the runs folder"))
        self.refresh_button = refresh
        refresh.clicked.connect(self.refresh_requested)
        bar.addWidget(refresh)

    def fill(self, root: str, loaded: str = "", loading: str = "") -> str:
        """List the runs under `root`, newest first; the loaded (or loading) run stays
        selected. Returns the newest run that saved a model ('' when there is none)."""
        from engine.runs import list_runs

        self.root = str(root)
        runs = list_runs(self.root, damaged=True)  # damaged ones too, to say why they fail
        usable = [r for r in runs if has_model(r)]
        self.problems = {r.path: r.problem for r in runs if r.problem}
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItem(
            translate("RunChooser", "Choose a trained run ({count} found)").format(count=len(runs))
            if runs else translate("RunChooser", "No trained runs yet: train one in step 3, "
                                                 "or open a run folder"), "")
        for summary in runs:
            self.combo.addItem(run_label(summary), summary.path)
            if summary.problem:
                self.combo.setItemData(self.combo.count() - 1, summary.problem,
                                       Qt.ItemDataRole.ToolTipRole)
        if loaded and self.combo.findData(loaded) < 0:  # opened from elsewhere
            self.combo.addItem(Path(loaded).name, loaded)
        self.combo.setCurrentIndex(max(0, self.combo.findData(loaded or loading)))
        self.combo.blockSignals(False)
        return usable[0].path if usable else ""

    def choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, translate("RunChooser", "Open a run folder"),
                                                self.root)
        if path:
            self.chosen.emit(path)

    def _on_activated(self, row: int) -> None:
        path = self.combo.itemData(row)
        if path:
            self.chosen.emit(path)
