"""Every action a button, menu item, shortcut or drop starts reports its failure (issue #22).

Each case makes the back end its action calls fail (an OSError or a bug-like RuntimeError),
triggers the action the way a user does (a click, a menu item, a drop, a shortcut) and
checks that the window shows a message naming the action and the problem, without a
traceback, that the log file got the traceback, and that the window is still usable.

| case                       | user does                       | made to fail                      |
|----------------------------|---------------------------------|-----------------------------------|
| dataset-choose-folder      | Dataset: Choose a folder…       | the scan (disk full)              |
| dataset-change-folder      | Dataset: Change…                | the scan (bug)                    |
| dataset-rescan             | Dataset: Rescan                 | the scan (bug)                    |
| dataset-demo               | Dataset: Create demo dataset    | generating it (no permission)     |
| dataset-drop               | drop a folder on Dataset        | the scan (bug)                    |
| dataset-cancel             | Dataset: Cancel (busy row)      | cancelling (bug)                  |
| dataset-check-labels       | Dataset: Check labels…          | starting the check's thread       |
| review-save                | Save reviewed dataset           | writing the CSV (bug)             |
| review-apply               | Apply to folder…                | planning the moves (no permission)|
| config-save / -load        | Config: Save / Load config…     | the writer (bug) / settings (r/o) |
| config-check-model         | Config: Check (model)           | starting the check's thread       |
| config-demo-model          | Use the offline demo model      | starting its thread               |
| config-preset              | Config: a preset button         | applying the preset (bug)         |
| config-browse / -copy      | Browse… / Copy                  | the file dialog / the clipboard   |
| config-go-to-dataset       | the banner's Go to Dataset      | switching tabs (bug)              |
| training-start / -stop     | Start training / Stop           | the worker (bug)                  |
| training-open-evaluation   | Open evaluation (result card)   | starting the evaluation thread    |
| training-try-prediction    | Try it in Prediction            | loading the run (bug)             |
| training-continue          | Continue training               | a run without a checkpoint (a     |
|                            |                                 | UserError, shown word for word)   |
| history-refresh / -open    | Refresh / double-click a run    | listing runs / reading metrics    |
| evaluation-*               | Evaluate, Open report folder,   | the thread, the file manager,     |
|                            | Heat maps, a matrix cell        | heat maps, the cell's samples     |
| prediction-choose-*        | Choose images… / a folder…      | queueing the prediction           |
| prediction-drop / -paste   | drop an image / Ctrl+V          | queueing it / reading the clipboard|
| prediction-open-run/-pick  | Open run folder… / the run list | loading the run                   |
| prediction-refresh         | Refresh (runs)                  | listing runs (no permission)      |
| prediction-export          | Export > CSV…                   | the exporter (bug)                |
| prediction-heat            | Heat maps                       | the explainer (bug)               |
| menu-*                     | every File/Run/View/Help item   | what each one calls               |
| banner-open-log            | the error line's Open log folder| the file manager                  |
"""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication

from action_cases import (CASES, bug, case, dialog, disk_full, menu_action, no_permission,
                          raises, run_folder, running)
from dnd_events import drop_paths
from engine.config import default_data_dir


# --- Prediction tab -------------------------------------------------------------------------------
def image(c) -> Path:
    path = c.tmp / "dog.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n")
    return path


def predicting_fails(c, exc) -> None:
    c.w.prediction_tab._run_dir = str(run_folder(c))  # a model is loaded
    c.mp.setattr(c.w.prediction_tab.service, "predict", raises(exc))


@case("prediction-choose-images", "Choose images", "worker gone")
def _(c):
    dialog(c, "getOpenFileNames", ([str(image(c))], ""))
    predicting_fails(c, bug("worker gone"))
    return c.w.prediction_tab.choose_buttons[0].click


@case("prediction-choose-folder", "Choose a folder", "No space left on device")
def _(c):
    dialog(c, "getExistingDirectory", str(c.tmp))
    predicting_fails(c, disk_full())
    return c.w.prediction_tab.choose_buttons[1].click


@case("prediction-drop", "Drop images", "worker gone")
def _(c):
    predicting_fails(c, bug("worker gone"))
    path = image(c)
    return lambda: drop_paths(c.w.prediction_tab, [path])


@case("prediction-paste", "Paste", "clipboard locked")
def _(c):
    c.mp.setattr("gui.widgets.drop_zone.paths_from_mime", raises(bug("clipboard locked")))
    return c.w.prediction_tab.paste_shortcut.activated.emit  # what Ctrl+V does


@case("prediction-open-run", "Open run folder", "loader gone")
def _(c):
    dialog(c, "getExistingDirectory", str(run_folder(c)))
    c.mp.setattr(c.w.prediction_tab.service, "open_run", raises(bug("loader gone")))
    return c.w.prediction_tab.chooser.open_button.click


@case("prediction-pick-run", "Choose a run", "loader gone")
def _(c):
    combo = c.w.prediction_tab.chooser.combo
    combo.addItem("pets-run", str(run_folder(c)))
    c.mp.setattr(c.w.prediction_tab.service, "open_run", raises(bug("loader gone")))
    return lambda: combo.activated.emit(combo.count() - 1)  # what picking it in the list emits


@case("prediction-refresh", "Refresh", "Permission denied")
def _(c):
    c.mp.setattr("engine.runs.list_runs", raises(no_permission(c.tmp / "runs")))
    return c.w.prediction_tab.chooser.refresh_button.click


