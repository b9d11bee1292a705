"""Feedback from predictions in the window: right-click a result (or press R / W) to mark it
right, or wrong with the right class; the mark shows on the result, the new-labels CSV beside
the run holds the row, and "Train with them…" starts a new run in the Training tab that
trains on the new labels (real engine, tiny CLIP)."""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication, QMenu

from engine.demo.dataset import make_demo_dataset
from gui.feedback_flow import RIGHT_COLOUR, WRONG_COLOUR
from gui.widgets.prediction_results import PREDICTION_ROLE, PredictionDelegate
from snapshots import folder_hash

LOAD_TIMEOUT = 180_000


@pytest.fixture
def my_run(trained_run, tmp_path) -> Path:
    """A private copy of the session's trained run (4 classes), in tmp/runs/."""
    return Path(shutil.copytree(trained_run, tmp_path / "runs" / "shapes"))


@pytest.fixture
def window(main_window, qtbot, my_run):
    tab = main_window.prediction_tab
    with qtbot.waitSignal(tab.run_opened, timeout=LOAD_TIMEOUT):
        tab.open_run(str(my_run))
    main_window.show_tab(tab)
    main_window.resize(1200, 900)
    return main_window


def predict(qtbot, tab, paths) -> dict[str, int]:
    tab.predict_paths([str(p) for p in paths])
    qtbot.waitUntil(lambda: not tab.service.busy, timeout=120_000)
    model = tab.results.results_model
    return {str(model.index(r).data(PREDICTION_ROLE).source): r for r in range(model.rowCount())}


def right_click(tab, row: int) -> dict[str, object]:
    """Right-click result `row` as a user does; the menu that opens, by its actions' texts
    (it is closed again at once: the test then triggers the entry it wants)."""
    shown: list[QMenu] = []

    def close_menu() -> None:
        menu = QApplication.activePopupWidget()
        if isinstance(menu, QMenu):
            shown.append(menu)
            menu.close()

    QTimer.singleShot(50, close_menu)
    view = tab.results
    rect = view.visualRect(view.results_model.index(row))
    QApplication.sendEvent(view.viewport(), QContextMenuEvent(
        QContextMenuEvent.Reason.Mouse, rect.center(), view.viewport().mapToGlobal(rect.center())))
    assert shown, "no menu opened"
    return {a.text().split("\t")[0]: a for a in shown[-1].actions() if a.text()}


def badge_pixels(tab, row: int, colour) -> int:
    """Pixels of `colour` in result `row`'s thumbnail, as painted on screen."""
    view = tab.results
    view.viewport().update()
    QApplication.processEvents()
    image = view.viewport().grab().toImage()
    rect = view.visualRect(view.results_model.index(row))
    pad, size = PredictionDelegate.PAD, PredictionDelegate.THUMB
    count = 0
    for y in range(rect.top() + pad, rect.top() + pad + size):
        for x in range(rect.left() + pad, rect.left() + pad + size):
            if image.pixelColor(x, y).rgb() == colour.rgb():
                count += 1
    return count


def csv_rows(run: Path) -> dict[str, str]:
    with open(run.parent / f"{run.name}-new-labels.csv", newline="", encoding="utf-8") as fh:
        return {r["path"]: r["label"] for r in csv.DictReader(fh) if r["split"] == "train"}


