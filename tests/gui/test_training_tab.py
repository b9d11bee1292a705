"""Training tab: button states through a run, live plots, stop/pause/resume, failures,
comparison with earlier runs; the fake engine drives control flow, one run uses the real
engine on the tiny CLIP."""
from __future__ import annotations

import json

import pytest

from engine.config import TrainConfig
from engine.events import Evaluation, RunFinished, RunStarted
from gui.tabs.training_tab import TrainingTab


@pytest.fixture
def tab(training_tab, tmp_path):
    return training_tab(lambda: TrainConfig(data_dir=str(tmp_path),
                                            output_dir=str(tmp_path / "runs")))


def buttons(t: TrainingTab) -> dict[str, bool]:
    return {"start": t.start_button.isEnabled(), "pause": t.pause_button.isEnabled() and
            t.pause_button.isVisibleTo(t), "resume": t.resume_button.isEnabled() and
            t.resume_button.isVisibleTo(t), "stop": t.stop_button.isEnabled()}


def test_start_pause_resume_stop_have_correct_states(qtbot, tab, fake_train):
    tab.train_fn = fake_train(steps=2000, delay=0.005)
    assert buttons(tab) == {"start": True, "pause": False, "resume": False, "stop": False}
    states = []
    tab.state_changed.connect(states.append)
    assert tab.start()
    assert buttons(tab) == {"start": False, "pause": True, "resume": False, "stop": True}
    assert states[-1] == "running"
    qtbot.waitUntil(lambda: tab.plots.loss.point_count("train_raw") >= 3, timeout=10_000)

    tab.pause()
    assert buttons(tab) == {"start": False, "pause": False, "resume": True, "stop": True}
    qtbot.wait(150)  # the step in flight lands; then nothing more arrives while paused
    paused_at = tab.plots.loss.point_count("train_raw")
    qtbot.wait(300)
    assert tab.plots.loss.point_count("train_raw") <= paused_at + 1
    assert tab.status_text().startswith("Paused")

    tab.resume()
    assert buttons(tab)["pause"] and not buttons(tab)["resume"]
    qtbot.waitUntil(lambda: tab.plots.loss.point_count("train_raw") > paused_at + 5, timeout=10_000)

    with qtbot.waitSignal(tab.run_finished, timeout=10_000) as finished:
        tab.stop()
        assert buttons(tab) == {"start": False, "pause": False, "resume": False, "stop": False}
    assert finished.args[1] == "stopped"
    assert buttons(tab) == {"start": True, "pause": False, "resume": False, "stop": False}
    assert tab.summary.isVisible() and "stopped" in tab.summary.headline.text().lower()
    assert states[-1] == "done"


def test_points_progress_and_summary_after_a_run(qtbot, tab, fake_train):
    tab.train_fn = fake_train(steps=30, steps_per_epoch=10)
    started = []
    tab.run_started.connect(started.append)
    with qtbot.waitSignal(tab.run_finished, timeout=10_000) as finished:
        tab.start()
    assert finished.args[1] == "completed" and started == [finished.args[0]]
    loss, acc = tab.plots.loss, tab.plots.accuracy
    assert loss.point_count("train_raw") == 30 and loss.point_count("val") == 4
    assert acc.zero_shot_point == (0.0, 30.0)  # val accuracy starts at step 0, labelled zero-shot
    assert "zero-shot" in acc.zero_shot_label.toPlainText()
    assert acc.best_point is not None and acc.best_point[0] == 30.0
    assert tab.plots.lr.point_count("lr") == 30
    card = tab.summary
    assert card.isVisible() and card.values["zero_shot"].text() == "30.0 %"
    assert card.values["best"].text() == "90.0 % (epoch 3)"
    assert card.values["test"].text() == "85.0 %" and card.values["time"].text() == "0:02"
    assert tab.progress.value() == tab.progress.maximum()


def test_summary_card_says_when_the_saved_model_is_the_start(qtbot, tab):
    card = tab.summary
    kept = RunFinished(status="completed", run_dir="", best_val_accuracy=0.9, best_epoch=0,
                       test_accuracy=0.8, elapsed_s=2.0)
    card.show_result(kept, zero_shot=0.9)
    assert card.values["best"].text() == "90.0 % (the start)"
    assert "saved model is the starting one" in card.values["best"].toolTip()
    card.show_result(RunFinished(status="completed", run_dir="", best_val_accuracy=0.95,
                                 best_epoch=2, elapsed_s=2.0), zero_shot=0.9)
    assert card.values["best"].text() == "95.0 % (epoch 2)"
    assert card.values["best"].toolTip() == ""


