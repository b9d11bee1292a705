"""The review view's keys do what the page says, in the real window: K keep · R relabel as
suggested · 1–9 relabel as class N · X exclude · U (or Backspace) undo the last decision,
wherever it was, with the counts following every key. The check itself is replaced by a
fixed report (tests/gui/test_review_view.py runs the real one); everything after it is the
window's own."""
from __future__ import annotations

import os

import pytest
from PySide6.QtCore import Qt

from review_data import colour_folder

ISSUES = 4  # label mistakes in the report; plus one near-duplicate pair


@pytest.fixture
def review(qtbot, main_window, tmp_path, monkeypatch):
    """The main window's Dataset tab showing the review of a 12-image colour folder."""
    import engine.review.check as check_module
    from engine.review.check import DataReport

    w = main_window
    w.resize(1280, 820)
    data = colour_folder(tmp_path / "colours", per_class=3)
    with qtbot.waitSignal(w.dataset_tab.dataset_ready, timeout=30_000):
        w.dataset_tab.open_folder(str(data))
    index = w.dataset_tab.index
    paths = sorted(s.path for s in index.samples)
    split = {s.path: s.split for s in index.samples}
    issues = [{"path": p, "split": split[p], "given": "blue", "suggested": "red", "score": 0.1,
               "given_probability": 0.1, "suggested_probability": 0.9, "flagged": True}
              for p in paths[:ISSUES]]
    pair = {"first": paths[5], "second": paths[6], "similarity": 0.99, "pixel_similarity": 0.97,
            "first_split": split[paths[5]], "second_split": split[paths[6]],
            "first_label": "blue", "second_label": "blue",
            "across_splits": split[paths[5]] != split[paths[6]]}
    report = DataReport(root=str(data), layout=index.layout, source="test", created="",
                        report_dir=str(tmp_path / "report"), checked=12, images=12,
                        issues=issues, duplicates=[pair])
    monkeypatch.setattr(check_module, "check_dataset", lambda *args, **kwargs: report)
    w.show_tab(w.dataset_tab)
    with qtbot.waitSignal(w.dataset_tab.review_flow.report_ready, timeout=120_000):
        qtbot.mouseClick(w.dataset_tab.check_button, Qt.MouseButton.LeftButton)
    yield w.dataset_tab, index, pair
    w.dataset_tab.review_flow.shutdown()


def _decided(page) -> str:
    return page.title.text().split("Decided: ")[1].rstrip(".")


def test_every_review_key_decides_and_u_takes_back_the_last_decision(qtbot, review):
    tab, index, pair = review
    page = tab.review_page
    grid, model = page.label_grid, page.labels
    keys = page.keys.text()
    for shown in ("K keep", "R relabel", "1–9", "X exclude", "U undo"):
        assert shown in keys  # the page says which keys there are
    assert page.tabs.currentWidget() is grid and grid.currentIndex().row() == 0
    assert _decided(page) == f"0 of {ISSUES + 1}" and not page.save_button.isEnabled()
    subject = [model.subject(i) for i in range(ISSUES)]
    folders = [c.folder for c in index.classes]

    qtbot.keyClick(grid, Qt.Key.Key_K)
    assert model.decisions[subject[0]].action == "keep" and grid.currentIndex().row() == 1
    qtbot.keyClick(grid, Qt.Key.Key_R)  # relabel as the suggested class
    assert (model.decisions[subject[1]].action, model.decisions[subject[1]].label) == \
        ("relabel", "red")
    qtbot.keyClick(grid, Qt.Key.Key_2)  # classes are numbered as the page lists them
    assert model.decisions[subject[2]].label == folders[1]
    assert f"2 {index.classes[1].display_name}" in page.keys.text()
    qtbot.keyClick(grid, Qt.Key.Key_X)
    assert model.decisions[subject[3]].action == "exclude"
    assert _decided(page) == f"4 of {ISSUES + 1}" and page.save_button.isEnabled()
    qtbot.keyClick(grid, Qt.Key.Key_9)  # there is no class 9: not a decision
    assert len(model.decisions) == 4

    # U takes back the LAST decision (the exclusion), not the image that happens to be
    # selected, and selects that image again so it can be decided anew
    grid.setCurrentIndex(model.index(0))
    qtbot.keyClick(grid, Qt.Key.Key_U)
    assert subject[3] not in model.decisions and model.decisions[subject[0]].action == "keep"
    assert grid.currentIndex().row() == 3 and "undecided" in model.data(model.index(3))
    assert _decided(page) == f"3 of {ISSUES + 1}"

    # a decision changed twice is taken back one step at a time
    grid.setCurrentIndex(model.index(0))
    qtbot.keyClick(grid, Qt.Key.Key_X)
    assert model.decisions[subject[0]].action == "exclude"
    qtbot.keyClick(grid, Qt.Key.Key_U)
    assert model.decisions[subject[0]].action == "keep"
    assert _decided(page) == f"3 of {ISSUES + 1}"

    # Backspace is U too
    qtbot.keyClick(grid, Qt.Key.Key_Backspace)
    qtbot.keyClick(grid, Qt.Key.Key_Backspace)
    assert subject[1] not in model.decisions and subject[2] not in model.decisions
    assert _decided(page) == f"1 of {ISSUES + 1}"

    # a decision in the other grid is the last one: U in this grid takes it back there
    duplicates = page.duplicate_grid
    page.tabs.setCurrentWidget(duplicates)
    duplicates.setCurrentIndex(page.duplicates.index(0))
    qtbot.keyClick(duplicates, Qt.Key.Key_X)
    assert page.decisions()[pair["second"]].action == "exclude"
    assert _decided(page) == f"2 of {ISSUES + 1}"
    page.tabs.setCurrentWidget(grid)
    qtbot.keyClick(grid, Qt.Key.Key_U)
    assert pair["second"] not in page.decisions() and page.tabs.currentWidget() is duplicates
    qtbot.keyClick(duplicates, Qt.Key.Key_U)
    assert page.decisions() == {} and _decided(page) == f"0 of {ISSUES + 1}"
    assert not page.save_button.isEnabled() and page.tabs.currentWidget() is grid
    qtbot.keyClick(grid, Qt.Key.Key_U)  # nothing left to take back: nothing changes
    assert page.decisions() == {} and _decided(page) == f"0 of {ISSUES + 1}"


def test_a_near_duplicate_card_names_both_images(qtbot, review):
    tab, _index, pair = review
    duplicates = tab.review_page.duplicates
    caption = duplicates.data(duplicates.index(0))
    first, second = os.path.basename(pair["first"]), os.path.basename(pair["second"])
    assert f"{first} ↔ {second}" in caption  # in the order of the two pictures
    tooltip = duplicates.data(duplicates.index(0), Qt.ItemDataRole.ToolTipRole)
    assert tooltip.splitlines() == [pair["first"], pair["second"]]
