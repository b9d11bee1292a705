"""Continue training in the window follows the engine's resume rules: the dialog changes only
how long the run trains and when it stops early; everything else stays the run's own."""
from __future__ import annotations

import shutil

import pytest
from PySide6.QtWidgets import QLabel

from engine.config import TrainConfig
from engine.runs import read_run


@pytest.fixture
def tab(training_tab, tmp_path):
    # the Config tab holds other settings than the run: they must not leak into the resume
    return training_tab(lambda: TrainConfig(data_dir=str(tmp_path), lr=0.3, batch_size=4,
                                            output_dir=str(tmp_path / "elsewhere"),
                                            num_threads=1, precision="fp32"))


@pytest.fixture
def finished_run(trained_run, tmp_path):
    target = tmp_path / "runs" / trained_run.name
    shutil.copytree(trained_run, target)
    return target


def test_continue_a_finished_run_for_more_epochs(qtbot, tab, finished_run):
    stored = read_run(finished_run)["config"]
    tab.show_run(str(finished_run))
    assert tab.summary.continue_button.isVisibleTo(tab)  # a finished run can train on
    qtbot.mouseClick(tab.summary.continue_button, qtbot_button())
    dialog = tab.continue_dialog
    assert dialog.isVisible()
    assert dialog.fields["epochs"].value() == stored["epochs"] * 2
    assert "Start from run" in dialog.findChild(QLabel, "continueNote").text()
    dialog.fields["epochs"].setValue(stored["epochs"] + 1)
    with qtbot.waitSignal(tab.run_finished, timeout=120_000) as finished:
        dialog.buttons.accepted.emit()
    assert finished.args[1] == "completed", tab.log.plain_text()
    assert finished.args[0] == str(finished_run), tab.log.plain_text()  # continued in place
    meta = read_run(finished_run)
    assert meta["config"]["epochs"] == stored["epochs"] + 1
    assert meta["config"]["lr"] == stored["lr"] and meta["config"]["batch_size"] == \
        stored["batch_size"]  # the Config tab's other settings did not leak in
    log = tab.log.plain_text()
    assert f"Resuming with --epochs {stored['epochs'] + 1}" in log
    assert "schedule now ends at step" in log


def test_the_config_tabs_continue_run_uses_the_same_dialog(qtbot, tab, finished_run):
    tab.set_config_provider(lambda: TrainConfig(resume_from=str(finished_run), lr=0.3))
    assert tab.start()
    assert tab.continue_dialog.isVisible() and not tab.is_running()
    tab.continue_dialog.reject()
    assert not tab.is_running()
    assert read_run(finished_run)["status"] == "completed"  # nothing changed


def test_continuing_a_folder_that_is_not_a_run_says_so(qtbot, tab, tmp_path, error_reports):
    (tmp_path / "not-a-run").mkdir()
    tab.summary.run_dir = str(tmp_path / "not-a-run")
    tab.summary.continue_button.show()
    qtbot.mouseClick(tab.summary.continue_button, qtbot_button())
    assert not tab.is_running()
    assert any("not a LoRA Studio run folder" in text for text in error_reports())


def qtbot_button():
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton


def test_the_config_tabs_continue_run_needs_no_open_dataset(qtbot, main_window, finished_run):
    w = main_window
    assert w.dataset_index is None and not w.start_action.isEnabled()  # nothing to train on
    w.config_tab.editors["resume_from"].set_value(str(finished_run))
    qtbot.waitUntil(w.start_action.isEnabled, timeout=5_000)  # the run brings its own split
    assert "dataset" not in w.training_tab.banner.label.text().lower() or \
        not w.training_tab.banner.isVisible()
    w.start_action.trigger()
    dialog = w.training_tab.continue_dialog
    assert dialog.isVisible() and not w.training_tab.is_running()
    dialog.reject()


def test_continue_asks_for_the_new_place_of_moved_images(qtbot, tab, tmp_path, tiny_clip_dir,
                                                        learnable_dir, tiny_config):
    from engine.training.loop import train

    data = tmp_path / "photos"
    shutil.copytree(learnable_dir, data)
    events = list(train(tiny_config(tiny_clip_dir, data, tmp_path / "runs", run_name="moved",
                                    epochs=1, cache_dir=str(tmp_path / "cache"))))
    assert events[-1].status == "completed", events[-1].error
    run_dir = events[-1].run_dir
    new_place = tmp_path / "external-disk" / "photos"
    new_place.parent.mkdir()
    data.rename(new_place)
    tab.show_run(run_dir)
    qtbot.mouseClick(tab.summary.continue_button, qtbot_button())
    dialog = tab.continue_dialog
    ok = dialog.buttons.button(dialog.buttons.StandardButton.Ok)
    assert "were moved" in dialog.images_note.text() and str(data) in dialog.images_note.text()
    assert not ok.isEnabled()  # nowhere to train from yet
    dialog.images.setText(str(tmp_path))  # a folder without them
    assert not ok.isEnabled() and dialog.images.toolTip()
    dialog.images.setText(str(new_place))
    assert ok.isEnabled()
    dialog.fields["epochs"].setValue(2)
    with qtbot.waitSignal(tab.run_finished, timeout=120_000) as finished:
        dialog.buttons.accepted.emit()
    assert finished.args[1] == "completed", tab.log.plain_text()
    assert read_run(run_dir)["config"]["data_dir"] == str(new_place)
    assert "new place" in tab.log.plain_text()
