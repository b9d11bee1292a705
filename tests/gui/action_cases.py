"""The failing actions of tests/gui/test_action_errors.py, tabs 1-3 and the evaluation view
(its docstring has the table): each case makes what its action calls fail and returns the
trigger a user would pull. `c` is the test's context: the window (w), tmp_path (tmp),
monkeypatch (mp) and the fake_train factory."""
from __future__ import annotations

import errno
from pathlib import Path
from types import SimpleNamespace

from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QFileDialog, QListWidgetItem, QPushButton

from dnd_events import drop_paths
from engine.config import TrainConfig, default_data_dir
from engine.events import RunFinished
from gui.widgets.run_history import PATH_ROLE

CASES: dict[str, tuple] = {}


def case(name: str, action: str, problem: str):
    """Register `arrange(ctx) -> trigger` as a case: `action` and `problem` must be shown."""
    def register(arrange):
        CASES[name] = (arrange, action, problem)
        return arrange
    return register


def raises(exc: BaseException):
    def fail(*_args, **_kwargs):
        raise exc
    return fail


def bug(text: str) -> RuntimeError:
    return RuntimeError(text)


def disk_full() -> OSError:
    return OSError(errno.ENOSPC, "No space left on device")


def no_permission(path) -> OSError:
    return PermissionError(errno.EACCES, "Permission denied", str(path))


def dialog(c, name: str, answer) -> None:
    c.mp.setattr(QFileDialog, name, staticmethod(lambda *a, **k: answer))


def button(widget, text: str) -> QPushButton:
    return next(b for b in widget.findChildren(QPushButton) if b.text() == text)


def menu_action(window, text: str):
    menus = window.menuBar().findChildren(type(window.recent_menu))
    return next(a for m in menus for a in m.actions() if a.text() == text)


def run_folder(c) -> Path:
    """A finished run as the result card needs it (a head file, run.json)."""
    run = c.tmp / "runs" / "pets-run"
    run.mkdir(parents=True, exist_ok=True)
    (run / "head.safetensors").write_bytes(b"")
    (run / "run.json").write_text("{}", encoding="utf-8")
    return run


def ready_to_train(c, **fake) -> None:
    tab = c.w.training_tab
    tab.set_config_provider(lambda: TrainConfig(data_dir=str(c.tmp), output_dir=str(c.tmp / "runs")))
    tab.set_blocker("")
    if fake:
        tab.train_fn = c.fake_train(**fake)


def running(c) -> None:
    ready_to_train(c, steps=2000, delay=0.01)
    assert c.w.training_tab.start()


# --- Dataset tab ----------------------------------------------------------------------------------
@case("dataset-choose-folder", "Choose a folder of images", "No space left on device")
def _(c):
    dialog(c, "getExistingDirectory", str(c.tmp))
    c.mp.setattr(c.w.dataset_tab.scanner, "scan", raises(disk_full()))
    return c.w.dataset_tab.choose_button.click


@case("dataset-change-folder", "Change", "scanner crashed")
def _(c):
    dialog(c, "getExistingDirectory", str(c.tmp))
    c.mp.setattr(c.w.dataset_tab.scanner, "scan", raises(bug("scanner crashed")))
    return button(c.w.dataset_tab, "Change…").click


@case("dataset-rescan", "Rescan", "scanner crashed")
def _(c):
    c.w.dataset_tab._source = str(c.tmp)  # a dataset was opened before
    c.mp.setattr(c.w.dataset_tab.scanner, "scan", raises(bug("scanner crashed")))
    return c.w.dataset_tab.rescan_button.click


@case("dataset-demo", "Create demo dataset", "Permission denied")
def _(c):
    c.mp.setattr(c.w.dataset_tab.scanner, "make_demo",
                 raises(no_permission(default_data_dir() / "demo-dataset")))
    return c.w.dataset_tab.demo_button.click


@case("dataset-drop", "Drop a folder", "scanner crashed")
def _(c):
    c.mp.setattr(c.w.dataset_tab.scanner, "scan", raises(bug("scanner crashed")))
    return lambda: drop_paths(c.w.dataset_tab, [c.tmp])


@case("dataset-cancel", "Cancel", "cannot cancel")
def _(c):
    job = SimpleNamespace(cancel=raises(bug("cannot cancel")))  # the scan now running
    c.mp.setattr(c.w.dataset_tab.scanner, "_current", job)
    return c.w.dataset_tab.busy.cancel_button.click


@case("dataset-check-labels", "Check labels", "can't start new thread")
def _(c):
    c.w.dataset_tab._index = SimpleNamespace(root=str(c.tmp))
    c.mp.setattr("gui.review_flow.FunctionThread", raises(bug("can't start new thread")))
    return c.w.dataset_tab.check_button.click


def review_page(c):
    tab = c.w.dataset_tab
    tab.review_flow.index = SimpleNamespace(root=str(c.tmp / "pets"))
    tab.pages.setCurrentIndex(2)
    page = tab.review_page
    page.save_button.setEnabled(True)  # as after the first decision
    page.apply_button.setEnabled(True)
    return page


@case("review-save", "Save reviewed dataset", "csv writer broke")
def _(c):
    c.mp.setattr("engine.review.decisions.write_reviewed_csv", raises(bug("csv writer broke")))
    return review_page(c).save_button.click


@case("review-apply", "Apply to folder", "Permission denied")
def _(c):
    c.mp.setattr("engine.review.decisions.plan_moves", raises(no_permission(c.tmp / "pets")))
    return review_page(c).apply_button.click


