""""More like this" (Dataset tab: key M, right-click) and "Why? Nearest training images"
(Prediction tab: right-click a result), driven as a user would, with generated images and
tests/colour_encoder.py's encoder, whose embeddings put the red pictures together.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication, QMenu

from colour_encoder import make_colour_clip
from engine.demo.dataset import make_demo_dataset
from gui.widgets.image_grid import PATH_ROLE

WAIT = 240_000  # embedding loads the model: slow on a busy 2-core machine


@pytest.fixture(scope="module")
def colour_clip(tmp_path_factory) -> Path:
    return make_colour_clip(tmp_path_factory.mktemp("colour_clip"))


@pytest.fixture(scope="module")
def shapes(tmp_path_factory) -> tuple[Path, Path]:
    """(dataset of 4 classes x 8, the red picture filed under green_square by mistake)."""
    data = make_demo_dataset(tmp_path_factory.mktemp("shapes") / "shapes", num_classes=4,
                             per_class=8, seed=4)
    extra = make_demo_dataset(tmp_path_factory.mktemp("extra"), num_classes=4, per_class=1,
                              seed=8)
    odd = data / "green_square" / "odd_one.jpg"
    shutil.copy(next((extra / "red_circle").glob("*.jpg")), odd)
    return data, odd


def choose_from_menu(text: str) -> None:
    """Pick `text` from the context menu about to open (it runs its own event loop)."""
    def pick() -> None:
        menu = QApplication.activePopupWidget()
        if not isinstance(menu, QMenu):
            QTimer.singleShot(50, pick)
            return
        action = next(a for a in menu.actions() if a.text() == text)
        menu.close()
        action.trigger()

    QTimer.singleShot(50, pick)


def right_click(widget, pos: QPoint) -> None:
    QApplication.sendEvent(widget, QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos,
                                                     widget.mapToGlobal(pos)))


def similarity_shares(panel) -> list[int]:
    """The '93 % alike' line of every neighbour, as numbers."""
    texts = [panel.strip.item(i).text() for i in range(panel.strip.count())]
    return [int(t.rsplit("\n", 1)[1].split(" ")[0]) for t in texts]


def click_item(qtbot, strip, row: int) -> None:
    rect = strip.visualItemRect(strip.item(row))
    qtbot.mouseClick(strip.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


@pytest.fixture
def dataset_tab(qtbot, shapes, colour_clip):
    from gui.tabs.dataset_tab import DatasetTab

    tab = DatasetTab(None)
    tab.model_for_checks = lambda: str(colour_clip)
    tab.resize(1200, 800)
    qtbot.addWidget(tab)
    tab.show()
    with qtbot.waitSignal(tab.dataset_ready, timeout=60_000):
        tab.open_folder(str(shapes[0]))
    yield tab
    tab.shutdown()


def select(qtbot, tab, class_name: str, path: Path) -> None:
    row = tab.index.class_names.index(class_name)
    tab.table.setCurrentCell(row, 0)
    grid = tab.grid
    grid.setCurrentIndex(grid.model().index(grid.paths().index(str(path))))
    grid.setFocus()


def test_key_m_shows_the_nearest_images_of_every_class_and_one_click_goes_there(
        qtbot, dataset_tab, shapes, tmp_path):
    tab, (_data, odd) = dataset_tab, shapes
    names = {c.folder: c.display_name for c in tab.index.classes}
    panel = tab.more_like_this.panel
    assert not panel.isVisible()
    select(qtbot, tab, names["green_square"], odd)
    qtbot.keyClick(tab.grid, Qt.Key.Key_M)
    assert panel.isVisible() and panel.busy.isVisible()  # at once: work has begun
    qtbot.waitUntil(lambda: bool(panel.paths()), timeout=WAIT)
    # a red picture filed under green: its neighbours come from the red class
    # a red picture filed under green: its nearest are the red class's 8, then the others
    assert panel.labels()[:8] == [names["red_circle"]] * 8
    assert names["red_circle"] not in panel.labels()[8:] and str(odd) not in panel.paths()
    shares = similarity_shares(panel)
    assert shares == sorted(shares, reverse=True) and shares[0] > 80
    panel.grab().save(str(tmp_path / "panel.png"))
    chosen = panel.paths()[2]
    click_item(qtbot, panel.strip, 2)
    assert tab.table.currentRow() == tab.index.class_names.index(names["red_circle"])
    assert tab.grid.currentIndex().data(PATH_ROLE) == chosen
    # the second question about the same dataset is answered from this session's embeddings
    flow = tab.more_like_this
    assert len(flow._embedded) == 1
    qtbot.keyClick(tab.grid, Qt.Key.Key_M)
    qtbot.waitUntil(lambda: not flow.running and bool(panel.paths())
                    and chosen not in panel.paths(), timeout=WAIT)
    # the other red pictures first: the red class's other 7 and the one filed under green
    reds = {str(p) for p in (_data / "red_circle").glob("*.jpg")} - {chosen} | {str(odd)}
    assert set(panel.paths()[:8]) == reds
    qtbot.mouseClick(panel.close_button, Qt.MouseButton.LeftButton)
    assert not panel.isVisible()


def test_right_click_more_like_this_on_a_blue_image(qtbot, dataset_tab):
    tab = dataset_tab
    names = {c.folder: c.display_name for c in tab.index.classes}
    tab.table.setCurrentCell(tab.index.class_names.index(names["blue_triangle"]), 0)
    grid, panel = tab.grid, tab.more_like_this.panel
    first = grid.model().index(0)
    choose_from_menu("More like this")
    right_click(grid.viewport(), grid.visualRect(first).center())
    assert grid.currentIndex().row() == 0
    qtbot.waitUntil(lambda: bool(panel.paths()), timeout=WAIT)
    assert set(panel.labels()[:7]) == {names["blue_triangle"]}
    assert first.data(PATH_ROLE) not in panel.paths()


def test_m_without_a_selection_says_what_to_do(qtbot, dataset_tab):
    tab = dataset_tab
    tab.grid.clearSelection()
    tab.grid.setCurrentIndex(tab.grid.model().index(-1))
    tab.grid.setFocus()
    qtbot.keyClick(tab.grid, Qt.Key.Key_M)
    panel = tab.more_like_this.panel
    assert panel.isVisible() and "Select an image first" in panel.note.text()
    assert not tab.more_like_this.running


# -- the Prediction tab -----------------------------------------------------------------
@pytest.fixture(scope="module")
def colour_runs(tmp_path_factory, colour_clip, shapes):
    """(runs folder with a run of the colour encoder, a run whose dataset then moved)."""
    from run_factory import make_run

    root = tmp_path_factory.mktemp("runs")
    run = make_run(root / "colours", colour_clip, shapes[0], nudge=False)
    moved_data = tmp_path_factory.mktemp("moved") / "shapes"
    shutil.copytree(shapes[0], moved_data)
    moved = make_run(root / "moved", colour_clip, moved_data, nudge=False)
    moved_data.rename(moved_data.with_name("shapes-renamed"))
    return run, moved


@pytest.fixture
def pred_tab(qtbot, colour_runs):
    from gui.tabs.prediction_tab import PredictionTab

    tab = PredictionTab(None)
    tab.set_runs_root(str(colour_runs[0].parent))
    tab.resize(1000, 800)
    qtbot.addWidget(tab)
    tab.show()
    yield tab
    tab.shutdown()


def predict_one(qtbot, tab, run_dir: Path, image: Path) -> None:
    with qtbot.waitSignal(tab.run_opened, timeout=WAIT):
        tab.open_run(str(run_dir))
    tab.predict_paths([str(image)])
    qtbot.waitUntil(lambda: tab.results.results_model.rowCount() == 1 and not tab.service.busy,
                    timeout=WAIT)


def ask_why(tab) -> None:
    results = tab.results
    choose_from_menu("Why? Nearest training images")
    right_click(results.viewport(), results.visualRect(results.results_model.index(0)).center())


@pytest.fixture(scope="module")
def red_image(tmp_path_factory) -> Path:
    other = make_demo_dataset(tmp_path_factory.mktemp("new"), num_classes=4, per_class=1,
                              seed=11)
    return next((other / "red_circle").glob("*.jpg"))


def test_why_shows_the_nearest_training_images_of_the_predicted_colour(
        qtbot, pred_tab, colour_runs, red_image, tmp_path):
    import json

    tab, run = pred_tab, colour_runs[0]
    predict_one(qtbot, tab, run, red_image)
    predicted = tab.results.results_model.predictions()[0].top[0][0]
    ask_why(tab)
    panel = tab.why_by_example.panel
    qtbot.waitUntil(lambda: bool(panel.paths()), timeout=WAIT)
    # the run trained on 4 x 8 images minus the held-out ones: its red training images first
    red_train = sum(1 for p in panel.paths() if "/red_circle/" in p)
    assert "red" in predicted.lower() and red_train >= 4
    assert panel.labels()[:red_train] == [predicted] * red_train
    split = json.loads((run / "split.json").read_text())
    train = {str(Path(split["root"]) / f["path"]) for f in split["files"]["train"]}
    assert set(panel.paths()) <= train
    assert similarity_shares(panel) == sorted(similarity_shares(panel), reverse=True)
    assert "Training images nearest to" in panel.title.text()
    panel.grab().save(str(tmp_path / "why.png"))


def test_moved_training_images_give_a_plain_message(qtbot, pred_tab, colour_runs, red_image):
    tab = pred_tab
    predict_one(qtbot, tab, colour_runs[1], red_image)
    ask_why(tab)
    panel = tab.why_by_example.panel
    qtbot.waitUntil(lambda: panel.note.isVisible(), timeout=WAIT)
    assert "no longer in" in panel.note.text() and "moved or renamed" in panel.note.text()
    assert panel.paths() == []


def test_a_broken_run_goes_the_error_path(qtbot, pred_tab, colour_runs, red_image, tmp_path,
                                          error_reports):
    tab = pred_tab
    broken = tmp_path / "broken"
    shutil.copytree(colour_runs[0], broken)
    predict_one(qtbot, tab, broken, red_image)
    (broken / "split.json").write_text("{not json", encoding="utf-8")
    ask_why(tab)
    qtbot.waitUntil(lambda: bool(error_reports()), timeout=WAIT)
    assert "Why? Nearest training images" in error_reports()[-1]
    assert "split.json" in error_reports()[-1]
    assert not tab.why_by_example.panel.isVisible()
