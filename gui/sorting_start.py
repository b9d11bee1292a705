"""The start of sorting an unsorted folder: the class names (typed or pasted, one per line
or separated by commas), how many images the folder holds, which model will embed them,
and an optional folder of examples (one sub-folder per class) — required for a model that
cannot name classes from text (DINOv2).

The dialog only reads: counting the images walks the folder names, nothing is opened.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QHBoxLayout, QLabel,
                               QLineEdit, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget)

from gui.engine_texts import engine_again
from gui.errors import on_action
from gui.i18n import translate


def has_text_tower(model: str) -> bool:
    """Whether `model` can name classes from text, from its name or its config.json's
    model_type (read as JSON; no library loads): DINOv2 cannot."""
    kind = model.lower()
    config = Path(model).expanduser() / "config.json"
    if config.is_file():
        try:
            kind = str(json.loads(config.read_text(encoding="utf-8")).get("model_type", kind))
        except (OSError, ValueError, AttributeError):
            pass
    return "dinov2" not in kind.lower()


def parse_class_names(text: str) -> list[str]:
    """The engine's rules (engine.cli.sorting.parse_classes): at least 2, no repeats;
    raises UserError in plain words."""
    from engine.cli.sorting import parse_classes

    return parse_classes(text)


class SortingStartDialog(QDialog):
    """Asks for the class names (and examples); `classes` and `examples` after accept()."""

    def __init__(self, folder: str, images: int, model: str, parent: QWidget | None = None,
                 classes: list[str] | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(translate("SortingStart", "Sort an unsorted folder"))
        self.model = model
        self.classes: list[str] = []
        self.examples = ""
        layout = QVBoxLayout(self)
        self.summary = QLabel(translate(
            "SortingStart", "{folder}: {count} images. They are embedded with {model}; the "
            "folder itself is only read.").format(folder=folder, count=f"{images:,}",
                                                   model=model))
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        layout.addWidget(QLabel(translate("SortingStart", "Class names (one per line, or "
                                          "separated by commas):")))
        self.names = QPlainTextEdit()
        self.names.setPlaceholderText("rose\ntulip\nfern")
        if classes:
            self.names.setPlainText("\n".join(classes))
        layout.addWidget(self.names, 1)
        self.text_tower = has_text_tower(model)
        self.examples_note = QLabel(
            translate("SortingStart", "Optional: a folder of examples, one sub-folder per class "
                      "named like the class: they teach the proposals from the start.")
            if self.text_tower else
            translate("SortingStart", "{model} cannot name classes from text (it has no text "
                      "tower): label one image of each class first (the sorting asks for them, "
                      "spread over the folder), or choose a folder of examples, one sub-folder "
                      "per class named like the class.").format(model=model))
        self.examples_note.setWordWrap(True)
        layout.addWidget(self.examples_note)
        row = QHBoxLayout()
        self.examples_edit = QLineEdit()
        self.examples_edit.setReadOnly(True)
        self.examples_button = QPushButton(translate("SortingStart", "Examples folder…"))
        self.examples_button.clicked.connect(on_action(self.examples_button,
                                                       self._choose_examples))
        row.addWidget(self.examples_edit, 1)
        row.addWidget(self.examples_button)
        layout.addLayout(row)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setVisible(False)
        layout.addWidget(self.error)
        buttons = self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                                  | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(translate("SortingStart", "Start sorting"))
        buttons.accepted.connect(on_action(self.ok_button, self._on_ok))
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(520, 420)

    def _choose_examples(self) -> None:
        path = QFileDialog.getExistingDirectory(
            self, translate("SortingStart", "Choose a folder of examples (one sub-folder per "
                            "class)"), self.examples_edit.text() or str(Path.home()))
        if path:
            self.examples_edit.setText(path)

    def _on_ok(self) -> None:
        from engine.errors import UserError

        try:
            classes = parse_class_names(self.names.toPlainText())
        except UserError as exc:
            return self._say(engine_again(str(exc)))
        examples = self.examples_edit.text()
        if examples and not os.path.isdir(examples):
            return self._say(translate("SortingStart", "{path} is not a folder.").format(
                path=examples))
        self.classes, self.examples = classes, examples
        self.accept()

    def _say(self, text: str) -> None:
        self.error.setText("⚠ " + text)
        self.error.setVisible(True)