def test_mark_right_and_wrong_shows_the_mark_and_writes_the_row(qtbot, window, my_run,
                                                                 tmp_path):
    tab = window.prediction_tab
    new = make_demo_dataset(tmp_path / "new", num_classes=4, per_class=1, seed=21)
    images = sorted(new.rglob("*.jpg"))
    before = folder_hash(new, mtimes=True)
    rows = predict(qtbot, tab, images)
    first, second, third = (rows[str(p)] for p in images[:3])
    predicted = tab.results.results_model.index(first).data(PREDICTION_ROLE).top[0][0]
    assert not tab.feedback.bar.isVisible() and badge_pixels(tab, first, RIGHT_COLOUR) == 0

    actions = right_click(tab, first)
    assert {f"Right: {predicted}", "Wrong, it is…"} <= set(actions)  # "Why?" may be there too
    assert "Remove the new label" not in actions
    actions[f"Right: {predicted}"].trigger()
    assert list(csv_rows(my_run).values()) == [predicted.replace(" ", "_")]
    assert badge_pixels(tab, first, RIGHT_COLOUR) > 20  # ✓ on the thumbnail
    assert tab.feedback.bar.isVisible() and tab.feedback.train_button.isVisible()
    assert "1 new label(s) for this run" in tab.feedback.count_label.text()

    top = tab.results.results_model.index(second).data(PREDICTION_ROLE).top[0][0]
    right_click(tab, second)["Wrong, it is…"].trigger()
    picker = tab.feedback.picker
    assert top not in [picker.list.item(i).text() for i in range(picker.list.count())]
    other = next(n for n in ("blue triangle", "green square") if n != top)
    qtbot.keyClicks(picker.filter, other.split()[1][:4])  # "tria" / "squa": one class left
    assert picker.chosen() == other
    qtbot.keyClick(picker.filter, Qt.Key.Key_Return)
    assert csv_rows(my_run)[str(images[1])] == other.replace(" ", "_")
    assert badge_pixels(tab, second, WRONG_COLOUR) > 20  # ✗ and the class given

    tab.results.setFocus()  # the keyboard: R marks the selected result right
    tab.results.setCurrentIndex(tab.results.results_model.index(third))
    qtbot.keyClick(tab.results, Qt.Key.Key_R)
    assert str(images[2]) in csv_rows(my_run)
    actions = right_click(tab, first)  # marked again: the last verdict counts
    actions["Remove the new label"].trigger()
    assert set(csv_rows(my_run)) == {str(images[1]), str(images[2])}
    assert badge_pixels(tab, first, RIGHT_COLOUR) == 0
    assert folder_hash(new, mtimes=True) == before  # the user's images are never touched


def test_a_validation_image_is_refused_with_a_plain_message(qtbot, window, my_run):
    tab = window.prediction_tab
    split = json.loads((my_run / "split.json").read_text())
    val_image = Path(split["root"]) / split["files"]["val"][0]["path"]
    rows = predict(qtbot, tab, [val_image])
    actions = right_click(tab, rows[str(val_image)])
    next(a for text, a in actions.items() if text.startswith("Right")).trigger()
    assert "validation images of shapes" in tab.feedback.count_label.text()
    assert tab.feedback.bar.isVisible() and not tab.feedback.train_button.isVisible()
    assert not (my_run.parent / "shapes-new-labels.csv").exists()


def test_train_with_them_starts_a_new_run_that_trains_on_them(qtbot, window, my_run,
                                                              tmp_path):
    tab = window.prediction_tab
    new = make_demo_dataset(tmp_path / "new", num_classes=4, per_class=1, seed=22)
    images = sorted(new.rglob("*.jpg"))
    rows = predict(qtbot, tab, images)
    for image in images:
        actions = right_click(tab, rows[str(image)])
        next(a for text, a in actions.items() if text.startswith("Right")).trigger()
    asked = []
    window.confirm = lambda title, text: asked.append(text) or True
    training = window.training_tab
    with qtbot.waitSignal(training.run_finished, timeout=300_000) as finished:
        qtbot.mouseClick(tab.feedback.train_button, Qt.MouseButton.LeftButton)
        assert training.is_running() and window.tabs.currentWidget() is training
    run_dir, status = finished.args
    assert status == "completed" and Path(run_dir).parent == my_run.parent
    assert "4 new label(s)" in asked[0]
    new_split = json.loads((Path(run_dir) / "split.json").read_text())
    trained = {str(Path(new_split["root"]) / i["path"]) for i in new_split["files"]["train"]}
    assert {str(p) for p in images} <= trained
    old = json.loads((my_run / "split.json").read_text())
    assert [len(new_split["files"][s]) for s in ("val", "test")] == [
        len(old["files"][s]) for s in ("val", "test")]
    run_json = json.loads((Path(run_dir) / "run.json").read_text())
    assert run_json["config"]["init_from"] == str(my_run.resolve())
