"""One editor widget per TrainConfig field, chosen from the field's metadata.

choices -> combo box (or a row of check boxes for list fields), bool -> check box,
int/float with min/max -> spin boxes, other lists -> one item per line, folders -> line
edit with a Browse button. Every editor exposes value()/set_value() and a `changed`
signal, so the config tab never needs to know which widget a field uses.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QObject, Qt, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (QAbstractSpinBox, QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog,
                               QHBoxLayout, QLineEdit, QPlainTextEdit, QPushButton, QSpinBox,
                               QWidget)

from gui.errors import on_action
from gui.i18n import engine_text, translate

LABELS = {
    "data_dir": QT_TRANSLATE_NOOP("ConfigFields", "Dataset folder"),
    "val_fraction": QT_TRANSLATE_NOOP("ConfigFields", "Validation share"),
    "test_fraction": QT_TRANSLATE_NOOP("ConfigFields", "Test share"),
    "split_seed": QT_TRANSLATE_NOOP("ConfigFields", "Split seed"),
    "augment": QT_TRANSLATE_NOOP("ConfigFields", "Augment images"),
    "color_jitter": QT_TRANSLATE_NOOP("ConfigFields", "Colour jitter"),
    "mixup": QT_TRANSLATE_NOOP("ConfigFields", "MixUp alpha"),
    "cutmix": QT_TRANSLATE_NOOP("ConfigFields", "CutMix alpha"),
    "mix_prob": QT_TRANSLATE_NOOP("ConfigFields", "Mixed batch share"),
    "randaugment_ops": QT_TRANSLATE_NOOP("ConfigFields", "RandAugment operations"),
    "randaugment_magnitude": QT_TRANSLATE_NOOP("ConfigFields", "RandAugment strength"),
    "cache_max_mb": QT_TRANSLATE_NOOP("ConfigFields", "Image cache (MB)"),
    "cache_dir": QT_TRANSLATE_NOOP("ConfigFields", "Cache folder"),
    "model": QT_TRANSLATE_NOOP("ConfigFields", "Base model"),
    "method": QT_TRANSLATE_NOOP("ConfigFields", "Method"),
    "head_init": QT_TRANSLATE_NOOP("ConfigFields", "Classifier start"),
    "prompt_templates": QT_TRANSLATE_NOOP("ConfigFields", "Prompt templates"),
    "lora_r": QT_TRANSLATE_NOOP("ConfigFields", "LoRA rank (r)"),
    "lora_alpha": QT_TRANSLATE_NOOP("ConfigFields", "LoRA alpha"),
    "lora_dropout": QT_TRANSLATE_NOOP("ConfigFields", "LoRA dropout"),
    "target_modules": QT_TRANSLATE_NOOP("ConfigFields", "Layers with LoRA"),
    "lora_last_n_blocks": QT_TRANSLATE_NOOP("ConfigFields", "Adapt last N blocks"),
    "cache_frozen_blocks": QT_TRANSLATE_NOOP("ConfigFields", "Cache frozen blocks"),
    "epochs": QT_TRANSLATE_NOOP("ConfigFields", "Epochs"),
    "max_steps": QT_TRANSLATE_NOOP("ConfigFields", "Max steps"),
    "batch_size": QT_TRANSLATE_NOOP("ConfigFields", "Batch size"),
    "grad_accum": QT_TRANSLATE_NOOP("ConfigFields", "Gradient accumulation"),
    "lr": QT_TRANSLATE_NOOP("ConfigFields", "Learning rate"),
    "head_lr": QT_TRANSLATE_NOOP("ConfigFields", "Head learning rate"),
    "weight_decay": QT_TRANSLATE_NOOP("ConfigFields", "Weight decay"),
    "warmup_ratio": QT_TRANSLATE_NOOP("ConfigFields", "Warm-up share"),
    "grad_clip": QT_TRANSLATE_NOOP("ConfigFields", "Gradient clipping"),
    "early_stop_patience": QT_TRANSLATE_NOOP("ConfigFields", "Early-stop patience"),
    "seed": QT_TRANSLATE_NOOP("ConfigFields", "Seed"),
    "device": QT_TRANSLATE_NOOP("ConfigFields", "Device"),
    "precision": QT_TRANSLATE_NOOP("ConfigFields", "Precision"),
    "num_threads": QT_TRANSLATE_NOOP("ConfigFields", "CPU threads"),
    "attention": QT_TRANSLATE_NOOP("ConfigFields", "Attention"),
    "compile": QT_TRANSLATE_NOOP("ConfigFields", "Compile"),
    "gradient_checkpointing": QT_TRANSLATE_NOOP("ConfigFields", "Gradient checkpointing"),
    "class_balance": QT_TRANSLATE_NOOP("ConfigFields", "Class balance"),
    "tta": QT_TRANSLATE_NOOP("ConfigFields", "Test-time augmentation"),
    "output_dir": QT_TRANSLATE_NOOP("ConfigFields", "Runs folder"),
    "run_name": QT_TRANSLATE_NOOP("ConfigFields", "Run name"),
    "resume_from": QT_TRANSLATE_NOOP("ConfigFields", "Continue run"),
    "init_from": QT_TRANSLATE_NOOP("ConfigFields", "Start from run"),
}
# What 0 means for fields where 0 switches a feature off (shown instead of "0").
ZERO_MEANS = {"max_steps": QT_TRANSLATE_NOOP("ConfigFields", "use epochs"),
              "lora_last_n_blocks": QT_TRANSLATE_NOOP("ConfigFields", "all blocks"),
              "num_threads": QT_TRANSLATE_NOOP("ConfigFields", "all cores"),
              "early_stop_patience": QT_TRANSLATE_NOOP("ConfigFields", "never stop early"),
              "color_jitter": QT_TRANSLATE_NOOP("ConfigFields", "off"),
              "batch_size": QT_TRANSLATE_NOOP("ConfigFields", "auto"),
              "mixup": QT_TRANSLATE_NOOP("ConfigFields", "off"),
              "cutmix": QT_TRANSLATE_NOOP("ConfigFields", "off"),
              "randaugment_ops": QT_TRANSLATE_NOOP("ConfigFields", "off"),
              "grad_clip": QT_TRANSLATE_NOOP("ConfigFields", "no clipping")}
FOLDER_FIELDS = {"data_dir", "output_dir", "cache_dir", "resume_from", "init_from"}
PLACEHOLDERS = {"cache_dir": QT_TRANSLATE_NOOP("ConfigFields", "(the user cache folder)"),
                "resume_from": QT_TRANSLATE_NOOP("ConfigFields", "(start a new run)"),
                "init_from": QT_TRANSLATE_NOOP("ConfigFields", "(the base model)"),
                "run_name": QT_TRANSLATE_NOOP("ConfigFields", "(dataset name + date and time)"),
                "output_dir": QT_TRANSLATE_NOOP("ConfigFields", "(default: runs)")}
# How a fixed choice reads in its combo box (the value itself is the item's data, and what
# the config, the CLI and run.json hold). Choices not listed show as they are (cpu, bf16...).
CHOICE_TITLES = {"auto": QT_TRANSLATE_NOOP("ConfigFields", "Automatic"),
                 "lora": QT_TRANSLATE_NOOP("ConfigFields", "LoRA fine-tuning"),
                 "linear-probe": QT_TRANSLATE_NOOP("ConfigFields", "Linear probe (head only)"),
                 "zero-shot": QT_TRANSLATE_NOOP("ConfigFields", "Zero-shot (from the class names)"),
                 "prototype": QT_TRANSLATE_NOOP("ConfigFields", "Class prototypes (mean image)"),
                 "random": QT_TRANSLATE_NOOP("ConfigFields", "Random"),
                 "eager": QT_TRANSLATE_NOOP("ConfigFields", "Eager (plain PyTorch)"),
                 "sdpa": QT_TRANSLATE_NOOP("ConfigFields", "SDPA (fused kernel)"),
                 "none": QT_TRANSLATE_NOOP("ConfigFields", "None"),
                 "weighted-loss": QT_TRANSLATE_NOOP("ConfigFields", "Weighted loss"),
                 "balanced-sampler": QT_TRANSLATE_NOOP("ConfigFields", "Balanced sampling"),
                 "on": QT_TRANSLATE_NOOP("ConfigFields", "On"),
                 "off": QT_TRANSLATE_NOOP("ConfigFields", "Off"),
                 "flip": QT_TRANSLATE_NOOP("ConfigFields", "Mirror image"),
                 "flip+crops": QT_TRANSLATE_NOOP("ConfigFields", "Mirror image and 5 crops")}
INT_CEILING = 1_000_000_000
NUMBER_WIDTH = 170  # spin boxes wide enough for "never stop early", not the whole column


def label_for(name: str) -> str:
    if name in LABELS:
        return translate("ConfigFields", LABELS[name])
    return name.replace("_", " ").capitalize()


def placeholder_for(name: str) -> str:
    text = PLACEHOLDERS.get(name, "")
    return translate("ConfigFields", text) if text else ""


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
        self.widget.setToolTip(self.help_text())
        self.widget.setObjectName(f"field_{f.name}")

    def help_text(self) -> str:
        """The field's help (an engine text), in the current language."""
        text = self.meta.get("help", "")
        return engine_text(text) if text else ""

    def retranslate(self) -> None:
        """Texts that are not remembered widget properties (called by the config tab)."""

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
        for choice in map(str, self.meta["choices"]):
            title = CHOICE_TITLES.get(choice)
            self.combo.addItem(translate("ConfigFields", title) if title else choice, choice)
        self.combo.currentIndexChanged.connect(lambda _i: self.changed.emit())
        return self.combo

    def value(self) -> str:
        return str(self.combo.currentData())

    def set_value(self, value: Any) -> None:
        i = self.combo.findData(str(value))
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
            self.spin.setSpecialValueText(translate("ConfigFields", ZERO_MEANS[self.name]))
        self.spin.setAlignment(Qt.AlignmentFlag.AlignRight)  # numbers right-aligned
        self.spin.setMaximumWidth(NUMBER_WIDTH)
        self.spin.valueChanged.connect(self.changed)
        return self.spin

    def retranslate(self) -> None:
        if self.name in ZERO_MEANS and self.spin.minimum() == 0:
            self.spin.setSpecialValueText(translate("ConfigFields", ZERO_MEANS[self.name]))

    def value(self):
        return self.spin.value()

    def set_value(self, value: Any) -> None:
        self.spin.setValue(self.kind(value))


class WordSpinBox(QSpinBox):
    """A spin box whose special text ("auto", "off"...) can also be typed, meaning its minimum."""

    def _is_special(self, text: str) -> bool:
        special = self.specialValueText().strip().lower()
        return bool(special) and text.strip().lower() == special

    def validate(self, text: str, pos: int):
        special = self.specialValueText().strip().lower()
        typed = text.strip().lower()
        if special and typed and special.startswith(typed) and not typed.isdigit():
            state = QValidator.State.Acceptable if typed == special else \
                QValidator.State.Intermediate
            return state, text, pos
        return super().validate(text, pos)

    def valueFromText(self, text: str) -> int:
        return self.minimum() if self._is_special(text) else super().valueFromText(text)


class IntEditor(_NumberEditor):
    kind = int

    def _spin_box(self) -> QAbstractSpinBox:
        return WordSpinBox()


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
        self.line.setPlaceholderText(placeholder_for(self.name))
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
        self.line.setPlaceholderText(placeholder_for(self.name))
        self.line.textChanged.connect(self.changed)
        self.browse = QPushButton(translate("FolderEditor", "Browse…"))
        self.browse.clicked.connect(on_action(self.browse, self._on_browse_clicked))
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
