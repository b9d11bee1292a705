"""Step 4, Prediction: pick a trained run, then drop (or choose, or paste) images and
folders to see each image's top labels with confidence bars.

The model loads and predicts in a worker thread (gui.prediction_worker); folders go in
chunks with a cancellable progress bar; files that are not images get a per-file message
and never stop the rest. Results export to CSV or JSON with the engine's exporter.
"""
from __future__ import annotations

import dataclasses
import shutil
import tempfile
from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, Qt, Signal
from PySide6.QtGui import QImage, QKeySequence, QShortcut
from PySide6.QtWidgets import (QApplication, QFileDialog, QHBoxLayout, QLabel, QPushButton,
                               QVBoxLayout, QWidget)

from gui.engine_texts import engine_again, engine_dynamic
from gui.errors import on_action
from gui.export_dialog import export_button
from gui.i18n import dynamic, translate
from gui.prediction_worker import PredictionService
from gui.serve_dialog import serve_button
from gui.widgets.banner import Banner
from gui.widgets.busy_row import BusyRow
from gui.widgets.drop_zone import DropZone
from gui.widgets.prediction_results import PredictionList
from gui.widgets.result_bar import ResultBar
from gui.widgets.run_chooser import RunChooser

IMAGE_FILTER = QT_TRANSLATE_NOOP(
    "PredictionTab", "Images (*.jpg *.jpeg *.png *.bmp *.gif *.webp *.tif *.tiff);;All files (*)")


def using_text(run_dir: str, class_names: list[str]) -> str:
    """'Using pets-run: 4 classes (beagle, pug, …).', the model line once a run is loaded."""
    names = ", ".join(class_names[:8])
    if len(class_names) > 8:
        names = translate("prediction_tab", "{names} and {count} more").format(
            names=names, count=len(class_names) - 8)
    return translate("prediction_tab", "Using {run}: {count} classes ({names}).").format(
        run=Path(run_dir).name, count=len(class_names), names=names)