def test_engine_failure_shows_dialog_and_a_new_run_can_start(qtbot, tab, fake_train):
    tab.train_fn = fake_train(steps=50, fail_at=12)
    states = []
    tab.state_changed.connect(states.append)
    with qtbot.waitSignal(tab.run_finished, timeout=10_000) as finished:
        tab.start()
    assert finished.args[1] == "failed"
    dialog = tab.error_dialog
    assert dialog is not None and dialog.isVisible()
    assert "ran out of memory" in dialog.text()
    assert tab.log.expanded and "simulated failure details" in tab.log.plain_text()
    assert states[-1] == "attention"
    dialog.accept()
    # The app stays usable: the next run starts and completes.
    tab.train_fn = fake_train(steps=10)
    with qtbot.waitSignal(tab.run_finished, timeout=10_000) as second:
        assert tab.start()
    assert second.args[1] == "completed"


def test_a_crash_in_the_loop_becomes_a_failed_run(qtbot, tab, fake_train):
    tab.train_fn = fake_train(steps=50, raise_at=5)
    with qtbot.waitSignal(tab.run_finished, timeout=10_000) as finished:
        tab.start()
    assert finished.args[1] == "failed"
    assert "RuntimeError" in tab.error_dialog.text() and "simulated bug" in tab.error_dialog.text()
    assert "Traceback" in tab.log.plain_text()
    tab.error_dialog.accept()


def test_blocker_explains_what_is_missing(qtbot, tab):
    tab.set_blocker("Nothing to train on yet: choose a folder of images.", "dataset")
    assert tab.banner.isVisible() and not tab.start_button.isEnabled()
    assert tab.banner.action.text() == "Go to Dataset"
    with qtbot.waitSignal(tab.navigate_requested) as nav:
        tab.banner.action.click()
    assert nav.args == ["dataset"]
    tab.set_blocker("")
    assert not tab.banner.isVisible() and tab.start_button.isEnabled()


def _write_run(folder, name: str, accuracies: list[float]):
    run = folder / name
    run.mkdir(parents=True)
    (run / "run.json").write_text(json.dumps({
        "name": name, "status": "completed", "created": f"2026-01-0{len(accuracies)}T00:00:00",
        "best": {"val_accuracy": max(accuracies)}, "class_names": ["a", "b"],
        "base_model": {"ref": "tiny"}, "method": "lora"}), encoding="utf-8")
    events = [RunStarted(run_dir=str(run), run_name=name, classes=["a", "b"], total_steps=9,
                         steps_per_epoch=3, epochs=3, device="cpu", precision="fp32",
                         trainable_params=1, total_params=2)]
    events += [Evaluation(step=3 * i, epoch=i, split="val", loss=1 - a, accuracy=a)
               for i, a in enumerate(accuracies)]
    events.append(RunFinished(status="completed", run_dir=str(run), best_val_accuracy=max(accuracies)))
    (run / "metrics.jsonl").write_text("".join(json.dumps(e.to_dict()) + "\n" for e in events),
                                       encoding="utf-8")
    return run


def test_earlier_runs_can_be_overlaid_and_opened(qtbot, tab, tmp_path):
    first = _write_run(tmp_path / "runs", "first", [0.3, 0.5, 0.6])
    second = _write_run(tmp_path / "runs", "second", [0.3, 0.7, 0.8, 0.9])
    tab.set_runs_root(str(tmp_path / "runs"))
    assert tab.history.list.count() == 2
    tab.open_run_for_comparison(str(first))
    tab.history.set_checked(str(second), True)
    assert tab.plots.accuracy.comparison_count() == 2 and tab.plots.loss.comparison_count() == 2
    tab.history.set_checked(str(first), False)
    assert tab.plots.accuracy.comparison_count() == 1
    tab.show_run(str(second))  # replay a finished run's curves and result
    assert tab.plots.accuracy.point_count("val") == 4
    assert tab.summary.isVisible() and tab.summary.values["best"].text().startswith("90.0 %")


