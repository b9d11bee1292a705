"""Base model chooser: known hub models, a local folder, or the offline demo model.

"Check" loads the model off the GUI thread (a hub download or a 1.7 GB checkpoint can
take minutes) and says in plain words whether it can be used; when it cannot, it offers
the offline demo model so a first-time user on a machine without internet still gets
through the whole workflow.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QFileDialog, QHBoxLayout, QLabel, QPushButton,
                               QVBoxLayout, QWidget)

from engine.config import KNOWN_MODELS
from gui.scan_worker import FunctionThread

LOCAL_ITEM = "Local folder…"
DEMO_ITEM = "Offline demo model (untrained)"


def check_model(ref: str) -> str:
    """Load `ref` like training would; return a one-line description (raises ModelLoadError)."""
    from engine.demo.model import is_demo_model
    from engine.model.classifier import base_model_info, count_parameters, load_clip

    model, processor = load_clip(ref)
    info = base_model_info(ref, model, processor)
    _, total = count_parameters(model.vision_model)
    text = (f"Ready: {info.image_size} px images, {info.projection_dim}-dim embeddings, "
            f"{total / 1e6:.1f} M image-encoder parameters.")
    if is_demo_model(ref):
        text += " This is the untrained demo model: good for trying the app, not for real photos."
    return text


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
        self.combo.addItems(list(KNOWN_MODELS))
        self.combo.insertSeparator(self.combo.count())
        self.combo.addItems([LOCAL_ITEM, DEMO_ITEM])
        self.combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.combo.setMinimumContentsLength(28)
        self.check_button = QPushButton("Check")
        self.check_button.setToolTip("Load the model now (in the background) to see whether it works.")
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.demo_button = QPushButton("Use the offline demo model")
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
        self._value = KNOWN_MODELS[0]
        self._threads: set[FunctionThread] = set()
        self._checking = ""
        self.combo.activated.connect(self._on_combo_activated)
        self.combo.editTextChanged.connect(self._on_combo_edit_text_changed)
        self.check_button.clicked.connect(self.check)
        self.demo_button.clicked.connect(self.use_demo_model)

    # --- value ------------------------------------------------------------------------
    def value(self) -> str:
        return self._value

    def set_value(self, ref: str) -> None:
        self.combo.setEditText(ref)  # -> _on_combo_edit_text_changed

    def _on_combo_edit_text_changed(self, text: str) -> None:
        if text in (LOCAL_ITEM, DEMO_ITEM):
            return  # an action item, handled by _on_combo_activated
        if text.strip() != self._value:
            self._value = text.strip()
            self._show_status("")
            self.changed.emit()

    def _on_combo_activated(self, index: int) -> None:
        text = self.combo.itemText(index)
        if text == LOCAL_ITEM:
            self.combo.setEditText(self._value)
            folder = QFileDialog.getExistingDirectory(self, "Folder with a CLIP checkpoint")
            if folder:
                self.set_value(folder)
                self.check()
        elif text == DEMO_ITEM:
            self.combo.setEditText(self._value)
            self.use_demo_model()

    # --- background work ----------------------------------------------------------------
    def busy(self) -> bool:
        return bool(self._threads)

    def check(self) -> None:
        ref = self.value()
        self._checking = ref
        self._show_status(f"Loading {ref}…")
        self.check_button.setEnabled(False)
        self._run(lambda progress: check_model(ref), f"checking the model {ref}",
                  self._on_check_succeeded, self._on_check_failed)

    def use_demo_model(self) -> None:
        self._show_status("Preparing the offline demo model…")
        self.demo_button.setEnabled(False)
        self._run(lambda progress: make_demo_model(), "creating the offline demo model",
                  self._on_demo_succeeded, self._on_check_failed)

    def _run(self, fn, doing: str, on_ok, on_fail) -> None:
        thread = FunctionThread(fn, doing)
        thread.succeeded.connect(on_ok)
        thread.failed.connect(on_fail)
        thread.finished.connect(self._on_thread_finished)
        self._threads.add(thread)
        thread.start()

    def _on_thread_finished(self) -> None:
        self._threads.discard(self.sender())
        self.check_button.setEnabled(True)
        self.demo_button.setEnabled(True)

    def _on_check_succeeded(self, text: str) -> None:
        if self._checking != self.value():
            return  # the user picked another model meanwhile
        self._show_status("✓ " + text)
        self.demo_button.setVisible(False)
        self.check_finished.emit(True, text)

    def _on_check_failed(self, message: str) -> None:
        self._show_status("✗ " + message, error=True)
        self.demo_button.setVisible(True)
        self.check_finished.emit(False, message)

    def _on_demo_succeeded(self, path: str) -> None:
        self.set_value(path)
        self._show_status("✓ Offline demo model ready. It is tiny and untrained: good for trying "
                          "the app, not for real photos.")
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