class PredictionTab(QWidget):
    state_changed = Signal(str)
    run_opened = Signal(str)

    def __init__(self, settings=None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        self._runs_root = "runs"
        self._run_dir = ""  # the loaded run
        self._loading = ""  # the run being loaded
        self._waiting: list[str] = []  # dropped before any model was loaded
        self._titles: dict[str, str] = {}  # temp path -> "Pasted image n"
        self._paste_dir = tempfile.mkdtemp(prefix="lora-studio-paste-")
        self._pasted = 0
        self._state = ""
        self._default_run = ""  # newest completed/stopped run under the runs folder
        self.service = PredictionService(self)
        self.service.run_loaded.connect(self._on_run_loaded)
        self.service.run_failed.connect(self._on_run_failed)
        self.service.progress.connect(self._on_progress)
        self.service.results_ready.connect(self._on_results)
        self.service.idle.connect(self._on_idle)
        self.service.explained.connect(lambda maps: self.results.results_model.add_heat_maps(maps))
        self.service.explain_failed.connect(lambda text: self._say(engine_dynamic(text), "heat"))
        self._reveal = False  # show the first result of the next batch (scroll to it)
        self._build()
        from gui.neighbours_flow import attach_why_by_example  # right-click a result
        self.why_by_example = attach_why_by_example(self)
        from gui.feedback_flow import FeedbackFlow  # right / wrong: new labels of the run
        self.feedback = FeedbackFlow(self)
        from gui.live_flow import LiveFlow  # "Camera" / "Video file…": the live page
        self.live = LiveFlow(self)
        self.drop_zone.watch(self)
        self.paste_shortcut = QShortcut(
            QKeySequence.StandardKey.Paste, self,
            on_action(self, self.paste_from_clipboard, translate("PredictionTab", "Paste")),
            context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.refresh_runs()

    # -- public interface ----------------------------------------------------------
    @property
    def run_dir(self) -> str:
        return self._run_dir

    def status_text(self) -> str:
        if self.service.busy:
            return translate("PredictionTab", "Predicting…")
        if not self._run_dir:
            return translate("PredictionTab", "No model chosen yet")
        ok, low, failed = self.results.results_model.counts()
        return translate("PredictionTab", "Model {run}: {ok:,} predicted · {low:,} low "
                         "confidence").format(run=Path(self._run_dir).name, ok=ok, low=low)

    def set_runs_root(self, path: str) -> None:
        self._runs_root = str(path)
        self.refresh_runs()

    def refresh_runs(self) -> None:
        self._default_run = self.chooser.fill(self._runs_root, self._run_dir, self._loading)
        if not self._run_dir and not self._loading:
            self.model_label.setText(
                translate("PredictionTab", "Choose a model above, or just add images: the newest "
                          "run ({run}) is then used.").format(run=Path(self._default_run).name)
                if self._default_run else
                translate("PredictionTab", "No trained model yet. Train one in step 3, or open a "
                          "run folder you were given."))

    def open_run(self, run_dir: str) -> None:
        """Load the model of a run folder in the background (run_opened follows)."""
        self._loading = str(run_dir)
        self.model_label.setText(translate("PredictionTab", "Loading the model from {run_dir}…"
                                           ).format(run_dir=run_dir))
        self.service.open_run(self._loading)

    def choose_run_folder(self) -> None:
        self.chooser.choose_folder()

    def predict_paths(self, paths: list[str]) -> None:
        """Predict image files and folders (recursively); results appear as they come."""
        paths = self.live.take_videos([str(p) for p in paths])  # a video plays live
        if not paths:
            return
        if not self._run_dir:
            self._waiting.extend(paths)
            if self._loading:
                return
            if self._default_run:
                # The newest usable run: better than making the user stop here to choose.
                self.open_run(self._default_run)
            else:
                self._say(translate(
                    "PredictionTab", "There is no model to predict with yet. Train one in step 3 "
                    "(Training), or open a run folder with “Open run folder…”; "
                    "the images you added will be predicted then."))
            return
        self.busy.start(translate("PredictionTab", "Predicting…"))
        self._set_state("running")
        self._reveal = True
        try:
            self.service.predict(paths, top_k=max(5, self.top_k.value()))
        except BaseException:  # nothing was queued: no busy row (gui.errors reports why)
            self.busy.stop()
            self._set_state("attention")
            raise

    def predict_image(self, image: QImage) -> None:
        """Predict an image that is not a file (pasted, or dragged from another app)."""
        self._pasted += 1
        path = str(Path(self._paste_dir) / f"pasted-{self._pasted}.png")
        image.save(path, "PNG")
        self._titles[path] = translate("PredictionTab", "Pasted image {number}").format(
            number=self._pasted)
        self.message.clear("paste")  # "the clipboard holds no image" is over
        self.predict_paths([path])

    def paste_from_clipboard(self) -> None:
        mime = QApplication.clipboard().mimeData()
        from gui.widgets.drop_zone import image_from_mime, paths_from_mime

        paths = paths_from_mime(mime)
        image = None if paths else image_from_mime(mime)
        if paths:
            self.message.clear("paste")
            self.predict_paths(paths)
        elif image is not None:
            self.predict_image(image)
        else:
            self._say(translate("PredictionTab", "The clipboard holds no image. Copy an image "
                                "(or image files) first, then press Ctrl+V here."), "paste")

    def export(self, path: str) -> None:
        """Write all results to CSV or JSON (by suffix) with engine.use.predict.export_predictions."""
        from engine.errors import UserError
        from engine.use.predict import export_predictions

        model = self.results.results_model
        predictions = model.predictions()
        if model.not_sure:  # exports say "not sure" where the list does
            predictions = [dataclasses.replace(p, not_sure_below=model.threshold)
                           for p in predictions]
        try:
            export_predictions(predictions, path)
        except OSError as exc:
            self._say(translate("PredictionTab", "Could not save {path}: {error}. Choose another "
                                "folder or file name and export again.").format(
                path=path, error=exc.strerror or exc))
            return
        except UserError as exc:
            self._say(str(exc))
            return
        self._say(translate("PredictionTab", "Saved {count:,} results to {path}.").format(
            count=len(predictions), path=path))

    def clear_results(self) -> None:
        self.results.results_model.clear()
        self._update_summary()

    def shutdown(self) -> None:
        self.live.shutdown()
        self.service.shutdown()
        self.results.loader.shutdown()
        self.why_by_example.shutdown()
        shutil.rmtree(self._paste_dir, ignore_errors=True)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt API)
        self.shutdown()
        super().closeEvent(event)

    # -- building ------------------------------------------------------------------
    def _build(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(16, 16, 16, 16)
        root.setSpacing(8)
        self.chooser = RunChooser()
        self.run_combo = self.chooser.combo
        self.chooser.chosen.connect(on_action(self.chooser, self._on_run_chosen,
                                              translate("RunChooser", "Choose a run")))
        self.chooser.refresh_requested.connect(on_action(self.chooser.refresh_button,
                                                         self.refresh_runs))
        root.addWidget(self.chooser)
        self.model_label = QLabel(translate("PredictionTab",
                                            "Choose a trained run to predict with."))
        self.model_label.setWordWrap(True)
        using = QHBoxLayout()
        using.addWidget(self.model_label, 1)
        self.serve_button = serve_button(self)  # "Serve this model…" (gui/serve_dialog.py)
        using.addWidget(self.serve_button)
        self.export_model_button = export_button(self)  # "Export model…" (gui/export_dialog.py)
        using.addWidget(self.export_model_button)
        root.addLayout(using)
        self.drop_zone = DropZone(translate(
            "PredictionTab",
            "Drop images, folders or a video anywhere here · Ctrl+V pastes an image"))
        dropped = translate("PredictionTab", "Drop images")
        self.drop_zone.paths_dropped.connect(on_action(self, self.predict_paths, dropped))
        self.drop_zone.image_dropped.connect(on_action(self, self.predict_image, dropped))
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.choose_buttons: list[QPushButton] = []  # images, folder
        for text, slot in ((translate("PredictionTab", "Choose images…"), self._choose_files),
                           (translate("PredictionTab", "Choose a folder…"), self._choose_folder)):
            button = QPushButton(text)
            button.clicked.connect(on_action(button, slot))
            buttons.addWidget(button)
            self.choose_buttons.append(button)
        buttons.addStretch(1)
        self.source_buttons = buttons  # gui.live_flow adds Camera and Video file… here
        self.drop_zone.content_layout().addLayout(buttons)
        root.addWidget(self.drop_zone)
        self.busy = BusyRow(self)
        self.busy.cancel_button.clicked.connect(on_action(self.busy.cancel_button,
                                                          self.service.cancel))
        root.addWidget(self.busy)
        self.result_bar = bar = ResultBar()
        bar.top_k_changed.connect(lambda k: self.results.results_model.set_shown_k(k))
        bar.threshold_changed.connect(self._on_threshold)
        bar.export_requested.connect(on_action(bar.export_button, self._choose_export))
        bar.clear_requested.connect(on_action(bar.clear_button, self.clear_results))
        bar.not_sure_changed.connect(on_action(bar.not_sure, self._on_not_sure))
        bar.heat_changed.connect(on_action(bar.heat, self._on_heat))
        bar.backend_changed.connect(on_action(bar.backend, self._on_backend))
        bar.tta_changed.connect(on_action(bar.tta, self._on_tta))
        backend = self._settings.backend() if hasattr(self._settings, "backend") else "auto"
        bar.set_backend(backend)
        self.service.set_backend(bar.backend.currentData())
        self.summary, self.top_k, self.threshold = bar.summary, bar.top_k, bar.threshold
        root.addWidget(bar)
        self.message = Banner()  # the last action's outcome; closable, the next one replaces it
        self.message.setVisible(False)
        self.message.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        root.addWidget(self.message)
        self.results = PredictionList()
        root.addWidget(self.results, 1)

    # -- handlers ------------------------------------------------------------------
    def _on_backend(self, backend: str) -> None:
        """Another backend: remembered, and the model in use is reopened with it."""
        self.service.set_backend(backend)
        if hasattr(self._settings, "set_backend"):
            self._settings.set_backend(backend)
        if self._run_dir or self._loading:
            self.open_run(self._loading or self._run_dir)

    def _on_tta(self, mode: str) -> None:
        """Another test-time augmentation: the model in use is reopened with it."""
        self.service.set_tta(mode)
        if self._run_dir or self._loading:
            self.open_run(self._loading or self._run_dir)

    def _say(self, text: str, source: str = "") -> None:
        """The tab's one message (hidden when there is nothing to say); `source` names the
        action it is about, whose next result clears it (gui.widgets.banner)."""
        self.message.show_message(text, source)

    def _set_state(self, state: str) -> None:
        if state != self._state:
            self._state = state
            self.state_changed.emit(state)

    def _on_run_chosen(self, path: str) -> None:
        problem = self.chooser.problems.get(path)
        if problem:  # listed as damaged: say why at once instead of trying to load it
            self._loading = path
            self._on_run_failed(path, problem)
        elif path != self._run_dir:
            self.open_run(path)

    def _on_run_loaded(self, run_dir: str, class_names: list) -> None:
        if run_dir != self._loading:
            return  # an older request finished after a newer one was made
        self._run_dir, self._loading = run_dir, ""
        self.model_label.setText(dynamic(lambda: using_text(run_dir, list(class_names))))
        tta = self.service.tta_info()  # what the views bought on the validation images
        if tta.get("mode", "off") != "off":
            from engine.use.tta import describe

            self._say(describe(tta))
        else:
            self._say("")
        if self._settings is not None and hasattr(self._settings, "add_recent"):
            self._settings.add_recent("runs", run_dir)
        self.refresh_runs()
        self._set_state("done")
        self.run_opened.emit(run_dir)
        waiting, self._waiting = self._waiting, []
        self.predict_paths(waiting)

    def _on_run_failed(self, run_dir: str, message: str) -> None:
        if run_dir != self._loading:
            return
        self._loading = ""
        self._waiting = []
        self.refresh_runs()  # first: it resets the model line, which must show the error
        if self._run_dir:
            run = Path(self._run_dir).name
            text = dynamic(lambda: translate(
                "PredictionTab", "Could not load the model in {run_dir}. {message} Still using "
                "{run}.").format(run_dir=run_dir, message=engine_again(message), run=run))
        else:
            text = dynamic(lambda: translate(
                "PredictionTab", "Could not load the model in {run_dir}. {message} Choose "
                "another run above, or open another run folder.").format(
                run_dir=run_dir, message=engine_again(message)))
        self.model_label.setText(text)
        self._set_state("done" if self._run_dir else "attention")

    def _on_progress(self, done: int, total: int) -> None:
        text = translate("PredictionTab", "Predicting: {done:,} of {total:,} images").format(
            done=done, total=total) if total else ""
        self.busy.progress(done, total, text)

    def _on_results(self, predictions: list) -> None:
        model = self.results.results_model
        first = model.rowCount()
        model.add(predictions, self._titles)
        if self._reveal and model.rowCount() > first:
            self._reveal = False
            self.results.reveal(first)  # what was just added, not somewhere below the fold
        self._update_summary()
        if model.show_heat:
            self.service.explain(model.paths_without_heat())

    def _on_not_sure(self, on: bool) -> None:
        self.results.results_model.set_not_sure(on)
        self._update_summary()

    def _on_heat(self, on: bool) -> None:
        model = self.results.results_model
        model.set_show_heat(on)
        if on:
            self.service.explain(model.paths_without_heat())

    def _on_idle(self, status: str, message: str) -> None:
        self.busy.stop()
        self._set_state("done" if self._run_dir else "")
        if status == "cancelled":
            self._say(translate("PredictionTab", "Stopped. The results so far are kept; add the "
                                "images again to predict the rest."), "predict")
        elif status == "failed":
            self._say(dynamic(lambda: translate("PredictionTab", "Prediction failed. {message}")
                              .format(message=engine_again(message))), "predict")
            self._set_state("attention")
        else:
            self.message.clear("predict")  # an earlier failure is no longer the news
        self._update_summary()

    def _on_threshold(self, share: float) -> None:
        self.results.results_model.set_threshold(share)
        self._update_summary()

    def _update_summary(self) -> None:
        model = self.results.results_model
        self.result_bar.show_counts(*model.counts(), not_sure=model.not_sure)

    def _choose_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self, translate("PredictionTab", "Choose images to predict"), "",
            translate("PredictionTab", IMAGE_FILTER))
        self.predict_paths(paths)

    def _choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(
            self, translate("PredictionTab", "Choose a folder of images to predict"))
        if path:
            self.predict_paths([path])

    def _choose_export(self, suffix: str) -> None:
        if not self.results.results_model.predictions():
            self._say(translate("PredictionTab",
                                "Nothing to export yet: predict some images first."))
            return
        default = str(Path(self._run_dir or ".").name) + f"-predictions.{suffix}"
        path, _ = QFileDialog.getSaveFileName(
            self, translate("PredictionTab", "Export predictions"), default,
            f"{suffix.upper()} (*.{suffix})")
        if path:
            if not path.lower().endswith("." + suffix):
                path += "." + suffix
            self.export(path)