@case("prediction-export", "Export", "csv encoder broke")
def _(c):
    from engine.use.predict import Prediction

    tab = c.w.prediction_tab
    tab.results.results_model.add([Prediction(source=str(image(c)), top=[("beagle", 0.9)])], {})
    dialog(c, "getSaveFileName", (str(c.tmp / "predictions.csv"), ""))
    c.mp.setattr("engine.use.predict.export_predictions", raises(bug("csv encoder broke")))
    return tab.result_bar.export_button.menu().actions()[0].trigger


@case("prediction-heat", "Heat maps", "explainer broke")
def _(c):
    c.mp.setattr(c.w.prediction_tab.service, "explain", raises(bug("explainer broke")))
    return c.w.prediction_tab.result_bar.heat.click


# --- Menus ----------------------------------------------------------------------------------------
@case("menu-open-dataset", "Open dataset", "No space left on device")
def _(c):
    dialog(c, "getExistingDirectory", str(c.tmp))
    c.mp.setattr(c.w.dataset_tab.scanner, "scan", raises(disk_full()))
    return menu_action(c.w, "Open dataset…").trigger


@case("menu-open-recent", "Open recent dataset", "scanner crashed")
def _(c):
    c.w.settings.add_recent("datasets", str(c.tmp))
    c.w.recent_menu.aboutToShow.emit()  # the menu fills itself as it opens
    c.mp.setattr(c.w.dataset_tab.scanner, "scan", raises(bug("scanner crashed")))
    return c.w.recent_menu.actions()[0].trigger


@case("menu-open-run", "Open run", "metrics.jsonl is damaged")
def _(c):
    dialog(c, "getExistingDirectory", str(run_folder(c)))
    c.mp.setattr("engine.runs.read_metrics", raises(ValueError("metrics.jsonl is damaged")))
    return menu_action(c.w, "Open run…").trigger


@case("menu-load-config", "Load config", "Read-only file system")
def _(c):
    CASES["config-load"][0](c)
    return menu_action(c.w, "Load config…").trigger


@case("menu-save-config", "Save config", "encoder broke")
def _(c):
    CASES["config-save"][0](c)
    return menu_action(c.w, "Save config…").trigger


@case("menu-demo", "Create demo dataset", "Permission denied")
def _(c):
    CASES["dataset-demo"][0](c)
    return menu_action(c.w, "Create demo dataset").trigger


@case("menu-start", "Start training", "can't start new thread")
def _(c):
    CASES["training-start"][0](c)
    return c.w.start_action.trigger


@case("menu-pause", "Pause", "control lost")
def _(c):
    running(c)
    c.mp.setattr(c.w.training_tab.worker, "pause", raises(bug("control lost")))
    return c.w.pause_action.trigger


@case("menu-stop", "Stop", "control lost")
def _(c):
    CASES["training-stop"][0](c)
    return c.w.stop_action.trigger


@case("menu-export-curves", "Export curves as PNG", "No space left on device")
def _(c):
    dialog(c, "getSaveFileName", (str(c.tmp / "curves.png"), ""))
    c.mp.setattr(c.w.training_tab.plots, "export_png", raises(disk_full()))
    return menu_action(c.w, "Export curves as PNG…").trigger


@case("menu-language", "Language", "catalogue unreadable")
def _(c):
    c.mp.setattr("gui.i18n.switch_language", raises(bug("catalogue unreadable")))
    return c.w.language_menu.language_actions["zh_CN"].trigger


@case("menu-readme", "Open README", "no browser")
def _(c):
    c.mp.setattr(QDesktopServices, "openUrl", staticmethod(raises(bug("no browser"))))
    return menu_action(c.w, "Open README").trigger


@case("menu-about", "About LoRA Studio", "metadata unreadable")
def _(c):
    c.mp.setattr("gui.about.about_text", raises(bug("metadata unreadable")))
    return menu_action(c.w, "About LoRA Studio").trigger


@case("banner-open-log", "Open log folder", "no file manager")
def _(c):
    c.mp.setattr(QDesktopServices, "openUrl", staticmethod(raises(bug("no file manager"))))
    return c.w.error_banner.action.click


# --- the test ---------------------------------------------------------------------------------------
def log_text() -> str:
    folder = default_data_dir() / "logs"
    return "".join(p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.log")))


def assert_still_usable(window) -> None:
    """No dialog waits on the user, the tabs switch, and the error line can be dismissed."""
    assert QApplication.activeModalWidget() is None
    menu_action(window, "4 Prediction").trigger()
    assert window.tabs.currentWidget() is window.prediction_tab
    window.error_banner.close_button.click()
    assert window.error_banner.isHidden()


@pytest.mark.parametrize("name", list(CASES))
def test_a_failing_action_tells_the_user(name, main_window, tmp_path, monkeypatch, fake_train,
                                         error_reports):
    arrange, action, problem = CASES[name]
    ctx = SimpleNamespace(w=main_window, tmp=tmp_path, mp=monkeypatch, fake_train=fake_train)
    trigger = arrange(ctx)
    trigger()
    shown = main_window.error_banner.text()
    assert main_window.error_banner.isVisible(), f"nothing shown for {name}"
    assert f"“{action}”" in shown and problem in shown, shown
    assert "Traceback" not in shown and 'File "' not in shown  # the details go to the log
    assert len(error_reports()) == 1
    log = log_text()
    assert "Traceback (most recent call last)" in log and problem in log
    monkeypatch.undo()
    assert_still_usable(main_window)
