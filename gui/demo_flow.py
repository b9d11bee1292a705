"""`lora-studio --demo`: the whole workflow on this machine, with no network and no data.

It drives the real tabs exactly as a user would click through them: create the demo
dataset (step 1), pick the offline demo model and small settings (step 2), train with
live curves (step 3), then classify a few held-out images (step 4). Each stage starts
when the previous one reports, so the window stays responsive throughout.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, QObject, Signal

from gui.i18n import again, dynamic, translate

# The demo model is tiny and starts from random weights: it needs a higher learning rate
# than a pretrained CLIP, and all of its 4 blocks. ~1 minute of training on 2 CPU cores.
DEMO_SETTINGS = {"epochs": 5, "lr": 5e-3, "head_lr": 1e-2, "batch_size": 16,
                 "lora_last_n_blocks": 0, "early_stop_patience": 0, "method": "lora"}
FAST_SETTINGS = {**DEMO_SETTINGS, "epochs": 3}  # for --screenshots


def demo_dataset_dir() -> Path:
    from engine.config import default_data_dir

    return default_data_dir() / "demo-dataset"


def sample_images(index, per_class: int = 2, split: str = "test") -> list[str]:
    """A few images of every class, from images the model never trained on."""
    chosen: dict[int, list[str]] = {}
    for sample in index.split(split) or index.samples:
        bucket = chosen.setdefault(sample.label, [])
        if len(bucket) < per_class:
            bucket.append(sample.path)
    return [path for label in sorted(chosen) for path in chosen[label]]


class DemoFlow(QObject):
    stage_changed = Signal(str)  # "dataset" | "model" | "training" | "prediction" | "done"
    finished = Signal(str)  # run_dir, after the predictions are shown
    failed = Signal(str)  # what went wrong, in words

    def __init__(self, window, *, settings: dict | None = None, predict_per_class: int = 2) -> None:
        super().__init__(window)
        self.window = window
        self.settings = dict(settings or DEMO_SETTINGS)
        self.predict_per_class = predict_per_class
        self.stage = ""
        self.run_dir = ""
        self.index = None
        self._outcome_shown = False  # the status bar says how the demo ended

    def _enter(self, stage: str) -> None:
        self.stage = stage
        self.stage_changed.emit(stage)
        self.window.status.set_note(dynamic(lambda: translate("DemoFlow", "Demo: {stage}").format(
            stage=translate("DemoFlow", STAGE_TEXT[stage]))), "demo")
        if stage == "done":
            self._keep_outcome_until_next_run()

    def _keep_outcome_until_next_run(self) -> None:
        """How the demo ended stays in the status bar until another run starts: then it is
        no longer the news (a later run's result must not sit beside "Demo stopped")."""
        if not self._outcome_shown:
            self._outcome_shown = True
            self.window.training_tab.run_started.connect(self._on_later_run_started)

    def _on_later_run_started(self, _run_dir: str) -> None:
        self.window.training_tab.run_started.disconnect(self._on_later_run_started)
        self._outcome_shown = False
        self.window.status.clear_note("demo")

    def start(self) -> None:
        w = self.window
        if self._outcome_shown:  # a new demo: its own stages are the news now
            self._on_later_run_started("")
        self._enter("dataset")
        w.show_tab(w.dataset_tab)
        w.dataset_tab.dataset_ready.connect(self._on_dataset_ready)
        w.dataset_tab.create_demo_dataset(str(demo_dataset_dir()))

    def _on_dataset_ready(self, index) -> None:
        w = self.window
        if index is None or self.stage != "dataset":
            return
        w.dataset_tab.dataset_ready.disconnect(self._on_dataset_ready)
        self.index = index
        self._enter("model")
        w.show_tab(w.config_tab)
        for name, value in self.settings.items():
            w.config_tab.set_field(name, value)
        w.config_tab.model_picker.demo_model_ready.connect(self._on_demo_model_ready)
        w.config_tab.model_picker.check_finished.connect(self._on_model_check_finished)
        w.config_tab.use_demo_model()

    def _on_model_check_finished(self, ok: bool, message: str) -> None:
        if not ok and self.stage == "model":
            self._fail(translate("DemoFlow", "The offline demo model could not be prepared: "
                                 "{message}").format(message=message))

    def _on_demo_model_ready(self, path: str) -> None:
        w = self.window
        if self.stage != "model":
            return
        w.config_tab.model_picker.demo_model_ready.disconnect(self._on_demo_model_ready)
        w.config_tab.model_picker.check_finished.disconnect(self._on_model_check_finished)
        self._enter("training")
        w.training_tab.run_finished.connect(self._on_run_finished)
        w.start_training()
        if not w.training_tab.is_running():
            w.training_tab.run_finished.disconnect(self._on_run_finished)
            self._fail(translate("DemoFlow", "Training could not start: {reason}").format(
                reason=w.training_tab.banner.label.text()))

    def _on_run_finished(self, run_dir: str, status: str) -> None:
        w = self.window
        w.training_tab.run_finished.disconnect(self._on_run_finished)
        if status not in ("completed", "stopped"):
            self._fail(translate("DemoFlow", "The demo run ended with status '{status}'.").format(
                status=status))
            return
        self.run_dir = run_dir
        self._enter("prediction")
        w.show_tab(w.prediction_tab)
        w.prediction_tab.service.idle.connect(self._on_prediction_idle)
        # The main window has already asked step 4 to load this run; the images queue
        # behind that load in the prediction tab's worker.
        w.prediction_tab.predict_paths(sample_images(self.index, self.predict_per_class))

    def _on_prediction_idle(self, status: str, message: str) -> None:
        w = self.window
        w.prediction_tab.service.idle.disconnect(self._on_prediction_idle)
        if status == "failed":
            self._fail(translate("DemoFlow", "Prediction failed: {message}").format(message=message))
            return
        self._enter("done")
        self.finished.emit(self.run_dir)

    def _fail(self, message: str) -> None:
        self.stage = "failed"
        self.window.status.set_note(dynamic(lambda: translate(
            "DemoFlow", "Demo stopped: {message}").format(message=again(message))), "demo")
        self._keep_outcome_until_next_run()
        self.failed.emit(message)


STAGE_TEXT = {
    "dataset": QT_TRANSLATE_NOOP("DemoFlow", "creating a demo dataset of generated images…"),
    "model": QT_TRANSLATE_NOOP("DemoFlow", "preparing the offline demo model…"),
    "training": QT_TRANSLATE_NOOP("DemoFlow", "training (watch the curves fill in)…"),
    "prediction": QT_TRANSLATE_NOOP("DemoFlow", "classifying held-out images…"),
    "done": QT_TRANSLATE_NOOP("DemoFlow", "finished. Drop your own images on the Prediction tab, "
                              "or start with your own folder."),
}
