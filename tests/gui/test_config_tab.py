"""Config tab: one suitable editor per TrainConfig field (from field_info metadata),
presets, inline validation, Advanced disclosure, save/load, the command-line preview,
and the model check off the GUI thread (with the demo model offered on failure)."""
from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pytest
from PySide6.QtWidgets import QApplication, QCheckBox, QComboBox, QDoubleSpinBox, QSpinBox

from engine.config import PRESETS, TrainConfig, apply_preset, field_info, to_command_line
from gui.tabs.config_tab import ConfigTab
from gui.widgets.model_picker import ModelPicker


@pytest.fixture
def tab(qtbot, settings):
    t = ConfigTab(settings)
    qtbot.addWidget(t)
    t.resize(1280, 800)
    t.show()
    yield t
    t.shutdown()


def _index(root, val=0.2, test=0.1, seed=7):
    return SimpleNamespace(root=str(root), val_fraction=val, test_fraction=test, seed=seed,
                           errors=[], class_names=["a", "b"])


def test_every_field_gets_a_suitable_widget_with_its_help_as_tooltip(tab):
    for f in field_info():
        editor = tab.editors[f.name]
        assert editor.widget.toolTip() == f.metadata["help"], f.name
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        meta = f.metadata
        if f.name == "model":
            assert isinstance(editor.widget, ModelPicker)
        elif isinstance(default, bool):
            assert isinstance(editor.widget, QCheckBox)
        elif isinstance(default, list) and meta.get("choices"):
            boxes = editor.widget.findChildren(QCheckBox)
            assert [b.text() for b in boxes] == list(meta["choices"])
        elif meta.get("choices"):
            combo = editor.widget
            assert isinstance(combo, QComboBox)
            assert [combo.itemData(i) for i in range(combo.count())] == list(meta["choices"])
        elif isinstance(default, int):
            spin = editor.widget
            assert isinstance(spin, QSpinBox) and spin.minimum() == meta.get("min", 0)
            if "max" in meta:
                assert spin.maximum() == meta["max"]
        elif isinstance(default, float):
            spin = editor.widget
            assert isinstance(spin, QDoubleSpinBox) and spin.minimum() == meta.get("min", 0.0)
            if "max" in meta:
                assert spin.maximum() == meta["max"]


def test_values_round_trip_and_small_learning_rates_keep_their_precision(tab):
    wanted = TrainConfig(data_dir="/data", model="/models/clip", method="linear-probe", lr=3e-5,
                         head_lr=2.5e-4, lora_r=16, target_modules=["k_proj", "fc1"], augment=False,
                         prompt_templates=["a {}", "the {} here"], epochs=7, device="cpu",
                         run_name="mine", val_fraction=0.2)
    tab._set_config(wanted)
    assert tab.config() == wanted
    assert tab.editors["lr"].widget.text() == "3e-05"  # not rounded to 0.00


def test_advanced_fields_stay_behind_the_disclosure(tab):
    advanced = [f.name for f in field_info() if f.metadata.get("advanced")]
    assert advanced and not any(tab.errors[name].isVisible() for name in advanced)
    assert not any(tab.editors[name].widget.isVisible() for name in advanced)
    assert tab.editors["epochs"].widget.isVisible()
    tab.advanced_toggle.click()
    assert all(tab.editors[name].widget.isVisible() for name in advanced)
    tab.advanced_toggle.click()
    assert not tab.editors["grad_accum"].widget.isVisible()


def test_inline_validation_messages_and_state(qtbot, tab, tmp_path):
    states = []
    tab.state_changed.connect(states.append)
    tab.set_dataset(_index(tmp_path))
    assert tab.state() == "done" and not tab.problems()
    for box in tab.editors["target_modules"].boxes.values():
        box.setChecked(False)
    label = tab.errors["target_modules"]
    assert label.isVisible() and label.text()  # the engine's own validate() message
    assert label.text() == TrainConfig(target_modules=[]).validate()["target_modules"]
    assert states[-1] == "attention" and "attention" in tab.status_text()
    tab.editors["target_modules"].boxes["q_proj"].setChecked(True)
    assert not label.isVisible() and states[-1] == "done"
    # A problem in an Advanced field opens the disclosure instead of hiding the message.
    tab.editors["prompt_templates"].set_value(["no placeholder"])
    assert tab.advanced_toggle.isChecked() and tab.errors["prompt_templates"].isVisible()


def test_presets_fill_the_form_and_show_which_is_active(tab):
    tab.preset_buttons["Tutorial recipe"].click()
    config = tab.config()
    assert config == apply_preset(config, "Tutorial recipe")
    assert config.head_init == "random" and config.epochs == 10
    assert tab.preset_buttons["Tutorial recipe"].isChecked()
    assert not tab.preset_buttons["Quick (CPU)"].isChecked()
    tab.editors["epochs"].widget.setValue(4)  # a manual change leaves the preset
    assert not any(b.isChecked() for b in tab.preset_buttons.values())
    assert set(tab.preset_buttons) == set(PRESETS)