# --- Config tab -----------------------------------------------------------------------------------
@case("config-save", "Save config", "encoder broke")
def _(c):
    dialog(c, "getSaveFileName", (str(c.tmp / "config.json"), ""))
    c.mp.setattr(TrainConfig, "save", raises(bug("encoder broke")))
    return c.w.config_tab.save_button.click


@case("config-load", "Load config", "Read-only file system")
def _(c):
    dialog(c, "getOpenFileName", (str(c.tmp / "config.json"), ""))
    config = c.w.config_tab.config()
    c.mp.setattr(TrainConfig, "load", staticmethod(lambda path: config))
    c.mp.setattr(c.w.config_tab.settings, "add_recent",
                 raises(OSError(errno.EROFS, "Read-only file system")))
    return c.w.config_tab.load_button.click


@case("config-check-model", "Check", "can't start new thread")
def _(c):
    c.mp.setattr("gui.widgets.model_picker.FunctionThread", raises(bug("can't start new thread")))
    return c.w.config_tab.model_picker.check_button.click


@case("config-demo-model", "Use the offline demo model", "can't start new thread")
def _(c):
    c.mp.setattr("gui.widgets.model_picker.FunctionThread", raises(bug("can't start new thread")))
    return c.w.config_tab.model_picker.demo_button.click


@case("config-preset", "Tutorial recipe", "unknown preset field")
def _(c):
    c.mp.setattr("gui.tabs.config_tab.apply_preset", raises(ValueError("unknown preset field")))
    return c.w.config_tab.preset_buttons["Tutorial recipe"].click


@case("config-browse", "Browse", "no file dialog")
def _(c):
    c.mp.setattr(QFileDialog, "getExistingDirectory", staticmethod(raises(bug("no file dialog"))))
    return c.w.config_tab.editors["output_dir"].browse.click


@case("config-copy", "Copy", "clipboard locked")
def _(c):
    c.mp.setattr(QGuiApplication, "clipboard", staticmethod(raises(bug("clipboard locked"))))
    return c.w.config_tab.copy_button.click


@case("config-go-to-dataset", "Go to Dataset", "tab gone")
def _(c):
    c.mp.setattr(c.w, "show_tab", raises(bug("tab gone")))
    return c.w.config_tab.banner.action.click


# --- Training tab ---------------------------------------------------------------------------------
@case("training-start", "Start training", "can't start new thread")
def _(c):
    ready_to_train(c)
    c.mp.setattr("gui.tabs.training_tab.TrainingWorker", raises(bug("can't start new thread")))
    return c.w.training_tab.start_button.click


@case("training-stop", "Stop", "control lost")
def _(c):
    running(c)
    c.mp.setattr(c.w.training_tab.worker, "stop", raises(bug("control lost")))
    return c.w.training_tab.stop_button.click


def result_card(c):
    run = run_folder(c)
    c.w.training_tab.summary.show_result(RunFinished(status="stopped", run_dir=str(run)))
    return c.w.training_tab.summary


@case("training-open-evaluation", "Open evaluation", "can't start new thread")
def _(c):
    c.mp.setattr("gui.widgets.evaluation_view.FunctionThread", raises(bug("can't start new thread")))
    return result_card(c).evaluate_button.click


@case("training-try-prediction", "Try it in Prediction", "loader gone")
def _(c):
    c.mp.setattr(c.w.prediction_tab.service, "open_run", raises(bug("loader gone")))
    return result_card(c).predict_button.click


@case("training-continue", "Continue training", "checkpoints/last")
def _(c):
    return result_card(c).continue_button.click  # the run has no checkpoint: a UserError


@case("history-refresh", "Refresh", "Permission denied")
def _(c):
    c.mp.setattr("engine.runs.list_runs", raises(no_permission(c.tmp / "runs")))
    return c.w.training_tab.history.refresh_button.click


@case("history-open", "Open a run", "metrics.jsonl is damaged")
def _(c):
    item = QListWidgetItem("pets-run")
    item.setData(PATH_ROLE, str(run_folder(c)))
    c.w.training_tab.history.list.addItem(item)
    c.mp.setattr("engine.runs.read_metrics", raises(ValueError("metrics.jsonl is damaged")))
    return lambda: c.w.training_tab.history.list.itemDoubleClicked.emit(item)


# --- Evaluation view ------------------------------------------------------------------------------
@case("evaluation-evaluate", "Evaluate", "can't start new thread")
def _(c):
    c.w.training_tab.evaluation.set_run(str(run_folder(c)))
    c.mp.setattr("gui.widgets.evaluation_view.FunctionThread", raises(bug("can't start new thread")))
    return c.w.training_tab.evaluation.evaluate_button.click


@case("evaluation-report-folder", "Open report folder", "no file manager")
def _(c):
    view = c.w.training_tab.evaluation
    view.report = SimpleNamespace(report_dir=str(c.tmp))
    view.report_button.setEnabled(True)
    c.mp.setattr(QDesktopServices, "openUrl", staticmethod(raises(bug("no file manager"))))
    return view.report_button.click


@case("evaluation-heat-maps", "Heat maps", "Grad-CAM broke")
def _(c):
    view = c.w.training_tab.evaluation
    view._cell_paths = [str(c.tmp / "a.png")]
    c.mp.setattr(view.heat_maps, "request", raises(bug("Grad-CAM broke")))
    return view.heat_box.click


@case("evaluation-cell", "Show a cell's images", "report has no samples")
def _(c):
    view = c.w.training_tab.evaluation
    view.report = SimpleNamespace(class_names=["a", "b"], samples=[])
    c.mp.setattr("gui.widgets.evaluation_view.cell_samples", raises(KeyError("report has no samples")))
    return lambda: view.matrix.cell_clicked.emit(0, 1)  # what a click on a cell emits
