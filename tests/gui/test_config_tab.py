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


# --- presets apply cleanly through the buttons ------------------------------------------------
PAIRS = [(a, b) for a in PRESETS for b in PRESETS]


def _users_tab(qtbot, settings, tmp_path) -> ConfigTab:
    """A fresh Config tab as a user leaves it: a dataset, their hardware and run name, their
    own base model typed in, and a training setting changed by hand."""
    t = ConfigTab(settings)
    qtbot.addWidget(t)
    t.set_dataset(_index(tmp_path))
    t.editors["device"].combo.setCurrentIndex(t.editors["device"].combo.findData("cpu"))
    t.editors["num_threads"].widget.setValue(1)
    t.editors["run_name"].widget.setText("mine")
    t.model_picker.combo.setEditText("/models/mine")
    t.editors["head_init"].combo.setCurrentIndex(t.editors["head_init"].combo.findData("prototype"))
    t.editors["color_jitter"].widget.setValue(0.3)
    return t


def test_preset_buttons_apply_cleanly_in_any_order(qtbot, settings, tmp_path):
    alone = {}
    for name in PRESETS:
        t = _users_tab(qtbot, settings, tmp_path)
        t.preset_buttons[name].click()
        alone[name] = t.config()
        assert t.active_preset() == name and t.preset_buttons[name].isChecked()
        for key in ("data_dir", "device", "num_threads", "run_name", "output_dir"):
            assert getattr(alone[name], key) == getattr(t.config(), key)
        assert (alone[name].device, alone[name].run_name) == ("cpu", "mine")
        assert alone[name].model == PRESETS[name].get("model", "/models/mine")
    for first, then in PAIRS:
        t = _users_tab(qtbot, settings, tmp_path)
        t.preset_buttons[first].click()
        t.preset_buttons[then].click()
        assert t.config() == alone[then], (first, then)
        assert [n for n, b in t.preset_buttons.items() if b.isChecked()] == [then]


def test_the_observed_preset_pile_ups_are_gone(tab, tmp_path):
    tab.set_dataset(_index(tmp_path))
    tab.preset_buttons["Tutorial recipe"].click()
    tab.preset_buttons["Best accuracy (GPU)"].click()
    assert tab.editors["head_init"].combo.currentData() == "zero-shot"  # not "Random"
    tab.preset_buttons["Quick (CPU)"].click()
    config = tab.config()
    assert config.model == "openai/clip-vit-base-patch32" and config.lora_r == 8
    assert tab.editors["target_modules"].value() == ["q_proj", "v_proj"]
    line = tab.command_line.text()
    assert "--no-augment" in line and "--color-jitter" not in line and "siglip" not in line


# --- config files: JSON or YAML, a wrong value names its field ------------------------------------
@pytest.mark.parametrize("typed, chosen, written", [
    ("mine", "YAML (*.yaml)", "mine.yaml"), ("mine", "JSON (*.json)", "mine.json"),
    ("mine", "", "mine.json"), ("mine.yml", "JSON (*.json)", "mine.yml"),
    ("mine.json", "YAML (*.yaml)", "mine.json"),
])
def test_save_config_writes_the_format_chosen(tab, tmp_path, monkeypatch, typed, chosen, written):
    import json

    import yaml
    from PySide6.QtWidgets import QFileDialog

    offered = []
    folder = tmp_path / "configs"
    folder.mkdir()

    def answer(parent, caption, start, filters):
        offered.append(filters)
        return str(folder / typed), chosen

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(answer))
    tab.editors["epochs"].widget.setValue(9)
    tab.save_button.click()
    assert offered == ["JSON (*.json);;YAML (*.yaml)"]  # the dialog offers both
    assert [p.name for p in folder.iterdir()] == [written]
    text = (folder / written).read_text()
    if written.endswith(".json"):
        assert json.loads(text)["epochs"] == 9
    else:
        assert "epochs: 9" in text and yaml.safe_load(text)["epochs"] == 9
    assert TrainConfig.load(folder / written) == tab.config()
    assert "Saved" in tab.message.text()


@pytest.mark.parametrize("name, text, words", [
    ("bad.json", '{"epochs": "abc", "lr": 0.001}', "epochs: 'abc' is not a whole number"),
    ("bad.yaml", "lr: fast\n", "lr: 'fast' is not a number"),
    ("bad.yml", "augment: maybe\n", "augment: 'maybe' is not true or false"),
])
def test_a_wrong_value_in_a_config_file_is_named_and_changes_nothing(tab, tmp_path, monkeypatch,
                                                                     name, text, words):
    from PySide6.QtWidgets import QFileDialog

    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (str(path), "")))
    before = tab.config()
    tab.load_button.click()
    assert words in tab.message.text() and str(path) in tab.message.text()
    assert "invalid literal" not in tab.message.text()
    assert tab.config() == before


