"""Continue training: what a resumed run may change, asked before it starts.

A resumed run keeps the settings it was trained with (engine/training/resume.py); only how
long it trains and when it stops early can change here, and this machine's hardware comes
from the Config tab. The dialog says so, and how to train on with other settings instead
(a new run that starts from this run's model: Config -> Start from run).
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QFormLayout,
                               QHBoxLayout, QLabel, QLineEdit, QPushButton, QSpinBox,
                               QVBoxLayout, QWidget)

from engine.config import TrainConfig, field_help
from gui.errors import on_action
from gui.i18n import translate
from gui.widgets.config_fields import label_for

LENGTH_FIELDS = ("epochs", "max_steps", "early_stop_patience")


class ContinueDialog(QDialog):
    """Epochs, max steps and early stopping for a resumed run; the rest is the run's own."""

    def __init__(self, run_dir: str, stored: TrainConfig, status: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("continueDialog")
        self.stored = stored
        self.setWindowTitle(translate("ContinueDialog", "Continue training"))
        title = QLabel(translate("ContinueDialog", "Continue <b>{run}</b> from its last "
                                 "checkpoint.").format(run=Path(run_dir).name))
        title.setWordWrap(True)
        form = QFormLayout()
        self.fields: dict[str, QSpinBox] = {}
        minimum = {"epochs": 1, "max_steps": 0, "early_stop_patience": 0}
        for name in LENGTH_FIELDS:
            box = QSpinBox()
            box.setObjectName(name)
            box.setRange(minimum[name], 1_000_000)
            box.setValue(int(getattr(stored, name)))
            box.setToolTip(field_help(name))
            if name == "max_steps":
                box.setSpecialValueText(translate("ConfigFields", "use epochs"))
            if name == "early_stop_patience":
                box.setSpecialValueText(translate("ConfigFields", "never stop early"))
            self.fields[name] = box
            form.addRow(label_for(name), box)
        if status == "completed":  # it ran all its epochs: more is the point of continuing
            self.fields["epochs"].setValue(stored.epochs * 2)
        note = QLabel(translate(
            "ContinueDialog", "Epochs and max steps count the whole run, the part already "
            "trained included. The run keeps the settings it was trained with: learning rate, "
            "batch size, LoRA, data and augmentation stay as they were, and the learning-rate "
            "schedule is stretched to the new length. Device, precision and threads come from "
            "the Config tab. To train on with other settings, start a new run from this run's "
            "model instead: Config → Start from run."))
        note.setWordWrap(True)
        note.setObjectName("continueNote")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok |
                                   QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(
            translate("ContinueDialog", "Continue training"))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.buttons = buttons
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addLayout(form)
        self.run_dir = Path(run_dir)
        self.images = self._images_row(layout)  # only when the run's images are gone
        layout.addWidget(note)
        layout.addWidget(buttons)
        self.setMinimumWidth(460)

    def _images_row(self, layout: QVBoxLayout) -> QLineEdit | None:
        """When the run's images are no longer where its split.json lists them: where are
        they now? Continue stays off until a folder that holds every one of them is named."""
        from engine.training.resume import images_found_in

        missing = _missing_images(self.run_dir)
        if missing is None or images_found_in(self.run_dir, self.stored.data_dir):
            return None  # where split.json lists them, or where a resume already found them
        count, total, folder = missing
        self.images_note = QLabel(translate(
            "ContinueDialog", "⚠ This run's images were moved: {count} of {total} are no longer "
            "in {folder}. Choose the folder that holds them now.").format(
            count=count, total=total, folder=folder))
        self.images_note.setWordWrap(True)
        self.images_note.setObjectName("imagesNote")
        line = QLineEdit()
        line.setPlaceholderText(translate("ContinueDialog", "New place of the run's images"))
        line.textChanged.connect(self._check_images)
        browse = QPushButton(translate("FolderEditor", "Browse…"))
        browse.clicked.connect(on_action(browse, self._on_browse_clicked))
        row = QHBoxLayout()
        row.addWidget(line, 1)
        row.addWidget(browse)
        layout.addWidget(self.images_note)
        layout.addLayout(row)
        self.images = line
        self._check_images()
        return line

    def _on_browse_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, translate("ContinueDialog", "New place of the run's images"))
        if folder:
            self.images.setText(folder)

    def _check_images(self) -> None:
        """Continue is possible once the named folder holds every listed image."""
        from engine.training.resume import images_found_in

        folder = self.images.text().strip() if self.images is not None else ""
        found = bool(folder) and images_found_in(self.run_dir, folder)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(found)
        if folder and not found:
            self.images.setToolTip(translate(
                "ContinueDialog", "Not every image of the run is in this folder."))
        else:
            self.images.setToolTip("")

    def changes(self) -> dict:
        """The length settings the user chose (all three, changed or not), and the images'
        new place when they were moved (data_dir: engine/training/resume.py accepts it)."""
        chosen = {name: box.value() for name, box in self.fields.items()}
        if self.images is not None and self.images.text().strip():
            chosen["data_dir"] = self.images.text().strip()
        return chosen


def _missing_images(run_dir: Path) -> tuple[int, int, str] | None:
    """(missing, listed, the folder they were in) when some of the images the run's
    split.json lists are gone; None when all are there (or the run has no split.json:
    the engine's own check then says what is wrong)."""
    import json

    from engine.data.index import missing_listed

    try:
        gone, total, folder = missing_listed(json.loads(
            (run_dir / "split.json").read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return (gone, total, folder) if gone else None
