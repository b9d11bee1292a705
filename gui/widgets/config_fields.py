"""One editor widget per TrainConfig field, chosen from the field's metadata.

choices -> combo box (or a row of check boxes for list fields), bool -> check box,
int/float with min/max -> spin boxes, other lists -> one item per line, folders -> line
edit with a Browse button. Every editor exposes value()/set_value() and a `changed`
signal, so the config tab never needs to know which widget a field uses.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (QAbstractSpinBox, QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog,
                               QHBoxLayout, QLineEdit, QPlainTextEdit, QPushButton, QSpinBox,
                               QWidget)

LABELS = {
    "data_dir": "Dataset folder", "val_fraction": "Validation share", "test_fraction": "Test share",
    "split_seed": "Split seed", "augment": "Augment images", "color_jitter": "Colour jitter",
    "cache_max_mb": "Image cache (MB)", "cache_dir": "Cache folder", "model": "Base model",
    "method": "Method", "head_init": "Classifier start", "prompt_templates": "Prompt templates",
    "lora_r": "LoRA rank (r)", "lora_alpha": "LoRA alpha", "lora_dropout": "LoRA dropout",
    "target_modules": "Layers with LoRA", "lora_last_n_blocks": "Adapt last N blocks",
    "epochs": "Epochs", "max_steps": "Max steps", "batch_size": "Batch size",
    "grad_accum": "Gradient accumulation", "lr": "Learning rate", "head_lr": "Head learning rate",
    "weight_decay": "Weight decay", "warmup_ratio": "Warm-up share", "grad_clip": "Gradient clipping",
    "early_stop_patience": "Early-stop patience", "seed": "Seed", "device": "Device",
    "precision": "Precision", "num_threads": "CPU threads", "output_dir": "Runs folder",
    "run_name": "Run name", "resume_from": "Continue run",
}
# What 0 means for fields where 0 switches a feature off (shown instead of "0").
ZERO_MEANS = {"max_steps": "use epochs", "lora_last_n_blocks": "all blocks",
              "num_threads": "all cores", "early_stop_patience": "never stop early",
              "color_jitter": "off", "grad_clip": "no clipping"}
FOLDER_FIELDS = {"data_dir", "output_dir", "cache_dir", "resume_from"}
PLACEHOLDERS = {"cache_dir": "(the user cache folder)", "resume_from": "(start a new run)",
                "run_name": "(dataset name + date and time)", "output_dir": "runs"}
INT_CEILING = 1_000_000_000
NUMBER_WIDTH = 170  # spin boxes wide enough for "never stop early", not the whole column


def label_for(name: str) -> str:
    return LABELS.get(name, name.replace("_", " ").capitalize())


class ScientificSpinBox(QDoubleSpinBox):
    """A float spin box that shows 0.0005 as 5e-04 instead of rounding it to 0.00."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDecimals(12)  # keep full precision; textFromValue decides what is shown
        self.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)

    def textFromValue(self, value: float) -> str:  # noqa: N802 - Qt override
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:  # noqa: N802 - Qt override
        try:
            return float(text.strip())
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):  # noqa: D401 - Qt override
        stripped = text.strip()
        try:
            value = float(stripped)
        except ValueError:
            partial = stripped in ("", "-", ".", "-.") or stripped[-1:] in ("e", "E", "-", "+")
            return (QValidator.State.Intermediate if partial else QValidator.State.Invalid), text, pos
        ok = self.minimum() <= value <= self.maximum()
        return (QValidator.State.Acceptable if ok else QValidator.State.Intermediate), text, pos


class FieldEditor(QObject):
    """Base: `widget` edits one field; `changed` fires on every user edit."""

    changed = Signal()

    def __init__(self, f: dataclasses.Field) -> None:
        super().__init__()
        self.field = f
        self.name = f.name
        self.meta = f.metadata
        self.widget = self._build()
        self.widget.setToolTip(self.meta.get("help", ""))
        self.widget.setObjectName(f"field_{f.name}")

    def _build(self) -> QWidget:
        raise NotImplementedError

    def value(self) -> Any:
        raise NotImplementedError

    def set_value(self, value: Any) -> None:
        raise NotImplementedError


class BoolEditor(FieldEditor):
    def _build(self) -> QWidget:
        self.box = QCheckBox()
        self.box.toggled.connect(self.changed)
        return self.box

    def value(self) -> bool:
        return self.box.isChecked()

    def set_value(self, value: Any) -> None:
        self.box.setChecked(bool(value))


class ChoiceEditor(FieldEditor):
    def _build(self) -> QWidget:
        self.combo = QComboBox()
        self.combo.addItems([str(c) for c in self.meta["choices"]])
        self.combo.currentTextChanged.connect(self.changed)
        return self.combo

    def value(self) -> str:
        return self.combo.currentText()

    def set_value(self, value: Any) -> None:
        i = self.combo.findText(str(value))
        self.combo.setCurrentIndex(max(i, 0))