# --- the base model is remembered across starts -------------------------------------------------
def _second_start(qtbot, settings) -> ConfigTab:
    """The Config tab of a new start: a new Settings object over the same settings file."""
    from PySide6.QtCore import QSettings

    from gui.settings import Settings

    again = ConfigTab(Settings(QSettings(settings.qsettings.fileName(),
                                         QSettings.Format.IniFormat)))
    qtbot.addWidget(again)
    return again


def test_the_offline_demo_model_is_remembered_on_the_next_start(qtbot, tab, settings):
    from engine.demo.model import is_demo_model

    with qtbot.waitSignal(tab.model_picker.demo_model_ready, timeout=120_000) as ready:
        tab.use_demo_model()
    assert is_demo_model(ready.args[0])
    tab.preset_buttons["Tutorial recipe"].click()
    again = _second_start(qtbot, settings)
    assert again.config().model == ready.args[0]
    assert again.model_picker.combo.currentText() == ready.args[0]
    again.preset_buttons["Best accuracy (GPU)"].click()  # a preset's model is not the user's
    again.preset_buttons["Quick (CPU)"].click()
    assert again.config().model == ready.args[0]
    assert _second_start(qtbot, settings).config().model == ready.args[0]


def test_a_typed_model_is_remembered_and_a_vanished_folder_is_not(qtbot, tab, settings,
                                                                    tmp_path):
    tab.model_picker.combo.setEditText("facebook/dinov2-small")
    assert _second_start(qtbot, settings).config().model == "facebook/dinov2-small"
    folder = tmp_path / "my-model"
    folder.mkdir()
    tab.model_picker.combo.setEditText(str(folder))
    assert _second_start(qtbot, settings).config().model == str(folder)
    folder.rmdir()
    again = _second_start(qtbot, settings)
    assert again.config().model == "openai/clip-vit-base-patch32"
    assert str(folder) in again.message.text() and "no longer there" in again.message.text()


# --- the tab's mark: ✓ only with a model whose check did not fail --------------------------------
def test_a_failed_model_check_takes_the_tick_away(qtbot, main_window, learnable_dir,
                                                  tiny_clip_dir, tmp_path):
    window = main_window
    tab = window.config_tab
    with qtbot.waitSignal(window.dataset_tab.dataset_ready, timeout=60_000):
        window.dataset_tab.open_folder(str(learnable_dir))
    tab.model_picker.combo.setEditText(str(tiny_clip_dir))
    assert tab.state() == "done" and window.tabs.tabText(1).endswith("✓")
    missing = tmp_path / "no-such-model"
    tab.model_picker.combo.setEditText(str(missing))
    assert window.tabs.tabText(1).endswith("✓")  # not checked yet: nothing known against it
    with qtbot.waitSignal(tab.model_picker.check_finished, timeout=60_000) as checked:
        tab.model_picker.check_button.click()
    ok, reason = checked.args
    assert not ok and "no-such-model" in reason
    assert tab.state() == "attention" and window.tabs.tabText(1).endswith("!")
    assert tab.problems()["model"] == reason
    assert reason in window.training_tab.banner.label.text()  # the reason, where a run starts
    assert tab.model_picker.status.text() == "✗ " + reason
    assert not tab.errors["model"].isVisible()  # said once, by the picker
    tab.model_picker.combo.setEditText(str(tiny_clip_dir))
    assert window.tabs.tabText(1).endswith("✓")  # another model: the failure was not its
    with qtbot.waitSignal(tab.model_picker.check_finished, timeout=60_000) as checked:
        tab.model_picker.check_button.click()
    assert checked.args[0] is True and tab.state() == "done"
    assert window.tabs.tabText(1).endswith("✓") and "model" not in tab.problems()


def test_batch_size_auto_is_typed_as_the_word_and_shown_as_it(qtbot, tab, tmp_path):
    from PySide6.QtCore import Qt

    spin = tab.editors["batch_size"].widget
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, "auto")
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert spin.value() == 0 and spin.text() == "auto"
    assert tab.config().batch_size == 0
    assert "--batch-size auto" in tab.command_line.text()
    tab.grab().save(str(tmp_path / "config-batch-auto.png"))
