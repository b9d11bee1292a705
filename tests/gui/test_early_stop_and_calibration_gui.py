"""What the window says about early stopping and calibration, from real engine runs on the
tiny CLIP: the log line and the plot's early-stop marker appear only for a run that ended
before its planned epochs; the result card says whether the confidence was calibrated and,
when not, why; the evaluation's Confidence tab names an uncalibrated run so."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from engine.events import EarlyStopped, Evaluation
from engine.runs import read_metrics

EPOCHS, PATIENCE = 7, 2


@pytest.fixture
def tab(training_tab):
    return training_tab()


def _run_by_clicking_start(qtbot, tab, config) -> str:
    tab.set_config_provider(lambda: config)
    with qtbot.waitSignal(tab.run_finished, timeout=120_000) as finished:
        qtbot.mouseClick(tab.start_button, Qt.MouseButton.LeftButton)
    assert finished.args[1] == "completed", tab.log.plain_text()
    tab.plots.flush()
    return finished.args[0]


def test_early_stop_log_and_marker_only_when_the_run_ended_early(qtbot, tab, tiny_clip_dir,
                                                                  learnable_dir, tmp_path,
                                                                  tiny_config):
    seen = set()
    for seed in (0, 1, 2):
        config = tiny_config(tiny_clip_dir, learnable_dir, tmp_path / "runs", epochs=EPOCHS,
                             early_stop_patience=PATIENCE, head_lr=5e-2, seed=seed,
                             run_name=f"seed-{seed}", cache_dir=str(tmp_path / "cache"))
        run_dir = _run_by_clicking_start(qtbot, tab, config)
        events = read_metrics(run_dir)
        val = [e for e in events if isinstance(e, Evaluation) and e.split == "val"]
        ran = max(e.epoch for e in val)
        log = tab.log.plain_text()
        line = tab.plots.accuracy.early_stop_line
        if ran == EPOCHS:
            assert not any(isinstance(e, EarlyStopped) for e in events)
            assert "stopped early" not in log.lower() and line is None, (seed, log)
            seen.add("all" if any(e.is_best for e in val[-PATIENCE:]) else "all, patience used up")
        else:
            assert f"Stopped early after epoch {ran}:" in log, (seed, log)
            assert line is not None and line.value() == float(val[-1].step)
            seen.add("early")
        # the result card: 16 validation images are too few to calibrate on
        card = tab.summary.calibration
        assert card.isVisible() and card.text() == (
            "Confidence left uncalibrated: 16 validation images are too few to calibrate on "
            "(at least 20 are needed).")
        # the same run opened again later (File > Open run) draws the same marker, or none
        tab.show_run(run_dir)
        assert (tab.plots.accuracy.early_stop_line is None) == (ran == EPOCHS)
    assert {"early", "all, patience used up"} <= seen


def test_the_result_card_says_a_run_was_calibrated(qtbot, tab, tmp_path_factory, tiny_clip_dir,
                                                   learnable_split_dir):
    from run_factory import train_short

    events = train_short(tmp_path_factory, tiny_clip_dir, learnable_split_dir,
                         precision="fp32", seed=2)  # a run whose temperature is kept
    run_dir = events[-1].run_dir
    cal = json.loads((Path(run_dir) / "run.json").read_text())["calibration"]
    assert cal["status"] == "calibrated"
    tab.show_run(run_dir)
    expected = ("Confidence calibrated: temperature {t:.2f}; calibration error on held-out "
                "validation images {before:.1f} % → {after:.1f} %.").format(
        t=cal["temperature"], before=100 * cal["ece_before"], after=100 * cal["ece_after"])
    assert tab.summary.calibration.isVisible() and tab.summary.calibration.text() == expected


def test_an_uncalibrated_run_reads_so_in_the_confidence_tab(qtbot, trained_run):
    from gui.widgets.evaluation_view import EvaluationView

    view = EvaluationView()
    qtbot.addWidget(view)
    view.resize(1200, 800)
    view.show()
    try:
        with qtbot.waitSignal(view.evaluation_finished, timeout=120_000) as done:
            view.evaluate(str(trained_run), "test")
        report = done.args[0]
        assert report.calibration["temperature"] == 1.0  # 16 validation images: too few
        assert "(uncalibrated: too few validation images)" in view.summary.text()
        assert "temperature" not in view.summary.text()
        legend = [item[1].text for item in view.reliability.plot.plotItem.legend.items]
        assert any(text.startswith("uncalibrated (ECE") for text in legend)
        assert not any(text.startswith(("calibrated", "before")) for text in legend)
    finally:
        view.shutdown()
