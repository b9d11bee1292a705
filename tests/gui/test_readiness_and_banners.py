"""Messages agree with the state: the Dataset, Config and Training tabs say the same thing about
a missing dataset and about one whose problems block training (gui/readiness.py decides it
once), every banner can be closed, and the next result of an action replaces its banner."""
from __future__ import annotations

import pytest
from PIL import Image
from PySide6.QtCore import Qt

from engine.errors import UserError
from gui.main_window import STATE_MARKS


def _images(folder, count: int, colour, first: int = 0) -> None:
    """`count` different images (identical files would count once: duplicates)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(first, first + count):
        shade = tuple(min(255, c + 7 * i) for c in colour)
        Image.new("RGB", (48, 40), shade).save(folder / f"{folder.name}_{i}.png")


@pytest.fixture
def blocked(tmp_path):
    """Two classes, one with a single image: a problem that blocks training."""
    root = tmp_path / "pets"
    _images(root / "cat", 6, (200, 60, 60))
    _images(root / "dog", 1, (60, 60, 200))
    return root


def _shown(banner) -> bool:
    return banner.isVisibleTo(banner.parentWidget())


def test_no_dataset_reads_the_same_in_training_and_config(main_window):
    training, config = main_window.training_tab.banner, main_window.config_tab.banner
    assert _shown(training) and _shown(config)
    assert training.text() == config.text() and "step 1" in training.text()
    assert training.action.text() == config.action.text() == "Go to Dataset"
    assert not any(main_window.tabs.tabText(i).endswith(STATE_MARKS["done"]) for i in range(4))


def test_a_dataset_with_blocking_problems_reads_the_same_in_every_tab(qtbot, main_window,
                                                                      blocked):
    w = main_window
    with qtbot.waitSignal(w.dataset_tab.dataset_ready, timeout=30_000) as got:
        w.dataset_tab.open_folder(str(blocked))
    assert got.args == [None]  # nothing to train on
    said = w.dataset_tab.readiness_banner.text()
    assert "a problem that blocks training" in said and "'dog' has only 1 usable image" in said
    for tab in (w.training_tab, w.config_tab):
        assert _shown(tab.banner) and tab.banner.text() == said, type(tab).__name__
        assert tab.banner.action.text() == "Go to Dataset"
        assert "Nothing to train on" not in tab.banner.text()
        assert "No dataset yet" not in tab.banner.text()
    assert _shown(w.dataset_tab.readiness_banner)
    assert w.config_tab.config().data_dir == str(blocked)  # the dataset chosen is named
    assert w.tabs.tabText(0).endswith(STATE_MARKS["attention"])
    assert not w.tabs.tabText(1).endswith(STATE_MARKS["done"])  # no ✓ for an unusable setup
    assert not w.start_action.isEnabled() and not w.training_tab.start_button.isEnabled()
    assert w.training_tab.start() is False  # not even by a direct call (the demo's path)

    w.show_tab(w.config_tab)
    qtbot.mouseClick(w.config_tab.banner.action, Qt.MouseButton.LeftButton)
    assert w.tabs.currentWidget() is w.dataset_tab
    w.dataset_tab.problems.set_expanded(False)
    qtbot.mouseClick(w.dataset_tab.readiness_banner.action, Qt.MouseButton.LeftButton)
    assert w.dataset_tab.problems.table.isVisible()  # the banner's button shows the problems

    _images(blocked / "dog", 6, (60, 60, 200), first=1)  # the user fixes it, then rescans
    with qtbot.waitSignal(w.dataset_tab.dataset_ready, timeout=30_000) as got:
        qtbot.mouseClick(w.dataset_tab.rescan_button, Qt.MouseButton.LeftButton)
    assert got.args[0] is not None
    for banner in (w.dataset_tab.readiness_banner, w.config_tab.banner, w.training_tab.banner):
        assert not _shown(banner)
    assert w.tabs.tabText(0).endswith(STATE_MARKS["done"])
    assert w.tabs.tabText(1).endswith(STATE_MARKS["done"])
    assert w.start_action.isEnabled()


def test_every_banner_closes_and_a_closed_blocker_stays_closed_until_it_changes(qtbot,
                                                                                main_window):
    from gui.widgets.banner import Banner

    w = main_window
    banners = w.findChildren(Banner)
    assert len(banners) >= 6  # error, closing, Config, Training, Dataset (2), Prediction
    assert all(b.close_button.toolTip() for b in banners)
    training = w.training_tab.banner
    w.show_tab(w.training_tab)
    qtbot.mouseClick(training.close_button, Qt.MouseButton.LeftButton)
    assert not _shown(training)
    w.config_tab.editors["epochs"].widget.setValue(7)  # the blocker is said again: still closed
    assert not _shown(training)
    for box in w.config_tab.editors["target_modules"].boxes.values():
        box.setChecked(False)  # still no dataset: the same blocker, still closed
    assert not _shown(training)
    w.dataset_tab.dataset_ready.emit(_ready_index(w, tmp_root=w.config_tab.config().output_dir))
    assert _shown(training) and "target_modules" in training.text()  # a new blocker shows


def _ready_index(window, tmp_root):
    from types import SimpleNamespace

    return SimpleNamespace(root=str(tmp_root), val_fraction=0.15, test_fraction=0.15, seed=42,
                           errors=[], class_names=["a", "b"], samples=[], classes=[])


def test_a_failed_check_is_closable_and_the_next_result_replaces_it(qtbot, main_window, tmp_path,
                                                                    monkeypatch):
    import engine.review.check as check_module
    from engine.review.check import DataReport
    from review_data import colour_folder

    w = main_window
    tab = w.dataset_tab
    data = colour_folder(tmp_path / "colours", per_class=3)
    with qtbot.waitSignal(tab.dataset_ready, timeout=30_000):
        tab.open_folder(str(data))

    def broken(*args, **kwargs):
        raise UserError("The base model could not be loaded for the check.")

    monkeypatch.setattr(check_module, "check_dataset", broken)
    w.show_tab(tab)
    with qtbot.waitSignal(tab.review_flow.idle, timeout=120_000):
        qtbot.mouseClick(tab.check_button, Qt.MouseButton.LeftButton)
    assert _shown(tab.banner) and "could not run" in tab.banner.text()
    qtbot.mouseClick(tab.banner.close_button, Qt.MouseButton.LeftButton)
    assert not _shown(tab.banner)
    with qtbot.waitSignal(tab.review_flow.idle, timeout=120_000):
        qtbot.mouseClick(tab.check_button, Qt.MouseButton.LeftButton)
    assert _shown(tab.banner)  # a new failure is news again, even with the same words

    report = DataReport(root=str(data), layout=tab.index.layout, source="test", created="",
                        report_dir=str(tmp_path / "r"), checked=12, images=12)
    monkeypatch.setattr(check_module, "check_dataset", lambda *args, **kwargs: report)
    with qtbot.waitSignal(tab.review_flow.report_ready, timeout=120_000):
        qtbot.mouseClick(tab.check_button, Qt.MouseButton.LeftButton)
    assert tab.pages.currentWidget() is tab.review_page
    assert not _shown(tab.banner)  # the old failure does not sit above the results
    tab.review_flow.shutdown()


def test_a_failed_prediction_message_goes_when_the_next_prediction_works(
        qtbot, main_window, trained_run, learnable_dir, monkeypatch):
    import engine.use.predict as predict_module

    tab = main_window.prediction_tab
    with qtbot.waitSignal(tab.run_opened, timeout=180_000):
        tab.open_run(str(trained_run))
    real, failures = predict_module.expand_inputs, [OSError(28, "No space left on device")]

    def fails_once(inputs):
        if failures:
            raise failures.pop()
        return real(inputs)

    monkeypatch.setattr(predict_module, "expand_inputs", fails_once)
    image = str(sorted((learnable_dir / "red_circle").glob("*.jpg"))[0])
    with qtbot.waitSignal(tab.service.idle, timeout=60_000):
        tab.predict_paths([image])
    assert _shown(tab.message) and "Prediction failed" in tab.message.text()
    with qtbot.waitSignal(tab.service.idle, timeout=60_000):
        tab.predict_paths([image])
    assert tab.results.results_model.rowCount() == 1
    assert not _shown(tab.message)  # the failure is over: the result is the news
