"""No stale text: a language switch re-makes what is already shown (the dataset's layout line,
scan problems, failed predictions: engine texts), the Earlier runs list follows the runs
folder and shows whole names, a pasted image's result is scrolled into view, a demo's outcome
leaves the status bar when a later run starts, and closing during a run says what it waits
for until the run has saved."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication

from engine import i18n as engine_i18n
from gui import i18n
from gui.engine_texts import engine_again
from run_factory import copy_run

CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def chinese_afterwards():
    """Switch back to English whatever the test did."""
    yield
    i18n.install_language("en")


# --- engine texts made again ---------------------------------------------------------------
def test_an_engine_text_is_made_again_in_the_current_language(qapp, chinese_afterwards):
    from engine.i18n import _

    note = _("Ignored {n} {kind}.").format(n=3, kind=_("hidden or system files"))
    split = _("{n} image(s) split automatically per class with seed {seed}: {val:.0%} "
              "validation, {test:.0%} test.").format(n=120, seed=42, val=0.15, test=0.15)
    i18n.install_language("zh_CN")
    chinese = [engine_again(note), engine_again(split)]
    assert all(CHINESE.search(t) for t in chinese), chinese
    assert "3" in chinese[0] and "隐藏" in chinese[0]  # the nested kind is translated too
    assert "42" in chinese[1] and "15%" in chinese[1]
    assert engine_again("/data/dogs/beagle_01.jpg") == "/data/dogs/beagle_01.jpg"
    assert engine_again("something no catalogue holds") == "something no catalogue holds"
    i18n.install_language("en")
    assert [engine_again(t) for t in chinese] == [note, split]  # and back, exactly


def test_a_language_switch_re_makes_the_layout_line_problems_and_results(
        qtbot, main_window, learnable_dir, copy_of, trained_run, tmp_path, chinese_afterwards):
    w = main_window
    data = copy_of(learnable_dir)
    (data / "red_circle" / "broken.jpg").write_bytes(b"not an image")
    with qtbot.waitSignal(w.dataset_tab.dataset_ready, timeout=60_000):
        w.dataset_tab.open_folder(str(data))
    index = w.dataset_tab.index
    english_layout = w.dataset_tab.layout_label.text()
    assert index.layout_description in english_layout and "split automatically" in english_layout
    problems = w.dataset_tab.problems
    problems.set_expanded(True)
    reason = problems.table.item(0, 1).text()
    assert "not a picture" in reason
    with qtbot.waitSignal(w.prediction_tab.run_opened, timeout=180_000):
        w.prediction_tab.open_run(str(trained_run))
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not an image")
    with qtbot.waitSignal(w.prediction_tab.service.idle, timeout=60_000):
        w.prediction_tab.predict_paths([str(text_file)])
    results = w.prediction_tab.results.results_model
    (failed,) = [results.index(r) for r in range(results.rowCount())]
    assert "not a picture" in failed.data()

    w.language_menu.choose("zh_CN")
    layout = w.dataset_tab.layout_label.text()
    assert "split automatically" not in layout and "one sub-folder" not in layout
    assert engine_i18n.gettext("one sub-folder per class; split automatically into "
                               "train/val/test") in layout
    assert CHINESE.search(problems.table.item(0, 1).text())
    assert "not a picture" not in problems.table.item(0, 1).text()
    assert "not a picture" not in failed.data() and CHINESE.search(failed.data())
    # the class table's Test column holds counts: its header is not the split box's share
    header = w.dataset_tab.table.horizontalHeaderItem(4).text()
    assert header == QCoreApplication.translate("ClassTable", "Test") != "Test"
    preset_tip = next(iter(w.config_tab.preset_buttons.values())).toolTip()
    assert CHINESE.search(preset_tip) and "Every other training setting" not in preset_tip

    w.language_menu.choose("en")
    assert w.dataset_tab.layout_label.text() == english_layout
    assert problems.table.item(0, 1).text() == reason
    assert w.dataset_tab.table.horizontalHeaderItem(4).text() == "Test"


# --- earlier runs ----------------------------------------------------------------------------
LONG = "dogs-and-cats-with-a-rather-long-descriptive-name-2026-11-29-141203"


def _run_named(run: Path, target: Path) -> Path:
    """A copy of `run` named (folder and run.json) as a run trained under that name."""
    copy_run(run, target)
    meta = json.loads((target / "run.json").read_text(encoding="utf-8"))
    meta["name"] = target.name
    (target / "run.json").write_text(json.dumps(meta, sort_keys=True), encoding="utf-8")
    return target


def _names(history) -> list[str]:
    return [Path(history.list.item(i).data(Qt.ItemDataRole.UserRole)).name
            for i in range(history.list.count())]


def test_earlier_runs_follow_the_runs_folder_and_keep_whole_names(qtbot, main_window, trained_run,
                                                                  tmp_path):
    w = main_window
    runs = tmp_path / "my-runs"
    runs.mkdir()
    _run_named(trained_run, runs / LONG)
    history = w.training_tab.history
    assert LONG not in _names(history)
    w.config_tab.set_field("output_dir", str(runs))  # the Config tab points elsewhere
    qtbot.waitUntil(lambda: _names(history) == [LONG], timeout=5_000)
    item = history.list.item(0)
    assert item.toolTip().splitlines()[0] == LONG  # the whole name, whatever the width
    # too long for the pane: Qt draws a list row as wide as the pane when it cannot scroll
    # sideways, shortened in the middle (the date at the end stays readable)
    w.show_tab(w.training_tab)
    view = history.list
    assert view.fontMetrics().horizontalAdvance(LONG) > view.viewport().width()
    assert view.horizontalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff
    assert view.textElideMode() == Qt.TextElideMode.ElideMiddle
    _run_named(trained_run, runs / "added-elsewhere")  # e.g. by the command line
    qtbot.waitUntil(lambda: sorted(_names(history)) == sorted([LONG, "added-elsewhere"]),
                    timeout=10_000)
    shutil.rmtree(runs / "added-elsewhere")
    qtbot.waitUntil(lambda: _names(history) == [LONG], timeout=10_000)
    assert w.prediction_tab.chooser.combo.count() >= 1  # step 4 lists the same folder


def test_the_run_that_ended_is_an_earlier_run_once_the_next_starts(qtbot, main_window,
                                                                   trained_run, fake_train,
                                                                   tmp_path):
    w = main_window
    runs = tmp_path / "runs"
    w.config_tab.set_field("output_dir", str(runs))
    qtbot.waitUntil(lambda: w.training_tab.history.root == str(runs), timeout=5_000)

    def run_writing_a_folder(name, **fake):
        events = fake_train(**fake)

        def train(config, control, dataset=None):
            _run_named(trained_run, runs / name)  # a real run folder, as the engine writes one
            yield from events(config.replace(run_name=name), control, dataset)
        return train

    w.dataset_tab.dataset_ready.emit(_fake_index(tmp_path))
    history = w.training_tab.history
    w.training_tab.train_fn = run_writing_a_folder("first", steps=20)
    with qtbot.waitSignal(w.training_tab.run_finished, timeout=30_000):
        w.start_training()
    assert "first" not in _names(history)  # shown as the run itself, not as an earlier one
    w.training_tab.train_fn = run_writing_a_folder("second", steps=4000, delay=0.005)
    with qtbot.waitSignal(w.training_tab.run_started, timeout=30_000):
        w.start_training()
    # while the next run trains, the one before is an earlier run, ready to compare with
    qtbot.waitUntil(lambda: _names(history) == ["first"], timeout=5_000)
    with qtbot.waitSignal(w.training_tab.run_finished, timeout=30_000):
        w.training_tab.stop()
    assert _names(history) == ["first"]


def _fake_index(root):
    from types import SimpleNamespace

    return SimpleNamespace(root=str(root), val_fraction=0.15, test_fraction=0.15, seed=42,
                           errors=[], class_names=["a", "b"], samples=[], classes=[])


# --- a pasted image's result -----------------------------------------------------------------
def test_a_pasted_images_result_is_scrolled_into_view(qtbot, main_window, trained_run,
                                                      learnable_dir):
    w = main_window
    tab = w.prediction_tab
    w.show_tab(tab)
    with qtbot.waitSignal(tab.run_opened, timeout=180_000):
        tab.open_run(str(trained_run))
    folder = Path(learnable_dir) / "blue_triangle"
    with qtbot.waitSignal(tab.service.idle, timeout=120_000):
        tab.predict_paths([str(folder)])
    view, model = tab.results, tab.results.results_model
    assert model.rowCount() >= 20
    view.scrollToTop()
    last = model.index(model.rowCount() - 1)
    assert not view.viewport().rect().intersects(view.visualRect(last))  # below the fold
    image = QImage(40, 40, QImage.Format.Format_RGB32)
    image.fill(QColor(40, 170, 60))
    QApplication.clipboard().setImage(image)
    tab.activateWindow()
    view.setFocus()
    qtbot.waitUntil(view.hasFocus, timeout=2000)
    with qtbot.waitSignal(tab.service.idle, timeout=60_000):
        qtbot.keyClick(view, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    pasted = model.index(model.rowCount() - 1)
    assert pasted.data().startswith("Pasted image 1")
    assert view.viewport().rect().contains(view.visualRect(pasted))  # in view, whole
    assert view.currentIndex() == pasted


# --- the status bar and closing ------------------------------------------------------------
def test_a_demos_outcome_leaves_the_status_bar_when_a_later_run_starts(qtbot, main_window,
                                                                       fake_train):
    from gui.demo_flow import DEMO_SETTINGS, DemoFlow

    w = main_window
    w.training_tab.train_fn = fake_train(steps=20, fail_at=3)
    flow = DemoFlow(w, settings={**DEMO_SETTINGS, "epochs": 1}, predict_per_class=1)
    with qtbot.waitSignal(flow.failed, timeout=300_000):
        flow.start()
    w.training_tab.error_dialog.accept()
    assert w.status.note.text().startswith("Demo stopped:")
    w.training_tab.train_fn = fake_train(steps=20)
    with qtbot.waitSignal(w.training_tab.run_finished, timeout=30_000) as finished:
        w.start_training()
    assert finished.args[1] == "completed"
    assert "Demo" not in w.status.note.text()  # the later run is the news now
    assert w.status.run.text() == "run: fake-run"


def test_closing_during_a_run_stays_and_says_it_is_saving(qtbot, main_window, tmp_path,
                                                          fake_train):
    w = main_window
    w.dataset_tab.dataset_ready.emit(_fake_index(tmp_path))
    w.training_tab.train_fn = fake_train(steps=4000, delay=0.005)
    w.start_training()
    qtbot.waitUntil(lambda: w.training_tab.started is not None, timeout=10_000)
    with qtbot.waitSignal(w.training_tab.run_finished, timeout=20_000):
        w.close()
        assert w.isVisible()
        assert w.closing_banner.isVisible() and "Saving the model" in w.closing_banner.text()
        assert "Saving the model" in w.status.note.text()
        assert not w.tabs.isEnabled()  # nothing new starts while it saves
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=10_000)


def test_review_messages_follow_a_language_switch(qtbot, main_window, learnable_dir, copy_of,
                                                  monkeypatch, chinese_afterwards):
    from engine.errors import UserError
    from engine.review import decisions as decisions_module

    w = main_window
    with qtbot.waitSignal(w.dataset_tab.dataset_ready, timeout=60_000):
        w.dataset_tab.open_folder(str(copy_of(learnable_dir)))

    def broken(*args, **kwargs):  # an engine message, in the language of the moment
        raise UserError(engine_i18n._("the folder {path} cannot be written ({reason})").format(
            path="/media/usb/reviewed", reason="No space left on device"))

    monkeypatch.setattr(decisions_module, "write_reviewed_csv", broken)
    flow = w.dataset_tab.review_flow
    flow.index = w.dataset_tab.index
    assert flow.save({}) == ""
    shown = w.dataset_tab.banner.text()
    assert "was not saved" in shown and "cannot be written" in shown
    w.language_menu.choose("zh_CN")
    again = w.dataset_tab.banner.text()
    assert "was not saved" not in again and "cannot be written" not in again
    assert CHINESE.search(again) and "/media/usb/reviewed" in again
    w.language_menu.choose("en")
    assert w.dataset_tab.banner.text() == shown
