"""The Prediction tab's "Export model…": the user opens a run, clicks the button, picks a
format, exports, and reads how the export compared with the run; a taken folder is a plain
message and nothing in it changes."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from gui.tabs.prediction_tab import PredictionTab

LOAD_TIMEOUT = 180_000  # first load imports torch/transformers/peft: slow on a busy 2-core box


@pytest.fixture(scope="module")
def runs_root(tmp_path_factory, tiny_clip_dir, learnable_split_dir) -> Path:
    from run_factory import make_run

    root = tmp_path_factory.mktemp("runs")
    make_run(root / "shapes-run", tiny_clip_dir, learnable_split_dir)
    return root


@pytest.fixture
def dialog(qtbot, runs_root, isolated_home):
    tab = PredictionTab(None)
    tab.set_runs_root(str(runs_root))
    qtbot.addWidget(tab)
    tab.show()
    assert not tab.export_model_button.isEnabled()  # nothing to export before a run is loaded
    with qtbot.waitSignal(tab.run_opened, timeout=LOAD_TIMEOUT):
        tab.open_run(str(runs_root / "shapes-run"))
    qtbot.mouseClick(tab.export_model_button, Qt.MouseButton.LeftButton)
    dialog = tab.export_dialog
    assert dialog.isVisible()
    yield dialog
    dialog.close()


def _choose(dialog, fmt: str) -> None:
    dialog.format.setCurrentIndex(dialog.format.findData(fmt))


def test_export_shows_the_check_figures(qtbot, dialog, tmp_path):
    _choose(dialog, "onnx-int8")
    assert dialog.folder.text().endswith("shapes-run-onnx-int8")  # follows the format
    assert "int8" in dialog.format.currentText() and "—" in dialog.format.currentText()
    target = tmp_path / "for-the-phone"
    dialog.folder.clear()
    qtbot.keyClicks(dialog.folder, str(target))
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    assert not dialog.export_button.isEnabled() and dialog.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=LOAD_TIMEOUT)
    text = dialog.status.text()
    assert "top-1 agreement: 100.0% on 24 images" in text, text
    assert str(target) in text and dialog.export_button.isEnabled()
    record = json.loads((target / "lora_studio_export.json").read_text("utf-8"))
    assert record["format"] == "onnx-int8" and record["check"]["passed"] is True
    assert (target / "model-int8.onnx").is_file()
    dialog.grab().save(str(tmp_path / "export-dialog.png"))


def test_a_taken_folder_is_a_plain_message(qtbot, dialog, tmp_path):
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "mine.txt").write_text("keep")
    _choose(dialog, "onnx")
    dialog.folder.setText(str(taken))
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.export_button.isEnabled(), timeout=LOAD_TIMEOUT)
    assert "Nothing was exported" in dialog.status.text()
    assert "not an empty folder" in dialog.status.text()
    assert [p.name for p in taken.iterdir()] == ["mine.txt"] and dialog.result is None
