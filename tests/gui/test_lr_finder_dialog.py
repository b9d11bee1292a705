"""The Config tab's learning-rate finder: button -> progress -> plot with the suggestion ->
"Use" sets the field; Cancel ends it; missing or tiny datasets get a plain message."""
from __future__ import annotations

import math

import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt

from engine.data.index import scan_dataset
from engine.demo.dataset import make_demo_dataset


@pytest.fixture
def config_tab(qtbot, main_window, learnable_dir, tiny_clip_dir, tmp_path):
    """The window's Config tab on the learnable dataset and the tiny CLIP, set to train fast."""
    window = main_window
    with qtbot.waitSignal(window.dataset_tab.dataset_ready, timeout=60_000):
        window.dataset_tab.open_folder(str(learnable_dir))
    tab = window.config_tab
    tab.model_picker.combo.setEditText(str(tiny_clip_dir))
    for name, value in dict(precision="fp32", batch_size=16, lora_dropout=0.0, num_threads=1,
                            output_dir=str(tmp_path / "runs"),
                            cache_dir=str(tmp_path / "cache")).items():
        tab.set_field(name, value)
    window.tabs.setCurrentWidget(tab)
    return tab


def _run_finder(qtbot, tab, field="lr"):
    tab.finder_buttons[field].click()
    dialog = tab.lr_finder
    assert dialog is not None and dialog.isVisible()
    with qtbot.waitSignal(dialog.work_ended, timeout=120_000):
        pass
    return dialog


def test_find_plot_and_use_sets_the_learning_rate(qtbot, config_tab, tmp_path):
    tab = config_tab
    before = tab.config().lr
    dialog = _run_finder(qtbot, tab)
    result = dialog.result
    assert result is not None and result.field == "lr" and result.suggested_lr is not None
    assert dialog.plot.isVisible()
    curves = [i for i in dialog.plot.getPlotItem().listDataItems()]
    assert len(curves[0].xData) == len(result.lrs) > 10
    lines = [i for i in dialog.plot.getPlotItem().items if isinstance(i, pg.InfiniteLine)]
    assert len(lines) == 1 and math.isclose(lines[0].value(), math.log10(result.suggested_lr))
    shown = f"{result.suggested_lr:.1e}"
    assert shown in dialog.use_button.text() and shown in dialog.status.text()
    assert not list((tmp_path / "runs").glob("*/run.json"))  # no run folder, only the report
    assert [p.suffix for p in sorted((tmp_path / "runs").glob("lr-finder-*"))] == [".json", ".png"]
    qtbot.mouseClick(dialog.use_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    assert tab.config().lr == pytest.approx(float(shown)) != before
    assert shown in tab.message.text()
    assert tab.editors["lr"].widget.value() == pytest.approx(float(shown))


def test_linear_probe_finds_and_sets_the_head_learning_rate(qtbot, config_tab):
    tab = config_tab
    tab.set_field("method", "linear-probe")
    dialog = _run_finder(qtbot, tab, "lr")
    assert dialog.result.field == "head_lr" and dialog.result.suggested_lr is not None
    lr_before = tab.config().lr
    dialog.use_button.click()
    assert tab.config().head_lr == pytest.approx(float(f"{dialog.result.suggested_lr:.1e}"))
    assert tab.config().lr == lr_before
    assert tab.advanced_toggle.isChecked()  # the changed field is in sight


def test_cancel_closes_the_finder_without_a_suggestion(qtbot, config_tab):
    tab = config_tab
    before = tab.config()
    tab.finder_buttons["lr"].click()
    dialog = tab.lr_finder
    with qtbot.waitSignal(dialog.work_ended, timeout=120_000):
        dialog.cancel_button.click()
    qtbot.waitUntil(lambda: not dialog.running(), timeout=60_000)
    assert not dialog.isVisible() and dialog.result is None
    assert tab.config() == before  # nothing was set


def test_without_a_dataset_or_with_too_few_images_it_says_why(qtbot, main_window, tmp_path):
    tab = main_window.config_tab
    tab.finder_buttons["lr"].click()
    assert tab.lr_finder is None
    assert "Choose a dataset" in tab.message.text()
    tiny = make_demo_dataset(tmp_path / "tiny", num_classes=2, per_class=3)
    tab.set_dataset(scan_dataset(str(tiny)))
    tab.finder_buttons["head_lr"].click()
    assert tab.lr_finder is None
    assert "training images" in tab.message.text() and "at least" in tab.message.text()
