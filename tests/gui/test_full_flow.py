"""The whole path through the real main window and the real engine on the tiny CLIP:
choose a generated dataset, change config values, start training, watch points arrive,
pause/resume, stop and continue, open the evaluation, drop images (and a text file) on
Prediction and read the predictions; plus the failure paths (bad folder, missing model,
engine failure mid-run) leaving the app usable."""
from __future__ import annotations

from pathlib import Path

from dnd_events import drop_paths as drop_on

from PySide6.QtCore import Qt

from engine.events import Step
from gui.main_window import STATE_MARKS

RUN = 180_000  # ms: generous for a busy 2-core machine (a tiny run takes seconds)


def run_and_wait(qtbot, window, start) -> tuple[str, str]:
    with qtbot.waitSignal(window.training_tab.run_finished, timeout=RUN) as finished:
        start()
    return finished.args[0], finished.args[1]


def accept_error_dialog(window) -> str:
    dialog = window.training_tab.error_dialog
    assert dialog is not None and dialog.isVisible()
    text = dialog.text()
    dialog.accept()
    return text


def test_folder_to_classifier_through_the_window(qtbot, main_window, learnable_dir,
                                                 tiny_clip_dir, tmp_path):
    w = main_window
    training, config = w.training_tab, w.config_tab

    # --- 1. a bad folder is explained; nothing can start yet --------------------------
    with qtbot.waitSignal(w.dataset_tab.dataset_ready, timeout=30_000) as bad:
        w.dataset_tab.open_folder(str(tmp_path / "no-such-folder"))
    assert bad.args == [None] and "Could not open" in w.dataset_tab.banner.text()
    assert not w.start_action.isEnabled() and "step 1" in training.banner.label.text()

    # --- 2. choose the generated dataset by dropping its folder on step 1 --------------
    with qtbot.waitSignal(w.dataset_tab.dataset_ready, timeout=60_000) as ready:
        assert drop_on(w.dataset_tab, [learnable_dir])
    index = ready.args[0]
    assert index is not None and len(index.classes) == 4
    assert w.tabs.tabText(0).endswith(STATE_MARKS["done"])
    assert config.config().data_dir == str(learnable_dir)

    # --- 3. change config values through the widgets -----------------------------------
    w.tabs.setCurrentWidget(config)
    config.model_picker.combo.lineEdit().clear()
    qtbot.keyClicks(config.model_picker.combo.lineEdit(), str(tiny_clip_dir))
    config.editors["epochs"].widget.setValue(3)
    config.editors["batch_size"].widget.setValue(16)
    config.editors["lr"].widget.setValue(5e-3)
    config.editors["head_lr"].widget.setValue(1e-2)
    config.editors["cache_dir"].set_value(str(tmp_path / "cache"))
    chosen = config.config()
    assert (chosen.model, chosen.epochs, chosen.batch_size) == (str(tiny_clip_dir), 3, 16)
    assert "--epochs 3" in config.command_line.text()
    assert w.start_action.isEnabled()

    # --- 4. start (Ctrl+R), see points arrive, pause and resume ------------------------
    w.activateWindow()
    qtbot.keyClick(w, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    if not training.is_running():  # a platform without window activation: same action
        w.start_action.trigger()
    assert training.is_running() and w.tabs.currentWidget() is training
    assert w.tabs.tabText(2).endswith(STATE_MARKS["running"])
    qtbot.waitUntil(lambda: training.plots.loss.point_count("train_raw") > 0, timeout=RUN)
    qtbot.waitUntil(lambda: training.plots.accuracy.zero_shot_point is not None, timeout=RUN)
    w.pause_action.trigger()
    assert training.phase() == "paused" and training.resume_button.isVisibleTo(training)
    w.resume_action.trigger()
    assert training.phase() == "running"

    # --- 5. stop after the first saved epoch (Esc, confirmed), then continue -----------
    qtbot.waitUntil(lambda: "last checkpoint" in training.log.plain_text(), timeout=RUN)
    with qtbot.waitSignal(training.run_finished, timeout=RUN) as stopped:
        w.stop_action.trigger()  # the fixture answers the confirmation with "yes"
    run_dir, status = stopped.args
    assert status == "stopped" and (Path(run_dir) / "head.safetensors").is_file()
    assert training.summary.continue_button.isVisibleTo(training)
    training.summary.continue_button.click()  # asks how long to train on; the rest stays
    dialog = training.continue_dialog
    assert dialog.isVisible() and dialog.fields["epochs"].value() == 3
    run_dir2, status = run_and_wait(qtbot, w, dialog.buttons.accepted.emit)
    assert (run_dir2, status) == (run_dir, "completed")
    assert training.started.start_step > 0  # resumed from the checkpoint, not from scratch
    card = training.summary
    assert card.values["test"].text().endswith("%") and card.values["best"].text() != "–"

    # --- 6. the evaluation view ----------------------------------------------------------
    view = training.evaluation
    with qtbot.waitSignal(view.evaluation_finished, timeout=RUN) as evaluated:
        card.evaluate_button.click()
    assert training.pages.currentWidget() is view
    report = evaluated.args[0]
    assert view.table.rowCount() == 4 and view.matrix.matrix.shape == (4, 4)
    shown = view.show_cell(0, 0)
    assert view.cell_images.count() == len(shown) == report.confusion[0][0]

    # --- 7. try it in Prediction: drop images and a text file ---------------------------
    card.predict_button.click()
    assert w.tabs.currentWidget() is w.prediction_tab
    # The window asked step 4 to load the run as soon as it completed.
    qtbot.waitUntil(lambda: w.prediction_tab.run_dir == run_dir, timeout=RUN)
    images = [sorted((Path(learnable_dir) / c.folder).glob("*.jpg"))[0] for c in index.classes]
    notes = tmp_path / "notes.txt"
    notes.write_text("not an image", encoding="utf-8")
    assert drop_on(w.prediction_tab, images + [notes])
    qtbot.waitUntil(lambda: len(w.prediction_tab.results.results_model.predictions()) == 5
                    and not w.prediction_tab.service.busy, timeout=RUN)
    by_name = {Path(p.source).name: p for p in w.prediction_tab.results.results_model.predictions()}
    assert by_name["notes.txt"].error
    names = set(index.class_names)
    for image in images:
        top = by_name[image.name].top
        assert not by_name[image.name].error and top[0][0] in names
        assert abs(sum(p for _, p in top) - 1.0) < 0.02 or len(top) < len(names)

    # --- 8. failure paths leave the app usable --------------------------------------------
    w.tabs.setCurrentWidget(config)
    config.model_picker.set_value(str(tmp_path / "missing-model"))
    _, status = run_and_wait(qtbot, w, w.start_training)
    assert status == "failed"
    assert "missing-model" in accept_error_dialog(w)
    assert w.tabs.tabText(2).endswith(STATE_MARKS["attention"])

    config.model_picker.set_value(str(tiny_clip_dir))
    from engine.training.loop import train as real_train

    def fails_mid_run(cfg, control, dataset=None):
        for event in real_train(cfg, control, dataset=dataset):
            yield event
            if isinstance(event, Step) and event.step >= 2:
                raise OSError(28, "No space left on device")

    training.train_fn = fails_mid_run
    _, status = run_and_wait(qtbot, w, w.start_training)
    assert status == "failed" and "No space left on device" in accept_error_dialog(w)
    assert training.plots.loss.point_count("train_raw") >= 2  # it really was mid-run
    training.train_fn = None
    assert training.start_button.isEnabled() and w.start_action.isEnabled()
