"""Continue training: what a resumed run may change, asked before it starts.

A resumed run keeps the settings it was trained with (engine/training/resume.py); only how
long it trains and when it stops early can change here, and this machine's hardware comes
from the Config tab. The dialog says so, and how to train on with other settings instead
(a new run that starts from this run's model: Config -> Start from run).
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFormLayout, QLabel, QSpinBox,
                               QVBoxLayout, QWidget)

from engine.config import TrainConfig, field_help
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
        layout.addWidget(note)
        layout.addWidget(buttons)
        self.setMinimumWidth(460)

    def changes(self) -> dict[str, int]:
        """The length settings the user chose (all three, changed or not)."""
        return {name: box.value() for name, box in self.fields.items()}
