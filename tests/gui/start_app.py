"""Start the real app in a fresh interpreter and begin one action the moment its window appears.

A test's own interpreter has long imported torch and transformers, so it can never meet
what a user meets on a real start: the background warm-up importing the libraries while a
worker makes its first engine call. This script is such a start, as `lora-studio` does it
(gui/app.py: window shown, hardware detection and warm-up queued at once), followed in the
same event-loop turn by one action. It prints "OK <detail>" and exits 0 when the action
succeeded, or prints "FAILED <message>" and exits 1; a watchdog exits 3 if nothing ends.

    python tests/gui/start_app.py demo
    python tests/gui/start_app.py train DATA_DIR
    python tests/gui/start_app.py check
    python tests/gui/start_app.py check-labels DATA_DIR
    python tests/gui/start_app.py predict RUN_DIR IMAGE

LORA_STUDIO_HOME (set by the caller) is the home: the demo model lives in it after the
first `demo`, as it does for a user who starts the app a second time.
"""
from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

WATCHDOG_MS = 8 * 60 * 1000
SHORT = {"epochs": 1, "batch_size": 16, "lr": 5e-3, "head_lr": 1e-2, "lora_last_n_blocks": 0,
         "early_stop_patience": 0, "method": "lora"}


def main(argv: list[str]) -> int:
    action, args = argv[0], argv[1:]
    app = QApplication.instance() or QApplication(["lora-studio"])
    from gui.main_window import MainWindow

    window = MainWindow()
    outcome: dict[str, object] = {}

    def finish(ok: bool, detail: str) -> None:
        if "ok" not in outcome:
            outcome.update(ok=ok, detail=detail)
            QTimer.singleShot(0, app.quit)

    window.show()
    QTimer.singleShot(0, window.status.detect_hardware)  # as gui.app.main: warm-up follows
    QTimer.singleShot(0, lambda: ACTIONS[action](window, finish, *args))
    QTimer.singleShot(WATCHDOG_MS, lambda: finish(False, "watchdog: nothing ended"))
    app.exec()
    window.shutdown()
    if outcome.get("detail", "").startswith("watchdog"):
        print("FAILED", outcome["detail"], flush=True)
        return 3
    print("OK" if outcome.get("ok") else "FAILED", outcome.get("detail", ""), flush=True)
    return 0 if outcome.get("ok") else 1


def demo_model() -> str:
    from engine.config import default_data_dir

    folder = default_data_dir() / "demo-model"
    assert (folder / "config.json").is_file(), "start `demo` once first: it builds the model"
    return str(folder)


def demo(window, finish) -> None:
    from gui.demo_flow import DemoFlow

    flow = window.demo = DemoFlow(window, settings=SHORT, predict_per_class=1)
    flow.finished.connect(lambda run_dir: finish(True, run_dir))
    flow.failed.connect(lambda message: finish(False, message))
    flow.start()


def _with_dataset(window, data_dir: str, then) -> None:
    """Open `data_dir` in the Dataset tab with the demo model chosen, then call then(index)."""
    window.config_tab.model_picker.set_value(demo_model())
    for name, value in SHORT.items():
        window.config_tab.set_field(name, value)

    def ready(index) -> None:
        window.dataset_tab.dataset_ready.disconnect(ready)
        then(index)

    window.dataset_tab.dataset_ready.connect(ready)
    window.dataset_tab.open_folder(data_dir)


def train(window, finish, data_dir: str) -> None:
    def start(index) -> None:
        tab = window.training_tab
        tab.run_finished.connect(lambda run_dir, status: finish(status == "completed",
                                                                f"{status} {run_dir}"))
        window.start_training()
        if not tab.is_running():
            finish(False, "training did not start: " + tab.banner.label.text())

    _with_dataset(window, data_dir, start)


def check(window, finish) -> None:
    picker = window.config_tab.model_picker
    picker.check_finished.connect(finish)
    picker.set_value(demo_model())
    picker.check()


def check_labels(window, finish, data_dir: str) -> None:
    def start(index) -> None:
        flow = window.dataset_tab.review_flow
        flow.report_ready.connect(lambda report: finish(True, f"{len(report.issues)} issues"))
        flow.message.connect(lambda message: finish(False, message))
        flow.start(index)

    _with_dataset(window, data_dir, start)


def predict(window, finish, run_dir: str, image: str) -> None:
    tab = window.prediction_tab
    tab.service.run_failed.connect(lambda run, message: finish(False, message))

    def idle(status: str, message: str) -> None:
        predictions = tab.results.results_model.predictions()
        errors = [p.error for p in predictions if p.error]
        finish(status == "completed" and bool(predictions) and not errors,
               f"{status} {message} {errors or [p.top[0] for p in predictions]}")

    tab.service.idle.connect(idle)
    window.open_run(run_dir)
    tab.predict_paths([image])  # queued behind the run's load, as a drop right away is


ACTIONS = {"demo": demo, "train": train, "check": check, "check-labels": check_labels,
           "predict": predict}

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    sys.exit(main(sys.argv[1:]))
