"""Calibrated confidence and heat maps in the window: the evaluation view shows the
calibration error and the reliability diagram and draws heat maps on a cell's images; the
Prediction tab says "not sure" below the mark and shows heat maps instead of photos."""
from __future__ import annotations

import csv
import threading

import pytest
from PySide6.QtCore import Qt

from dnd_events import drop_paths
from gui.tabs.prediction_tab import PredictionTab
from gui.widgets.evaluation_view import EvaluationView

LOAD_TIMEOUT = 180_000


@pytest.fixture
def view(qtbot):
    view = EvaluationView()
    view.resize(1200, 800)
    qtbot.addWidget(view)
    view.show()
    yield view
    view.shutdown()


def test_evaluation_shows_calibration_and_cell_heat_maps(qtbot, view, trained_run):
    with qtbot.waitSignal(view.evaluation_finished, timeout=120_000) as done:
        view.evaluate(str(trained_run), "test")
    report = done.args[0]
    assert report.calibration["temperature"] > 0
    assert "calibration error" in view.summary.text()
    assert len(view.reliability.bins_after) == 15
    legend = [item[1].text for item in view.reliability.plot.plotItem.legend.items]
    assert any("calibrated (ECE" in text for text in legend)
    t = max(range(len(report.class_names)), key=lambda i: report.confusion[i][i])
    samples = view.show_cell(t, t)
    assert samples
    main = threading.get_ident()
    threads = []
    import engine.use.explain as explain_module

    real = explain_module.explain
    explain_module.explain = lambda *a, **k: threads.append(threading.get_ident()) or real(*a, **k)
    try:
        with qtbot.waitSignal(view.heat_maps.ready, timeout=120_000) as ready:
            view.heat_box.setChecked(True)
    finally:
        explain_module.explain = real
    assert threads and main not in threads  # Grad-CAM ran in the worker
    painted = ready.args[0]
    assert set(painted) <= {s["path"] for s in samples} and painted
    first = view.cell_images.item(0)
    assert first.icon().cacheKey() == view._heat[first.data(Qt.ItemDataRole.UserRole + 1)].cacheKey()


@pytest.fixture
def pred_tab(qtbot, trained_run):
    tab = PredictionTab(None)
    tab.set_runs_root(str(trained_run.parent))
    tab.resize(1100, 760)
    qtbot.addWidget(tab)
    tab.show()
    with qtbot.waitSignal(tab.run_opened, timeout=LOAD_TIMEOUT):
        tab.open_run(str(trained_run))
    yield tab
    tab.shutdown()


def _predict(qtbot, tab, paths) -> None:
    with qtbot.waitSignal(tab.service.idle, timeout=LOAD_TIMEOUT):
        assert drop_paths(tab, [str(p) for p in paths])


def test_not_sure_below_the_mark_in_the_list_and_the_export(qtbot, pred_tab, learnable_dir,
                                                            tmp_path):
    images = sorted(learnable_dir.rglob("*.jpg"))[:6]
    _predict(qtbot, pred_tab, images)
    model = pred_tab.results.results_model
    pred_tab.threshold.setValue(100)  # everything is below the mark
    pred_tab.result_bar.not_sure.setChecked(True)
    texts = [model.data(model.index(i)) for i in range(model.rowCount())]
    assert texts and all("not sure" in t for t in texts)
    assert "6 not sure" in pred_tab.summary.text()
    pred_tab.export(str(tmp_path / "out.csv"))
    with open(tmp_path / "out.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert all(r["label"] == "not sure" and r["best_guess"] for r in rows)
    pred_tab.result_bar.not_sure.setChecked(False)
    assert not any("not sure" in model.data(model.index(i)) for i in range(model.rowCount()))


def test_heat_maps_replace_the_photos_when_asked(qtbot, pred_tab, learnable_dir):
    images = sorted(learnable_dir.rglob("*.jpg"))[:3]
    _predict(qtbot, pred_tab, images)
    model = pred_tab.results.results_model
    photo = model.data(model.index(0), Qt.ItemDataRole.DecorationRole)
    with qtbot.waitSignal(pred_tab.service.explained, timeout=LOAD_TIMEOUT):
        pred_tab.result_bar.heat.setChecked(True)
    qtbot.waitUntil(lambda: not model.paths_without_heat(), timeout=LOAD_TIMEOUT)
    heat = model.data(model.index(0), Qt.ItemDataRole.DecorationRole)
    assert heat is not None and (photo is None or heat.cacheKey() != photo.cacheKey())
    more = sorted(learnable_dir.rglob("*.jpg"))[3:5]  # new results get heat maps too
    _predict(qtbot, pred_tab, more)
    qtbot.waitUntil(lambda: not model.paths_without_heat(), timeout=LOAD_TIMEOUT)
    pred_tab.result_bar.heat.setChecked(False)
    assert model.data(model.index(0), Qt.ItemDataRole.DecorationRole) is not heat
