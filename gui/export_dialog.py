"""The Prediction tab's "Export model…": the loaded run written for another runtime (ONNX,
OpenVINO, Core ML, TFLite, Triton, a merged transformers folder) by
engine.use.export_formats, in a worker thread with progress; the dialog ends by showing how
the export compared with the run (top-1 agreement, largest probability difference).

The target folder must be new or empty: the engine refuses anything else in plain words,
shown here, and writes nothing.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QDialog, QFileDialog, QFormLayout, QHBoxLayout, QLabel,
                               QLineEdit, QProgressBar, QPushButton, QVBoxLayout, QWidget)

from gui.errors import on_action
from gui.i18n import translate
from gui.scan_worker import FunctionThread, keep_alive


def default_folder(run_dir: str, fmt: str) -> str:
    """<the runs folder's parent>/exports/<run>-<format>: beside the runs, never inside."""
    run = Path(run_dir).resolve()
    return str(run.parent.parent / "exports" / f"{run.name}-{fmt}")


class ExportDialog(QDialog):
    def __init__(self, run_dir: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("exportDialog")
        self.run_dir = run_dir
        self.thread: FunctionThread | None = None
        self.result = None  # engine.use.export_formats.FormatExport once done
        self._edited = False  # the user typed or chose a folder: format changes keep it
        self.setWindowTitle(translate("ExportDialog", "Export model"))
        self._build()

    def _build(self) -> None:
        from engine.use.export_formats import FORMATS, describe

        root = QVBoxLayout(self)
        intro = QLabel(translate("ExportDialog", "Write <b>{run}</b> for another runtime. The "
                                 "export is loaded back and compared with the run on its test "
                                 "pictures.").format(run=Path(self.run_dir).name))
        intro.setWordWrap(True)
        root.addWidget(intro)
        form = QFormLayout()
        self.format = QComboBox()
        for fmt in FORMATS:
            self.format.addItem(f"{fmt} — {describe(fmt)}", fmt)
        self.format.setCurrentIndex(self.format.findData("onnx"))
        self.format.currentIndexChanged.connect(on_action(self.format, self._on_format))
        form.addRow(translate("ExportDialog", "Format:"), self.format)
        self.folder = QLineEdit(default_folder(self.run_dir, "onnx"))
        self.folder.textEdited.connect(lambda _text: setattr(self, "_edited", True))
        self.choose = QPushButton(translate("ExportDialog", "Choose…"))
        self.choose.clicked.connect(on_action(self.choose, self._choose_folder))
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(self.choose)
        form.addRow(translate("ExportDialog", "New folder:"), row)
        root.addLayout(form)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        root.addWidget(self.progress)
        self.status = QLabel(translate("ExportDialog", "The folder must be new or empty."))
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        root.addWidget(self.status)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.export_button = QPushButton(translate("ExportDialog", "Export"))
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(on_action(self.export_button, self.start))
        self.cancel_button = QPushButton(translate("ExportDialog", "Cancel"))
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(on_action(self.cancel_button, self.cancel))
        close = QPushButton(translate("ExportDialog", "Close"))
        close.clicked.connect(on_action(close, self.close))
        for button in (self.export_button, self.cancel_button, close):
            buttons.addWidget(button)
        root.addLayout(buttons)
        self.resize(640, self.sizeHint().height())

    # -- actions --------------------------------------------------------------------
    def _on_format(self) -> None:
        if not self._edited:
            self.folder.setText(default_folder(self.run_dir, self.format.currentData()))

    def _choose_folder(self) -> None:
        """Pick where the new folder goes; its name stays <run>-<format>."""
        parent = QFileDialog.getExistingDirectory(
            self, translate("ExportDialog", "Where to put the export"),
            str(Path(self.folder.text()).parent))
        if parent:
            self._edited = True
            name = f"{Path(self.run_dir).name}-{self.format.currentData()}"
            self.folder.setText(str(Path(parent) / name))

    def start(self) -> None:
        if self.thread is not None:
            return
        fmt, target, run_dir = self.format.currentData(), self.folder.text().strip(), self.run_dir
        if not target:
            self.status.setText(translate("ExportDialog", "Name a new folder for the export."))
            return

        def work(progress):
            from engine.use.export_formats import export_format

            return export_format(run_dir, target, fmt, progress=progress)

        doing = translate("ExportDialog", "exporting {run} as {format}").format(
            run=Path(run_dir).name, format=fmt)
        self.thread = keep_alive(FunctionThread(work, doing, self))
        self.thread.progress.connect(self._on_progress)
        self.thread.succeeded.connect(self._on_done)
        self.thread.failed.connect(self._on_failed)
        self.thread.cancelled.connect(self._on_cancelled)
        self._busy(True)
        self.status.setText(translate("ExportDialog", "Exporting as {format} and checking it "
                                      "against the run…").format(format=fmt))
        self.thread.start()

    def cancel(self) -> None:
        if self.thread is not None:
            self.thread.cancel()

    # -- worker reports -------------------------------------------------------------
    def _busy(self, busy: bool) -> None:
        for widget in (self.export_button, self.format, self.folder, self.choose):
            widget.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)
        self.progress.setVisible(busy)
        if busy:
            self.progress.setRange(0, 0)  # moving until the first report

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def _on_done(self, result) -> None:
        from engine.use.export_check import summary

        self.thread, self.result = None, result
        self._busy(False)
        self.status.setText(result.summary() + "\n" + summary(result.check))

    def _on_failed(self, message: str) -> None:
        self.thread = None
        self._busy(False)
        self.status.setText(translate("ExportDialog", "Nothing was exported: {error}").format(
            error=message))

    def _on_cancelled(self) -> None:
        self.thread = None
        self._busy(False)
        if (Path(self.folder.text().strip()) / "lora_studio_export.json").is_file():
            self.status.setText(translate("ExportDialog", "The export had finished before it "
                                          "could be cancelled: it is in {folder}.").format(
                folder=self.folder.text().strip()))
        else:
            self.status.setText(translate("ExportDialog", "Export cancelled; nothing was "
                                          "written."))


def export_button(tab) -> QPushButton:
    """The Prediction tab's "Export model…" button: enabled once a run is loaded."""
    button = QPushButton(translate("ExportDialog", "Export model…"))
    button.setObjectName("exportModelButton")
    button.setEnabled(bool(tab.run_dir))
    tab.run_opened.connect(lambda _run: button.setEnabled(True))

    def open_dialog() -> None:
        tab.export_dialog = ExportDialog(tab.run_dir, tab)
        tab.export_dialog.show()

    button.clicked.connect(on_action(button, open_dialog))
    return button


__all__ = ["ExportDialog", "default_folder", "export_button"]
