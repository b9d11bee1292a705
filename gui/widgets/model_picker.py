"""Base model chooser: the recommended checkpoints of each backbone family (with what each
is good for in its tool tip), a local folder, or the offline demo model.

"Check" loads the model off the GUI thread (a hub download or a 1.7 GB checkpoint can
take minutes) and says in plain words whether it can be used; when it cannot, it offers
the offline demo model so a first-time user on a machine without internet still gets
through the whole workflow.
"""
from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, Qt, Signal
from PySide6.QtWidgets import (QComboBox, QFileDialog, QHBoxLayout, QLabel, QPushButton,
                               QVBoxLayout, QWidget)

from engine.config import DEFAULT_MODEL
from engine.model.backbones import FAMILIES
from gui.errors import on_action
from gui.i18n import dynamic, engine_text, translate
from gui.scan_worker import FunctionThread

LOCAL_ITEM = QT_TRANSLATE_NOOP("ModelPicker", "Local folder…")
DEMO_ITEM = QT_TRANSLATE_NOOP("ModelPicker", "Offline demo model (untrained)")


def inspect_model(ref: str, progress=None) -> dict:
    """Load `ref` like training would (raises ModelLoadError); what describe_model() shows.
    A hub id is first downloaded (or, offline, found in the cache) by engine.model.hub, with
    progress(bytes done, bytes total)."""
    from engine.demo.model import is_demo_model
    from engine.model.backbones.text import missing_text
    from engine.model.classifier import base_model_info, count_parameters, load_base
    from engine.model.hub import fetch_model

    import copy

    import torch

    fetch_model(ref, progress)
    family, full, processor = load_base(ref)
    info = base_model_info(ref, family, full, processor)
    with torch.device("meta"):  # the image tower's shape only: no second copy of its weights
        shell = family.vision_from_config(copy.deepcopy(family.vision_config(full.config)))
    _, total = count_parameters(shell)
    return {"size": info.image_size, "dim": info.projection_dim, "params": f"{total / 1e6:.1f}",
            "demo": is_demo_model(ref), "family": family.title, "text": family.has_text,
            # a text tower whose tokenizer cannot be loaded: why, in the engine's words
            "no_tokenizer": missing_text(processor) if family.has_text else ""}


def describe_model(facts: dict) -> str:
    """The one-line description of a checked model, in the current language."""
    text = translate("model_picker", "Ready: {family}, {size} px images, {dim}-dim embeddings, "
                     "{params} M image-encoder parameters.").format(
        family=engine_text(facts.get("family", "CLIP")), size=facts["size"], dim=facts["dim"],
        params=facts["params"])
    if not facts.get("text", True):
        text += " " + translate("model_picker", "It has no text tower: the classifier starts "
                                "from the class prototypes (mean image of each class).")
    elif facts.get("no_tokenizer"):
        text += " " + translate("model_picker", "Its class names cannot be read as text: "
                                "{reason}. The classifier starts from the class prototypes "
                                "(mean image of each class), and zero-shot is not "
                                "available.").format(reason=facts["no_tokenizer"])
    if facts["demo"]:
        text += " " + translate("model_picker", "This is the untrained demo model: good for "
                                "trying the app, not for real photos.")
    return text


def check_model(ref: str) -> str:
    """Load `ref` like training would; return a one-line description (raises ModelLoadError)."""
    return describe_model(inspect_model(ref))


def make_demo_model() -> str:
    from engine.demo.model import ensure_demo_model

    return str(ensure_demo_model())


