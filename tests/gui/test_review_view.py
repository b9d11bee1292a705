"""The Dataset tab's review view, driven from the keyboard: the data check runs in the
background, decisions are keys, saving writes a reviewed CSV (the folder is untouched) and
"Apply to folder" moves files only after the listed moves were confirmed."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from gui.tabs.dataset_tab import DatasetTab
from review_data import colour_folder, fingerprint, flip_labels


@pytest.fixture
def checked(qtbot, tmp_path, tiny_clip_dir):
    """The tab showing the review of a folder with flipped labels."""
    data = colour_folder(tmp_path / "colours")
    flipped = flip_labels(data)
    tab = DatasetTab(None)
    tab.resize(1200, 800)
    qtbot.addWidget(tab)
    tab.show()
    tab.model_for_checks = lambda: str(tiny_clip_dir)
    with qtbot.waitSignal(tab.dataset_ready, timeout=30_000):
        tab.open_folder(str(data))
    with qtbot.waitSignal(tab.review_flow.report_ready, timeout=120_000):
        qtbot.mouseClick(tab.check_button, Qt.MouseButton.LeftButton)
    yield tab, data, flipped
    tab.shutdown()


def _key(qtbot, grid, key) -> None:
    qtbot.keyClick(grid, key)


def test_the_review_is_decided_from_the_keyboard(qtbot, checked):
    tab, data, flipped = checked
    page = tab.review_page
    assert tab.pages.currentIndex() == 2 and tab.check_button.isEnabled()
    grid, model = page.label_grid, page.labels
    assert model.rowCount() >= len(flipped) - 1 and model.subject(0) in flipped
    assert "likely label mistakes" in page.title.text()
    assert not page.save_button.isEnabled()  # nothing decided yet
    first, second, third = (model.subject(i) for i in range(3))
    _key(qtbot, grid, Qt.Key.Key_R)  # relabel as suggested, moves on
    assert grid.currentIndex().row() == 1
    _key(qtbot, grid, Qt.Key.Key_K)
    _key(qtbot, grid, Qt.Key.Key_X)
    assert model.decisions[first].action == "relabel" and model.decisions[first].label == "red"
    assert model.decisions[second].action == "keep"
    assert model.decisions[third].action == "exclude"
    grid.setCurrentIndex(model.index(2))
    _key(qtbot, grid, Qt.Key.Key_U)  # undo the exclusion
    assert third not in model.decisions
    grid.setCurrentIndex(model.index(2))
    _key(qtbot, grid, Qt.Key.Key_3)  # classes are numbered in the order the tab lists them
    folders = [c.folder for c in tab.index.classes]
    assert model.decisions[third].label == folders[2]
    assert "relabel as" in model.data(model.index(0))
    assert page.save_button.isEnabled() and "Decided: 3" in page.title.text()


def test_saving_writes_a_reviewed_csv_and_leaves_the_folder_alone(qtbot, checked, tmp_path):
    tab, data, flipped = checked
    before = fingerprint(data)
    grid = tab.review_page.label_grid
    relabelled = tab.review_page.labels.subject(0)
    _key(qtbot, grid, Qt.Key.Key_R)
    with qtbot.waitSignal(tab.dataset_ready, timeout=30_000) as blocker:
        qtbot.mouseClick(tab.review_page.save_button, Qt.MouseButton.LeftButton)
    reviewed = blocker.args[0]
    assert reviewed.layout == "csv" and Path(reviewed.root).is_relative_to(tmp_path / "home")
    label = {s.path: reviewed.classes[s.label].folder for s in reviewed.samples}
    assert label[str(Path(relabelled).resolve())] == "red"
    assert fingerprint(data) == before
    assert "your folder" in tab.banner.text() and "unchanged" in tab.banner.text()


def test_apply_to_folder_moves_files_only_after_confirmation(qtbot, checked, monkeypatch):
    tab, data, flipped = checked
    flow, grid = tab.review_flow, tab.review_page.label_grid
    relabelled = tab.review_page.labels.subject(0)
    _key(qtbot, grid, Qt.Key.Key_R)
    asked = []
    monkeypatch.setattr(flow, "confirm_moves", lambda moves: asked.append(moves) or False)
    before = fingerprint(data)
    qtbot.mouseClick(tab.review_page.apply_button, Qt.MouseButton.LeftButton)
    assert len(asked) == 1 and [m.source for m in asked[0]] == [relabelled]
    assert fingerprint(data) == before  # declined: nothing moved
    monkeypatch.setattr(flow, "confirm_moves", lambda moves: True)
    with qtbot.waitSignal(tab.dataset_ready, timeout=30_000):  # the folder is read again
        qtbot.mouseClick(tab.review_page.apply_button, Qt.MouseButton.LeftButton)
    assert not Path(relabelled).exists() and (data / "red" / Path(relabelled).name).is_file()
    assert "Moved 1 files" in tab.banner.text()


def test_a_duplicate_pair_decision_is_about_its_second_image(qtbot, tmp_path):
    from engine.data.index import scan_dataset
    from engine.review.check import DataReport
    from gui.widgets.review_page import ReviewPage

    data = colour_folder(tmp_path / "colours", per_class=3)
    index = scan_dataset(data)
    first, second = sorted(s.path for s in index.samples)[:2]
    pair = {"first": first, "second": second, "similarity": 0.99, "pixel_similarity": 0.97,
            "first_split": "train", "second_split": "test", "first_label": "blue",
            "second_label": "blue", "across_splits": True}
    report = DataReport(root=str(data), layout=index.layout, source="test", created="",
                        report_dir=str(tmp_path / "r"), checked=12, images=12, issues=[],
                        duplicates=[pair])
    page = ReviewPage()
    qtbot.addWidget(page)
    page.show()
    page.show_report(report, index)
    assert page.tabs.currentWidget() is page.duplicate_grid  # no label issues: duplicates first
    assert "1 near-duplicate pairs (1 across splits)" in page.title.text()
    assert "train ↔ test" in page.duplicates.data(page.duplicates.index(0))
    qtbot.keyClick(page.duplicate_grid, Qt.Key.Key_R)  # relabel means nothing for a pair
    assert page.decisions() == {}
    qtbot.keyClick(page.duplicate_grid, Qt.Key.Key_X)
    assert page.decisions()[second].action == "exclude" and first not in page.decisions()
    page.shutdown()


@pytest.mark.parametrize("failure", ["disk", "decisions"])
def test_a_failed_save_is_shown_and_writes_nothing(qtbot, tmp_path, monkeypatch, failure):
    import engine.review.decisions as decisions_module
    from engine.errors import UserError
    from engine.review.check import DataReport

    data = colour_folder(tmp_path / "colours", per_class=3)
    tab = DatasetTab(None)
    qtbot.addWidget(tab)
    tab.show()
    with qtbot.waitSignal(tab.dataset_ready, timeout=30_000):
        tab.open_folder(str(data))
    first = tab.index.samples[0].path
    issue = {"path": first, "split": "train", "given": "blue", "suggested": "red", "score": 0.1,
             "given_probability": 0.1, "suggested_probability": 0.9, "flagged": True}
    report = DataReport(root=str(data), layout=tab.index.layout, source="test", created="",
                        report_dir=str(tmp_path / "r"), checked=12, images=12, issues=[issue],
                        duplicates=[])
    tab.review_flow.index = tab.index
    tab._on_report(report)
    qtbot.keyClick(tab.review_page.label_grid, Qt.Key.Key_X)
    home = tmp_path / "home"
    if failure == "disk":  # the data folder cannot hold the reviewed/ folder
        home.mkdir(parents=True, exist_ok=True)
        (home / "reviewed").write_text("a file where the folder should be")
    else:
        def broken(index, decisions):
            raise UserError("Cannot relabel this image: the dataset has no such class.")
        monkeypatch.setattr(decisions_module, "reviewed_rows", broken)
    before = fingerprint(home) if home.exists() else {}
    opened = []
    tab.review_flow.dataset_saved.connect(opened.append)
    qtbot.mouseClick(tab.review_page.save_button, Qt.MouseButton.LeftButton)
    assert tab.banner.isVisible() and "not saved" in tab.banner.text()
    assert ("no such class" in tab.banner.text()) == (failure == "decisions")
    assert opened == [] and tab.pages.currentIndex() == 2  # still reviewing, decisions kept
    assert tab.review_page.decisions()[first].action == "exclude"
    assert (fingerprint(home) if home.exists() else {}) == before  # nothing half-written
    tab.shutdown()
