"""The Prediction tab's test-time augmentation choice: picking one reopens the model with
it, the tab says what it did on the validation images, and results still show."""
from __future__ import annotations

import pytest


@pytest.fixture
def tab(qtbot, isolated_home):
    from gui.tabs.prediction_tab import PredictionTab

    widget = PredictionTab(None)
    widget.resize(1100, 700)
    qtbot.addWidget(widget)
    widget.show()
    yield widget
    widget.shutdown()


def test_choosing_tta_reopens_the_model_with_it(tab, qtbot, run, tmp_path, learnable_split_dir):
    from run_factory import copy_run

    run = copy_run(run, tmp_path / "run")  # the fitted temperature is recorded in run.json
    combo = tab.result_bar.tta
    assert combo.currentData() == "off" and combo.isVisibleTo(tab)
    with qtbot.waitSignal(tab.service.run_loaded, timeout=120_000):
        tab.open_run(str(run))
    assert not tab.message.isVisibleTo(tab)
    with qtbot.waitSignal(tab.service.run_loaded, timeout=120_000):
        combo.setCurrentIndex(combo.findData("flip"))  # picked from its list
    assert tab.service._worker._predictor.tta == "flip"
    shown = tab.message.label.text()
    assert tab.message.isVisibleTo(tab)
    assert "Test-time augmentation: flip (2 views" in shown and "validation split" in shown
    with qtbot.waitSignal(tab.service.idle, timeout=120_000):
        tab.predict_paths([str(learnable_split_dir / "test" / "red_circle")])
    ok, _low, failed = tab.results.results_model.counts()
    assert ok == 8 and failed == 0
    tab.grab().save(str(tmp_path / "tta.png"))