class ModelPicker(QWidget):
    changed = Signal()
    check_finished = Signal(bool, str)  # ok, message
    demo_model_ready = Signal(str)  # path

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.combo = QComboBox()
        self.combo.setEditable(True)
        self._add_recommended()
        self.combo.setMaxVisibleItems(24)  # every family at once, without scrolling
        self.combo.addItems([translate("ModelPicker", LOCAL_ITEM),
                            translate("ModelPicker", DEMO_ITEM)])
        self.combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.combo.setMinimumContentsLength(28)
        self.check_button = QPushButton(translate("ModelPicker", "Check"))
        self.check_button.setToolTip(translate(
            "ModelPicker", "Load the model now (in the background) to see whether it works."))
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.demo_button = QPushButton(translate("ModelPicker", "Use the offline demo model"))
        self.demo_button.setVisible(False)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.combo, 1)
        row.addWidget(self.check_button)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(row)
        column.addWidget(self.status)
        column.addWidget(self.demo_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.status.setVisible(False)
        self._value = DEFAULT_MODEL
        self._threads: set[FunctionThread] = set()
        self._checking = ""
        self.check_error = ""  # why the last check of the current model failed ("" = it did not)
        self.combo.activated.connect(on_action(self.combo, self._on_combo_activated,
                                               translate("ModelPicker", "Choose a base model")))
        self.combo.editTextChanged.connect(self._on_combo_edit_text_changed)
        self.check_button.clicked.connect(on_action(self.check_button, self.check))
        self.demo_button.clicked.connect(on_action(self.demo_button, self.use_demo_model))

    def _add_recommended(self) -> None:
        """Each family's heading (not selectable), then its recommended checkpoints, with
        what each is good for as the tool tip."""
        for family in FAMILIES:
            if not family.recommended:
                continue
            self.combo.addItem(engine_text(family.title))
            heading = self.combo.model().item(self.combo.count() - 1)
            heading.setEnabled(False)
            font = heading.font()
            font.setBold(True)
            heading.setFont(font)
            for ref, good_for in family.recommended:
                self.combo.addItem(ref, ref)
                self.combo.setItemData(self.combo.count() - 1, engine_text(good_for),
                                       Qt.ItemDataRole.ToolTipRole)
            self.combo.insertSeparator(self.combo.count())

    def retranslate(self) -> None:
        """The tool tips of the recommended checkpoints (item data, not walked by the switch)."""
        tips = {ref: good for family in FAMILIES for ref, good in family.recommended}
        for i in range(self.combo.count()):
            ref = self.combo.itemData(i)
            if ref in tips:
                self.combo.setItemData(i, engine_text(tips[ref]), Qt.ItemDataRole.ToolTipRole)

    # --- value ------------------------------------------------------------------------
    def value(self) -> str:
        return self._value

    def set_value(self, ref: str) -> None:
        self.combo.setEditText(ref)  # -> _on_combo_edit_text_changed

    def _on_combo_edit_text_changed(self, text: str) -> None:
        if self._action_item(text):
            return  # an action item, handled by _on_combo_activated
        if text.strip() != self._value:
            self._value = text.strip()
            self.check_error = ""  # another model: not checked yet
            self._show_status("")
            self.changed.emit()

    def _on_combo_activated(self, index: int) -> None:
        text = self._action_item(self.combo.itemText(index))
        if text == LOCAL_ITEM:
            self.combo.setEditText(self._value)
            folder = QFileDialog.getExistingDirectory(
                self, translate("ModelPicker", "Folder with a CLIP, SigLIP or DINOv2 checkpoint"))
            if folder:
                self.set_value(folder)
                self.check()
        elif text == DEMO_ITEM:
            self.combo.setEditText(self._value)
            self.use_demo_model()

    def _action_item(self, text: str) -> str:
        """LOCAL_ITEM or DEMO_ITEM when `text` is one of them (in any language), else ""."""
        for item in (LOCAL_ITEM, DEMO_ITEM):
            if text in (item, translate("ModelPicker", item)):
                return item
        return ""

    # --- background work ----------------------------------------------------------------
    def busy(self) -> bool:
        return bool(self._threads)

    def check(self) -> None:
        ref = self.value()
        self._checking = ref
        self._show_status(translate("ModelPicker", "Loading {ref}…").format(ref=ref))
        self.check_button.setEnabled(False)

        def job(progress):  # download progress in KiB: the thread's signal carries 32-bit ints
            return inspect_model(ref, lambda done, total: progress(done // 1024, total // 1024))

        self._run(job, translate("ModelPicker", "checking the model {ref}").format(ref=ref),
                  self._on_check_succeeded, self._on_check_failed,
                  on_progress=self._on_check_progress)

    def use_demo_model(self) -> None:
        self._show_status(translate("ModelPicker", "Preparing the offline demo model…"))
        self.demo_button.setEnabled(False)
        self._run(lambda progress: make_demo_model(),
                  translate("ModelPicker", "creating the offline demo model"),
                  self._on_demo_succeeded, self._on_demo_failed)

    def _run(self, fn, doing: str, on_ok, on_fail, on_progress=None) -> None:
        try:
            thread = FunctionThread(fn, doing)
            if on_progress is not None:
                thread.progress.connect(on_progress)
            thread.succeeded.connect(on_ok)
            thread.failed.connect(on_fail)
            thread.finished.connect(self._on_thread_finished)
            thread.start()
        except BaseException:  # nothing runs: the buttons stay usable (gui.errors reports it)
            self._show_status("")
            self.check_button.setEnabled(True)
            self.demo_button.setEnabled(True)
            raise
        self._threads.add(thread)

    def _on_thread_finished(self) -> None:
        self._threads.discard(self.sender())
        self.check_button.setEnabled(True)
        self.demo_button.setEnabled(True)

    def _on_check_progress(self, done_kib: int, total_kib: int) -> None:
        """KiB of a hub download of the model being checked (reported every few MB)."""
        from engine.model.hub import describe_download

        if self._checking != self.value():
            return  # the user picked another model meanwhile
        if done_kib >= total_kib:  # downloaded: now it loads
            self._show_status(translate("ModelPicker", "Loading {ref}…").format(
                ref=self._checking))
            return
        self._show_status(translate("ModelPicker", "Downloading {ref}: {amount}…").format(
            ref=self._checking, amount=describe_download(done_kib * 1024, total_kib * 1024)))

    def _on_check_succeeded(self, facts: dict) -> None:
        if self._checking != self.value():
            return  # the user picked another model meanwhile
        text = describe_model(facts)
        self.check_error = ""
        self._show_status(dynamic(lambda: "✓ " + describe_model(facts)))
        self.demo_button.setVisible(False)
        self.check_finished.emit(True, text)

    def _on_check_failed(self, message: str) -> None:
        if self._checking != self.value():
            return  # the user picked another model meanwhile: this one is not checked yet
        self.check_error = message  # the config tab shows the model as needing attention
        self._on_demo_failed(message)

    def _on_demo_failed(self, message: str) -> None:
        """The demo model could not be made: the current model is not known to be broken."""
        self._show_status("✗ " + message, error=True)  # an engine text, already translated
        self.demo_button.setVisible(True)
        self.check_finished.emit(False, message)

    def _on_demo_succeeded(self, path: str) -> None:
        self.set_value(path)
        self._show_status(translate("ModelPicker", "✓ Offline demo model ready. It is tiny and "
                                    "untrained: good for trying the app, not for real photos."))
        self.demo_button.setVisible(False)
        self.demo_model_ready.emit(path)

    def _show_status(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setVisible(bool(text))
        self.status.setProperty("error", error)
        self.status.setStyleSheet("color: #d9534f;" if error else "")

    def wait(self, ms: int = 30_000) -> None:
        """Block until background checks end (window closing, tests)."""
        for thread in list(self._threads):
            thread.wait(ms)