def test_a_killed_run_reads_interrupted_and_offers_to_continue(qtbot, tab, tmp_path):
    import socket
    import subprocess
    import sys

    run = _write_run(tmp_path / "runs", "killed", [0.3, 0.6])
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    meta = json.loads((run / "run.json").read_text(encoding="utf-8"))
    meta.update(status="running", process={"pid": dead.pid, "host": socket.gethostname()})
    (run / "run.json").write_text(json.dumps(meta), encoding="utf-8")
    lines = (run / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    (run / "metrics.jsonl").write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")  # no end
    (run / "checkpoints" / "last").mkdir(parents=True)
    tab.set_runs_root(str(tmp_path / "runs"))
    assert "interrupted" in tab.history.list.item(0).text()
    tab.show_run(str(run))
    assert tab.summary.isVisible() and "interrupted" in tab.summary.headline.text()
    assert tab.summary.values["best"].text().startswith("60.0 %")
    assert tab.summary.continue_button.isVisibleTo(tab)


def test_real_engine_run_on_the_tiny_model(qtbot, tab, tiny_clip_dir, learnable_dir, tmp_path,
                                          tiny_config):
    config = tiny_config(tiny_clip_dir, learnable_dir, tmp_path / "runs", run_name="gui-real",
                         cache_dir=str(tmp_path / "cache"))
    tab.set_config_provider(lambda: config)
    with qtbot.waitSignal(tab.run_finished, timeout=120_000) as finished:
        assert tab.start()
        qtbot.waitUntil(lambda: tab.plots.loss.point_count("train_raw") > 0, timeout=60_000)
    assert finished.args[1] == "completed", tab.log.plain_text()
    run_dir = finished.args[0]
    assert (tab.started is not None and tab.started.run_dir == run_dir)
    steps = tab.started.total_steps
    assert tab.plots.loss.point_count("train_raw") == steps
    assert tab.plots.accuracy.zero_shot_point is not None
    assert tab.plots.accuracy.point_count("val") == 1 + config.epochs  # zero-shot + each epoch
    assert (tab.summary.run_dir == run_dir and tab.summary.predict_button.isEnabled())
    assert isinstance(tab.finished, RunFinished) and tab.finished.test_accuracy is not None


def test_plot_markers_hover_read_out_and_png_export(qtbot, tmp_path):
    from PySide6.QtGui import QImage

    from engine.events import CheckpointSaved, EarlyStopped, Step
    from gui.widgets.plots import TrainingPlots

    plots = TrainingPlots()
    qtbot.addWidget(plots)
    plots.resize(1000, 300)
    plots.show()
    events = [Evaluation(step=0, epoch=0, split="val", loss=1.4, accuracy=0.25, zero_shot=True)]
    for step in range(1, 31):
        events.append(Step(step=step, epoch=step / 10, loss=1.0 / step, lr=1e-3, accuracy=0.5,
                           images_per_s=50.0, eta_s=1.0))
        if step % 10 == 0:
            events.append(Evaluation(step=step, epoch=step // 10, split="val", loss=0.5,
                                     accuracy=0.6 if step != 20 else 0.9, is_best=step <= 20))
            events.append(CheckpointSaved(step=step, epoch=step // 10, path="", label="last"))
    events.append(EarlyStopped(epoch=3, best_epoch=2, patience=1))
    plots.load_events(events)
    acc = plots.accuracy
    assert acc.best_point == (20.0, 90.0) and acc.best_label.isVisible()
    assert acc.zero_shot_label.toPlainText() == "zero-shot 25 %"
    assert len(acc.checkpoint_markers.data) == 3  # one marker per saved checkpoint
    assert acc.early_stop_line is not None and acc.early_stop_line.value() == 30.0
    text = plots.loss.hover_text_at(9.6)
    assert "train (smoothed)" in text and "validation: 0.5 (step 10)" in text
    # A real mouse move over the plot shows the read-out.
    view = acc.getPlotItem().getViewBox()
    acc.scene().sigMouseMoved.emit(view.mapViewToScene(view.viewRect().center()))
    assert acc._hover_text.isVisible() and "validation" in acc._hover_text.toPlainText()
    path = tmp_path / "curves.png"
    assert plots.export_png(str(path))
    image = QImage(str(path))
    assert image.width() == plots.width() and image.height() == plots.height()
