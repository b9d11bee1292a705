"""Prediction tab with a real run folder (tests/run_factory.py) and the real Predictor:
drops via QDragEnterEvent/QDropEvent, per-file messages, batches, cancel, export."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication

from dnd_events import drop_paths as drop_on
from gui.tabs.prediction_tab import PredictionTab
from gui.widgets.prediction_results import ERROR_ROLE, LOW_ROLE, PREDICTION_ROLE

LOAD_TIMEOUT = 180_000  # first load imports torch/transformers/peft: slow on a busy 2-core box


@pytest.fixture(scope="module")
def runs_root(tmp_path_factory, tiny_clip_dir, learnable_dir) -> Path:
    from run_factory import make_run

    root = tmp_path_factory.mktemp("runs")
    make_run(root / "shapes-run", tiny_clip_dir, learnable_dir)
    return root


@pytest.fixture
def pred_tab(qtbot, runs_root):
    tab = PredictionTab(None)
    tab.set_runs_root(str(runs_root))
    tab.resize(1000, 760)
    qtbot.addWidget(tab)
    tab.show()
    yield tab
    tab.shutdown()


def load(qtbot, tab: PredictionTab, run_dir) -> None:
    with qtbot.waitSignal(tab.run_opened, timeout=LOAD_TIMEOUT) as blocker:
        tab.open_run(str(run_dir))
    assert blocker.args == [str(run_dir)]


def shown_rows(tab: PredictionTab) -> list:
    model = tab.results.results_model
    return [model.index(r) for r in range(model.rowCount())]


def wait_idle(qtbot, tab: PredictionTab, timeout: int = 60_000) -> None:
    qtbot.waitUntil(lambda: not tab.service.busy, timeout=timeout)


def test_runs_are_listed_and_a_run_folder_opens(qtbot, pred_tab, runs_root):
    labels = [pred_tab.run_combo.itemText(i) for i in range(pred_tab.run_combo.count())]
    assert any("shapes-run" in text for text in labels) and "1 found" in labels[0]
    states = []
    pred_tab.state_changed.connect(states.append)
    load(qtbot, pred_tab, runs_root / "shapes-run")
    assert pred_tab.run_dir == str(runs_root / "shapes-run") and states == ["done"]
    assert "4 classes" in pred_tab.model_label.text()
    assert "red circle" in pred_tab.model_label.text()
    assert pred_tab.run_combo.currentData() == str(runs_root / "shapes-run")


def test_dropped_images_are_predicted_and_a_text_file_gets_its_own_message(
        qtbot, pred_tab, runs_root, learnable_dir, tmp_path):
    load(qtbot, pred_tab, runs_root / "shapes-run")
    images = [sorted((Path(learnable_dir) / c).glob("*.jpg"))[-1]
              for c in ("red_circle", "green_square", "blue_triangle", "yellow_stripes")]
    notes = tmp_path / "notes.txt"
    notes.write_text("not an image")
    assert drop_on(pred_tab, images[:2] + [notes] + images[2:])  # on the tab, not the zone
    assert pred_tab.busy.isVisibleTo(pred_tab)  # progress shows at once
    wait_idle(qtbot, pred_tab)
    rows = {Path(i.data(PREDICTION_ROLE).source).name: i for i in shown_rows(pred_tab)}
    assert set(rows) == {p.name for p in images} | {"notes.txt"}
    assert "not a picture file" in rows["notes.txt"].data(ERROR_ROLE)
    assert "notes.txt: not predicted" in rows["notes.txt"].data(Qt.ItemDataRole.DisplayRole)
    correct = 0
    for image in images:
        prediction = rows[image.name].data(PREDICTION_ROLE)
        text = rows[image.name].data(Qt.ItemDataRole.DisplayRole)
        assert not prediction.error and len(prediction.top) >= 3
        assert text.startswith(f"{image.name}: {prediction.top[0][0]} ")  # what the user reads
        assert sum(p for _, p in prediction.top) == pytest.approx(1.0, abs=0.02)
        correct += prediction.top[0][0] == image.parent.name.replace("_", " ")
    assert correct >= 2  # real predictions from the fitted run, not noise (chance is 1 in 4)
    summary = pred_tab.summary.text()
    assert summary.startswith("4 predicted") and "1 not predicted" in summary


def test_folder_is_predicted_in_batches_with_progress(qtbot, pred_tab, runs_root, learnable_dir):
    load(qtbot, pred_tab, runs_root / "shapes-run")
    seen = []
    pred_tab.service.progress.connect(lambda done, total: seen.append((done, total)))
    assert drop_on(pred_tab.drop_zone, [learnable_dir])
    wait_idle(qtbot, pred_tab)
    assert len(shown_rows(pred_tab)) == 120
    batches = [done for done, total in seen if total == 120]
    assert len(set(batches)) >= 5 and batches[-1] == 120  # progress in steps, ends complete
    assert batches == sorted(batches)
    assert not pred_tab.busy.isVisibleTo(pred_tab)


def test_cancel_stops_a_folder_and_keeps_results(qtbot, pred_tab, runs_root, learnable_dir):
    load(qtbot, pred_tab, runs_root / "shapes-run")
    first = []
    pred_tab.service.results_ready.connect(lambda results: first.append(len(results)))
    pred_tab.predict_paths([str(learnable_dir)] * 3)  # 360 images
    qtbot.waitUntil(lambda: bool(first), timeout=60_000)
    with qtbot.waitSignal(pred_tab.service.idle, timeout=60_000) as blocker:
        pred_tab.busy.cancel_button.click()
    assert blocker.args[0] == "cancelled"
    assert 0 < len(shown_rows(pred_tab)) < 360
    assert "Stopped" in pred_tab.message.text()


def test_export_csv_and_json_read_back(qtbot, pred_tab, runs_root, learnable_dir, tmp_path):
    load(qtbot, pred_tab, runs_root / "shapes-run")
    images = sorted((Path(learnable_dir) / "red_circle").glob("*.jpg"))[:3]
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 truncated")
    pred_tab.predict_paths([str(p) for p in images] + [str(broken)])
    wait_idle(qtbot, pred_tab)
    shown = {Path(i.data(PREDICTION_ROLE).source).name: i.data(PREDICTION_ROLE).top[0][0]
             for i in shown_rows(pred_tab) if not i.data(ERROR_ROLE)}
    pred_tab.export(str(tmp_path / "out.csv"))
    pred_tab.export(str(tmp_path / "out.json"))
    with open(tmp_path / "out.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert {Path(r["source"]).name: r["label"] for r in rows if not r["error"]} == shown
    assert [r for r in rows if r["error"]][0]["source"] == str(broken)
    data = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert len(data) == 4 and {Path(d["source"]).name for d in data} == set(shown) | {"broken.jpg"}
    assert "Saved 4 results" in pred_tab.message.text()


def test_low_confidence_results_are_marked(qtbot, pred_tab, runs_root, learnable_dir, tmp_path):
    load(qtbot, pred_tab, runs_root / "shapes-run")
    pred_tab.predict_paths([str(p) for p in sorted(Path(learnable_dir).glob("*/*.jpg"))[:6]])
    wait_idle(qtbot, pred_tab)
    rows = shown_rows(pred_tab)
    pred_tab.threshold.setValue(100)  # nothing is 100 % sure: everything gets marked
    assert all(i.data(LOW_ROLE) for i in rows)
    assert all(i.data(Qt.ItemDataRole.DisplayRole).endswith("(low confidence)") for i in rows)
    assert "6 low confidence" in pred_tab.summary.text()
    pred_tab.export(str(tmp_path / "low.json"))
    assert all(d["low_confidence"] for d in json.loads((tmp_path / "low.json").read_text()))
    pred_tab.threshold.setValue(0)
    assert not any(i.data(LOW_ROLE) for i in rows) and "0 low confidence" in pred_tab.summary.text()
    lowest = min(i.data(PREDICTION_ROLE).top[0][1] for i in rows)
    pred_tab.threshold.setValue(lowest * 100 + 1)  # just above the least sure result
    assert sum(bool(i.data(LOW_ROLE)) for i in rows) >= 1


def test_pasted_image_is_predicted(qtbot, pred_tab, runs_root):
    load(qtbot, pred_tab, runs_root / "shapes-run")
    image = QImage(64, 48, QImage.Format.Format_RGB32)
    image.fill(QColor(215, 40, 40))
    QApplication.clipboard().setImage(image)
    pred_tab.paste_from_clipboard()
    wait_idle(qtbot, pred_tab)
    (row,) = shown_rows(pred_tab)
    assert row.data(Qt.ItemDataRole.DisplayRole).startswith("Pasted image 1: ")
    assert not row.data(ERROR_ROLE)


def test_images_dropped_before_choosing_a_model_use_the_newest_run(qtbot, pred_tab, learnable_dir):
    image = sorted((Path(learnable_dir) / "green_square").glob("*.jpg"))[0]
    with qtbot.waitSignal(pred_tab.run_opened, timeout=LOAD_TIMEOUT):
        assert drop_on(pred_tab, [image])
    wait_idle(qtbot, pred_tab)
    assert len(shown_rows(pred_tab)) == 1 and "shapes-run" in pred_tab.model_label.text()


def test_a_folder_that_is_not_a_run_is_explained(qtbot, pred_tab, tmp_path):
    states = []
    pred_tab.state_changed.connect(states.append)
    pred_tab.open_run(str(tmp_path))
    qtbot.waitUntil(lambda: states == ["attention"], timeout=LOAD_TIMEOUT)
    text = pred_tab.model_label.text()
    assert str(tmp_path) in text and "run.json is missing" in text
    assert pred_tab.run_dir == ""


def test_ctrl_v_pastes_an_image_from_the_clipboard(qtbot, pred_tab, runs_root):
    load(qtbot, pred_tab, runs_root / "shapes-run")
    image = QImage(40, 40, QImage.Format.Format_RGB32)
    image.fill(QColor(40, 170, 60))
    QApplication.clipboard().setImage(image)
    pred_tab.activateWindow()
    pred_tab.results.setFocus()
    qtbot.waitUntil(lambda: pred_tab.results.hasFocus(), timeout=2000)
    qtbot.keyClick(pred_tab.results, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, pred_tab)
    assert [i.data(Qt.ItemDataRole.DisplayRole).split(":")[0] for i in shown_rows(pred_tab)] \
        == ["Pasted image 1"]
