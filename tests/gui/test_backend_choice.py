"""The Prediction tab's backend choice: picking one reopens the model with it, results
still show, and the choice is remembered for the next start."""
from __future__ import annotations

import pytest


@pytest.fixture
def tab(qtbot, isolated_home, tmp_path):
    from PySide6.QtCore import QSettings

    from gui.settings import Settings
    from gui.tabs.prediction_tab import PredictionTab

    settings = Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    widget = PredictionTab(settings)
    qtbot.addWidget(widget)
    yield widget, settings
    widget.shutdown()


def test_choosing_a_backend_reopens_the_model_and_is_remembered(tab, qtbot, run, tmp_path,
                                                                learnable_split_dir):
    from run_factory import copy_run

    widget, settings = tab
    run = copy_run(run, tmp_path / "run")  # building a backend records it in run.json
    combo = widget.result_bar.backend
    assert combo.currentData() == "auto"  # the default: the fastest measured
    with qtbot.waitSignal(widget.service.run_loaded, timeout=120_000):
        widget.open_run(str(run))
    with qtbot.waitSignal(widget.service.run_loaded, timeout=120_000):
        combo.setCurrentIndex(combo.findData("onnx"))  # picked from its list
    assert widget.service._worker._predictor.backend == "onnx"
    assert settings.backend() == "onnx"
    with qtbot.waitSignal(widget.service.idle, timeout=120_000):
        widget.predict_paths([str(learnable_split_dir / "test" / "red_circle")])
    ok, _low, failed = widget.results.results_model.counts()
    assert ok == 8 and failed == 0
    assert "8 predicted" in widget.result_bar.summary.text()
    from gui.tabs.prediction_tab import PredictionTab

    again = PredictionTab(settings)  # the next start
    qtbot.addWidget(again)
    assert again.result_bar.backend.currentData() == "onnx"
    again.shutdown()


def test_the_result_card_shows_how_a_built_backend_agrees(qtbot, run, tmp_path):
    from engine.events import RunFinished
    from engine.use.backends import open_predictor
    from gui.widgets.run_summary import RunSummaryCard
    from run_factory import copy_run

    run = copy_run(run, tmp_path / "run")
    open_predictor(run, "onnx-int8")  # built: its agreement goes into run.json
    card = RunSummaryCard()
    qtbot.addWidget(card)
    card.show_result(RunFinished(status="completed", run_dir=str(run), best_val_accuracy=0.9,
                                 test_accuracy=0.9))
    text = card.calibration.text()
    assert "onnx-int8: same top label on 100.0 % of 24 test images" in text