def test_command_line_preview_follows_edits_and_copies(qtbot, tab, tmp_path):
    tab.set_dataset(_index(tmp_path))
    tab.editors["epochs"].widget.setValue(6)
    assert tab.command_line.text() == to_command_line(tab.config())
    assert "--epochs 6" in tab.command_line.text() and f"--data-dir {tmp_path}" in tab.command_line.text()
    tab.copy_button.click()
    assert QApplication.clipboard().text() == tab.command_line.text()


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_save_and_load_config_files(qtbot, tab, settings, tmp_path, suffix):
    tab.editors["epochs"].widget.setValue(9)
    tab.editors["lr"].widget.setValue(1e-4)
    path = tmp_path / f"config{suffix}"
    tab.save_config(str(path))
    fresh = ConfigTab(settings)
    qtbot.addWidget(fresh)
    fresh.load_config(str(path))
    assert fresh.config() == tab.config()
    assert settings.recent("configs")[0] == str(tmp_path)


def test_a_bad_config_file_says_so_and_changes_nothing(tab, tmp_path):
    before = tab.config()
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2, 3]", encoding="utf-8")
    tab.load_config(str(bad))
    assert "Could not load" in tab.message.text() and tab.config() == before


def test_the_dataset_from_step_1_sets_and_locks_the_split(qtbot, tab, tmp_path):
    assert tab.banner.isVisible()  # explains that step 1 comes first
    assert "data_dir" in tab.problems()
    tab.set_dataset(_index(tmp_path, val=0.2, test=0.1, seed=7))
    config = tab.config()
    assert (config.data_dir, config.val_fraction, config.test_fraction, config.split_seed) == \
        (str(tmp_path), 0.2, 0.1, 7)
    assert not tab.editors["val_fraction"].widget.isEnabled()
    assert "step 1" in tab.editors["val_fraction"].widget.toolTip()
    assert not tab.banner.isVisible()
    tab.set_dataset(None)
    assert tab.editors["val_fraction"].widget.isEnabled() and tab.banner.isVisible()


def test_checking_a_missing_model_explains_and_offers_the_demo_model(qtbot, tab, tmp_path):
    picker = tab.model_picker
    picker.set_value(str(tmp_path / "no-such-model"))
    with qtbot.waitSignal(picker.check_finished, timeout=60_000) as checked:
        picker.check_button.click()
        assert not picker.check_button.isEnabled()  # the load runs in the background
    ok, message = checked.args
    assert not ok and "no-such-model" in message
    assert picker.status.isVisible() and picker.status.text().startswith("✗")
    assert picker.demo_button.isVisible()
    with qtbot.waitSignal(picker.demo_model_ready, timeout=120_000) as ready:
        picker.demo_button.click()
    assert tab.config().model == ready.args[0]
    from engine.demo.model import is_demo_model

    assert is_demo_model(ready.args[0]) and not picker.demo_button.isVisible()


def test_checking_a_working_model(qtbot, tab, tiny_clip_dir):
    picker = tab.model_picker
    picker.set_value(str(tiny_clip_dir))
    with qtbot.waitSignal(picker.check_finished, timeout=60_000) as checked:
        picker.check()
    assert checked.args[0] is True and "32 px" in checked.args[1]
    assert "demo model" in checked.args[1]  # the tiny test model is marked as untrained


def test_model_picker_lists_each_family_with_its_recommended_checkpoints(qtbot):
    from PySide6.QtCore import Qt

    from engine.model.backbones import FAMILIES
    from gui.widgets.model_picker import ModelPicker

    picker = ModelPicker()
    qtbot.addWidget(picker)
    combo = picker.combo
    items = [(combo.itemText(i), combo.itemData(i), combo.model().item(i).isEnabled(),
              combo.itemData(i, Qt.ItemDataRole.ToolTipRole)) for i in range(combo.count())]
    for family in FAMILIES:
        heading = next(i for i, item in enumerate(items) if item[0] == family.title)
        assert not items[heading][2]  # a heading, not a model
        listed = [item[1] for item in items[heading + 1:heading + 1 + len(family.recommended)]]
        assert listed == [ref for ref, _ in family.recommended]
        assert all(item[3] for item in items[heading + 1:heading + 1 + len(family.recommended)])
    index = next(i for i, item in enumerate(items) if item[1] == "facebook/dinov2-small")
    combo.setCurrentIndex(index)
    assert picker.value() == "facebook/dinov2-small"
