"""A reviewed dataset keeps its identity through the real window (issue #23): the demo
dataset, a class renamed, the data check decided from the keyboard and saved; the run
trained on the saved CSV records that CSV, is evaluated, continued from a window with no
dataset open and evaluated again; a second save writes its own CSV; reopening the saved
dataset shows the rename."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from engine.runs import read_run
from gui.main_window import MainWindow
from gui.widgets.dataset_parts import FOLDER_COL, NAME_COL

RUN = 180_000  # ms: generous for a busy 2-core machine (a tiny run takes seconds)


def click(qtbot, button) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def rename(qtbot, tab, folder: str, name: str) -> None:
    row = next(r for r in range(tab.table.rowCount())
               if tab.table.item(r, FOLDER_COL).text() == folder)
    tab.table.setCurrentCell(row, NAME_COL)
    with qtbot.waitSignal(tab.dataset_ready, timeout=5_000):
        tab.table.item(row, NAME_COL).setText(name)


def review_and_save(qtbot, tab, keys) -> object:
    """Check labels, press `keys` on the label list, save; returns the opened index."""
    with qtbot.waitSignal(tab.review_flow.report_ready, timeout=RUN):
        click(qtbot, tab.check_button)
    grid = tab.review_page.label_grid
    assert tab.review_page.labels.rowCount() >= len(keys), "the check flagged too few images"
    for key in keys:
        qtbot.keyClick(grid, key)
    with qtbot.waitSignal(tab.dataset_ready, timeout=30_000) as saved:
        click(qtbot, tab.review_page.save_button)
    return saved.args[0]


def finish(qtbot, window, start) -> tuple[str, str]:
    with qtbot.waitSignal(window.training_tab.run_finished, timeout=RUN) as finished:
        start()
    return finished.args[0], finished.args[1]


def evaluate(qtbot, training):
    with qtbot.waitSignal(training.evaluation.evaluation_finished, timeout=RUN) as done:
        click(qtbot, training.summary.evaluate_button)
    return done.args[0]


def tiny_settings(config, tiny_clip_dir, tmp_path) -> None:
    config.model_picker.set_value(str(tiny_clip_dir))
    config.editors["epochs"].widget.setValue(1)
    config.editors["batch_size"].widget.setValue(16)
    config.editors["lr"].widget.setValue(5e-3)
    config.editors["head_lr"].widget.setValue(1e-2)
    config.editors["num_threads"].widget.setValue(1)
    config.editors["cache_dir"].set_value(str(tmp_path / "cache"))


def test_a_reviewed_dataset_keeps_its_identity(qtbot, main_window, settings, tiny_clip_dir,
                                               tmp_path):
    w = main_window
    ds, config, training = w.dataset_tab, w.config_tab, w.training_tab
    tiny_settings(config, tiny_clip_dir, tmp_path)  # the data check uses this model too

    # --- create the demo dataset, rename a class, check, decide K R 3, save ------------
    with qtbot.waitSignal(ds.dataset_ready, timeout=RUN):
        click(qtbot, ds.demo_button)
    demo = ds.index.root
    rename(qtbot, ds, "red_circle", "scarlet disc")
    reviewed = review_and_save(qtbot, ds, [Qt.Key.Key_K, Qt.Key.Key_R, Qt.Key.Key_3])
    csv_path = reviewed.root
    assert csv_path.endswith(".csv") and Path(csv_path).is_file()  # the dataset is the file
    assert "scarlet disc" in reviewed.class_names  # the rename was saved with it
    assert "scarlet disc" in [ds.table.item(r, NAME_COL).text()
                              for r in range(ds.table.rowCount())]
    assert ds.folder_label.text() == f"File: {csv_path}"
    assert config.config().data_dir == csv_path
    assert f"--data-dir {csv_path}" in config.command_line.text().replace("'", "")

    # --- train on it and open the evaluation ----------------------------------------------
    run_dir, status = finish(qtbot, w, w.start_training)
    assert status == "completed", training.log.plain_text()
    meta = read_run(run_dir)
    assert meta["config"]["data_dir"] == csv_path and meta["dataset"]["root"] == csv_path
    assert "scarlet disc" in meta["class_names"]
    report = evaluate(qtbot, training)
    assert report.num_images > 0 and not report.skipped and "scarlet disc" in report.class_names

    # --- a second save writes its own CSV; Rescan reads the dataset on screen -------------
    second = review_and_save(qtbot, ds, [Qt.Key.Key_K])
    assert second.root != csv_path and Path(csv_path).is_file()  # the run's CSV stays
    assert second.counts() == reviewed.counts() and "scarlet disc" in second.class_names
    with qtbot.waitSignal(ds.dataset_ready, timeout=30_000) as rescanned:
        click(qtbot, ds.rescan_button)
    again = rescanned.args[0]
    assert again.root == second.root and again.counts() == second.counts()
    assert ds.totals_label.text().startswith(f"{len(second.classes)} classes · "
                                             f"{len(second.samples)} images")

    # --- the app again, no dataset open: continue the run, evaluate it again --------------
    w.close()
    w2 = MainWindow(settings)
    w2.confirm = lambda title, text: True
    qtbot.addWidget(w2)
    w2.show()
    assert w2.dataset_index is None and not w2.start_action.isEnabled()  # nothing to train on
    w2.open_run(run_dir)
    training2 = w2.training_tab
    assert training2.summary.continue_button.isVisibleTo(training2)
    click(qtbot, training2.summary.continue_button)
    dialog = training2.continue_dialog
    dialog.fields["epochs"].setValue(2)
    continued, status = finish(qtbot, w2, dialog.buttons.accepted.emit)
    assert (continued, status) == (run_dir, "completed"), training2.log.plain_text()
    assert training2.started.start_step > 0 and training2.log.plain_text()
    assert read_run(run_dir)["dataset"]["root"] == csv_path
    assert evaluate(qtbot, training2).num_images == report.num_images

    # --- reopen the saved dataset (File > Open Recent): the rename is there ---------------
    w2._fill_recent_menu()
    recent = {a.text(): a for a in w2.recent_menu.actions()}
    assert csv_path in recent and demo in recent
    with qtbot.waitSignal(w2.dataset_tab.dataset_ready, timeout=30_000) as reopened:
        recent[csv_path].trigger()
    assert reopened.args[0].root == csv_path and "scarlet disc" in reopened.args[0].class_names
    table = w2.dataset_tab.table
    assert "scarlet disc" in [table.item(r, NAME_COL).text() for r in range(table.rowCount())]
