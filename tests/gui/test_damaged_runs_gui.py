"""Damaged run folders in the GUI: the run lists show them as damaged with the file and what
to do, choosing or opening one says so in the prediction tab, and nothing crashes."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PySide6.QtCore import Qt
from safetensors.torch import load_file, save_file

from gui.tabs.prediction_tab import PredictionTab
from gui.widgets.run_history import PROBLEM_ROLE, RunHistory

LOAD_TIMEOUT = 180_000  # the first load imports torch/transformers/peft


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.fixture(scope="module")
def runs_root(tmp_path_factory, tiny_clip_dir, learnable_dir) -> Path:
    """good/, head-cut/ (head.safetensors truncated), json-cut/ (run.json truncated) and
    misfit/ (an adapter whose tensors have other shapes: whole files, wrong contents)."""
    from run_factory import copy_run, make_run

    root = tmp_path_factory.mktemp("runs")
    good = make_run(root / "good", tiny_clip_dir, learnable_dir)
    _truncate(copy_run(good, root / "head-cut") / "head.safetensors")
    _truncate(copy_run(good, root / "json-cut") / "run.json")
    adapter = copy_run(good, root / "misfit") / "adapter" / "adapter_model.safetensors"
    save_file({k: torch.zeros(v.shape[0] * 2, *v.shape[1:]) if "lora_A" in k else v
               for k, v in load_file(str(adapter)).items()}, str(adapter))
    return root


@pytest.fixture
def pred_tab(qtbot, runs_root):
    tab = PredictionTab(None)
    tab.set_runs_root(str(runs_root))
    qtbot.addWidget(tab)
    tab.show()
    yield tab
    tab.shutdown()


def _combo_row(tab: PredictionTab, name: str) -> int:
    return next(i for i in range(tab.run_combo.count())
                if str(tab.run_combo.itemData(i) or "").endswith(f"/{name}"))


def test_the_run_chooser_lists_damaged_runs_with_their_problem(pred_tab, runs_root):
    row = _combo_row(pred_tab, "head-cut")
    tip = pred_tab.run_combo.itemData(row, Qt.ItemDataRole.ToolTipRole)
    assert str(runs_root / "head-cut" / "head.safetensors") in tip and "damaged" in tip
    json_row = _combo_row(pred_tab, "json-cut")
    assert str(runs_root / "json-cut" / "run.json") in \
        pred_tab.run_combo.itemData(json_row, Qt.ItemDataRole.ToolTipRole)
    good = _combo_row(pred_tab, "good")
    assert not pred_tab.run_combo.itemData(good, Qt.ItemDataRole.ToolTipRole)


@pytest.mark.parametrize("name, file", [("head-cut", "head.safetensors"),
                                        ("json-cut", "run.json")])
def test_choosing_a_damaged_run_says_which_file_and_what_to_do(qtbot, pred_tab, runs_root,
                                                              name, file):
    states = []
    pred_tab.state_changed.connect(states.append)
    row = _combo_row(pred_tab, name)
    pred_tab.run_combo.setCurrentIndex(row)
    pred_tab.run_combo.activated.emit(row)  # what a click on the entry sends
    text = pred_tab.model_label.text()
    assert str(runs_root / name / file) in text and "damaged" in text
    assert "Choose another run" in text
    assert pred_tab.run_dir == "" and states[-1] == "attention"


def test_opening_a_run_whose_adapter_does_not_fit_fails_with_the_file_named(qtbot, pred_tab,
                                                                            runs_root):
    # the headers are whole, so only loading finds it: in the worker, not the GUI thread
    pred_tab.open_run(str(runs_root / "misfit"))
    path = str(runs_root / "misfit" / "adapter" / "adapter_model.safetensors")
    qtbot.waitUntil(lambda: path in pred_tab.model_label.text(), timeout=LOAD_TIMEOUT)
    assert "does not fit" in pred_tab.model_label.text()
    assert pred_tab.run_dir == ""
    # and a good run still opens afterwards
    with qtbot.waitSignal(pred_tab.run_opened, timeout=LOAD_TIMEOUT):
        pred_tab.open_run(str(runs_root / "good"))
    assert pred_tab.run_dir == str(runs_root / "good")


def test_run_history_marks_damaged_runs_and_explains_them(qtbot, runs_root):
    history = RunHistory()
    qtbot.addWidget(history)
    history.show()
    history.refresh(str(runs_root))
    items = {Path(history.list.item(i).data(Qt.ItemDataRole.UserRole)).name: history.list.item(i)
             for i in range(history.list.count())}
    assert set(items) == {"good", "head-cut", "json-cut", "misfit"}
    cut = items["head-cut"]
    assert "damaged" in cut.text()
    assert not cut.flags() & Qt.ItemFlag.ItemIsUserCheckable  # no curves to compare
    assert str(runs_root / "head-cut" / "head.safetensors") in cut.data(PROBLEM_ROLE)
    assert items["good"].flags() & Qt.ItemFlag.ItemIsUserCheckable
    assert not history.set_checked(cut.data(Qt.ItemDataRole.UserRole))
    opened = []
    history.open_requested.connect(opened.append)
    history.list.setCurrentItem(items["json-cut"])
    assert history.problem.isVisible()
    assert str(runs_root / "json-cut" / "run.json") in history.problem.text()
    history.list.itemDoubleClicked.emit(items["json-cut"])
    assert opened == []  # nothing to open: the explanation stays
    history.list.setCurrentItem(items["good"])
    assert not history.problem.isVisible()
    history.list.itemDoubleClicked.emit(items["good"])
    assert opened == [str(runs_root / "good")]