class MultiChoiceEditor(FieldEditor):
    """A list field with fixed choices: one check box per choice."""

    def _build(self) -> QWidget:
        widget = QWidget()
        row = QHBoxLayout(widget)
        row.setContentsMargins(0, 0, 0, 0)
        self.boxes: dict[str, QCheckBox] = {}
        for choice in self.meta["choices"]:
            box = QCheckBox(str(choice))
            box.toggled.connect(self.changed)
            row.addWidget(box)
            self.boxes[str(choice)] = box
        row.addStretch(1)
        return widget

    def value(self) -> list[str]:
        return [name for name, box in self.boxes.items() if box.isChecked()]

    def set_value(self, value: Any) -> None:
        chosen = {str(v) for v in (value or [])}
        for name, box in self.boxes.items():
            box.setChecked(name in chosen)


class _NumberEditor(FieldEditor):
    """A right-aligned spin box bounded by the field's min/max; '0 means ...' fields show
    their special text at 0."""

    kind: type = int
    ceiling: float = INT_CEILING  # the upper bound of a field without a max

    def _spin_box(self) -> QAbstractSpinBox:
        raise NotImplementedError

    def _build(self) -> QWidget:
        self.spin = self._spin_box()
        self.spin.setRange(self.kind(self.meta.get("min", 0)),
                           self.kind(self.meta.get("max", self.ceiling)))
        if self.name in ZERO_MEANS and self.spin.minimum() == 0:
            self.spin.setSpecialValueText(ZERO_MEANS[self.name])
        self.spin.setAlignment(Qt.AlignmentFlag.AlignRight)  # numbers right-aligned
        self.spin.setMaximumWidth(NUMBER_WIDTH)
        self.spin.valueChanged.connect(self.changed)
        return self.spin

    def value(self):
        return self.spin.value()

    def set_value(self, value: Any) -> None:
        self.spin.setValue(self.kind(value))


class IntEditor(_NumberEditor):
    kind = int

    def _spin_box(self) -> QAbstractSpinBox:
        return QSpinBox()


class FloatEditor(_NumberEditor):
    kind = float
    ceiling = 1e9

    def _spin_box(self) -> QAbstractSpinBox:
        return ScientificSpinBox()


class TextListEditor(FieldEditor):
    """A free list of strings, one per line (e.g. prompt templates)."""

    def _build(self) -> QWidget:
        self.text = QPlainTextEdit()
        self.text.setFixedHeight(self.text.fontMetrics().lineSpacing() * 5 + 12)
        self.text.textChanged.connect(self.changed)
        return self.text

    def value(self) -> list[str]:
        return [line.strip() for line in self.text.toPlainText().splitlines() if line.strip()]

    def set_value(self, value: Any) -> None:
        self.text.setPlainText("\n".join(str(v) for v in (value or [])))


class TextEditor(FieldEditor):
    def _build(self) -> QWidget:
        self.line = QLineEdit()
        self.line.setPlaceholderText(PLACEHOLDERS.get(self.name, ""))
        self.line.textChanged.connect(self.changed)
        return self.line

    def value(self) -> str:
        return self.line.text().strip()

    def set_value(self, value: Any) -> None:
        self.line.setText("" if value is None else str(value))


class FolderEditor(TextEditor):
    """A folder path: typed, or chosen with Browse…"""

    def _build(self) -> QWidget:
        widget = QWidget()
        row = QHBoxLayout(widget)
        row.setContentsMargins(0, 0, 0, 0)
        self.line = QLineEdit()
        self.line.setPlaceholderText(PLACEHOLDERS.get(self.name, ""))
        self.line.textChanged.connect(self.changed)
        self.browse = QPushButton("Browse…")
        self.browse.clicked.connect(self._on_browse_clicked)
        row.addWidget(self.line, 1)
        row.addWidget(self.browse)
        return widget

    def _on_browse_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.widget, label_for(self.name), self.value())
        if folder:
            self.line.setText(folder)


class ModelEditor(FieldEditor):
    """The base model: ModelPicker (known models, a local folder, the demo model, Check)."""

    def _build(self) -> QWidget:
        from gui.widgets.model_picker import ModelPicker

        self.picker = ModelPicker()
        self.picker.changed.connect(self.changed)
        return self.picker

    def value(self) -> str:
        return self.picker.value()

    def set_value(self, value: Any) -> None:
        self.picker.set_value(str(value))


def make_editor(f: dataclasses.Field) -> FieldEditor:
    """Pick the editor for a field from its default's type and metadata."""
    if f.name == "model":
        return ModelEditor(f)
    default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
    choices = f.metadata.get("choices")
    if isinstance(default, bool):
        return BoolEditor(f)
    if isinstance(default, list):
        return MultiChoiceEditor(f) if choices else TextListEditor(f)
    if choices:
        return ChoiceEditor(f)
    if isinstance(default, int):
        return IntEditor(f)
    if isinstance(default, float):
        return FloatEditor(f)
    if f.name in FOLDER_FIELDS:
        return FolderEditor(f)
    return TextEditor(f)
