from __future__ import annotations

import argparse
import dataclasses

import pytest

from engine.config import (PRESETS, TrainConfig, add_arguments, apply_preset, field_info,
                           from_args, to_command_line)


def test_every_field_has_help_and_group():
    for f in field_info():
        assert f.metadata.get("help"), f"{f.name} has no help text"
        assert f.metadata.get("group") in {"data", "model", "lora", "training", "hardware", "output"}


def test_defaults_are_the_tutorial_recipe_and_valid():
    c = TrainConfig()
    assert (c.model, c.lora_r, c.lora_alpha, c.target_modules, c.lr, c.epochs) == (
        "openai/clip-vit-base-patch32", 8, 32.0, ["q_proj", "v_proj"], 5e-4, 10)
    assert c.validate() == {}


@pytest.mark.parametrize("change,field", [
    ({"lora_r": 0}, "lora_r"), ({"method": "magic"}, "method"),
    ({"target_modules": ["nope"]}, "target_modules"), ({"target_modules": []}, "target_modules"),
    ({"val_fraction": 0.5, "test_fraction": 0.45}, "val_fraction"),
    ({"prompt_templates": ["no placeholder"]}, "prompt_templates"), ({"model": " "}, "model"),
])
def test_validation_names_the_field(change, field):
    problems = TrainConfig(**change).validate()
    assert field in problems and problems[field]


def test_presets_are_valid_configs():
    for name in PRESETS:
        assert apply_preset(TrainConfig(), name).validate() == {}, name


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_save_load_round_trip(tmp_path, suffix):
    c = TrainConfig(lora_r=4, target_modules=["q_proj", "fc1"], augment=False, lr=1e-3)
    c.save(tmp_path / f"c{suffix}")
    assert TrainConfig.load(tmp_path / f"c{suffix}") == c


def test_unknown_keys_are_ignored_and_types_coerced():
    c = TrainConfig.from_dict({"lora_r": "16", "augment": "false", "from_the_future": 1,
                               "target_modules": "q_proj, v_proj"})
    assert c.lora_r == 16 and c.augment is False and c.target_modules == ["q_proj", "v_proj"]


def test_command_line_round_trip():
    c = TrainConfig(data_dir="/data/my dogs", lora_r=4, augment=False,
                    target_modules=["q_proj", "k_proj"], lr=1e-4)
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    import shlex

    argv = shlex.split(to_command_line(c))[4:]
    assert from_args(parser.parse_args(argv)) == c


def test_cli_help_uses_field_help():
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    text = parser.format_help()
    lora_r = next(f for f in dataclasses.fields(TrainConfig) if f.name == "lora_r")
    assert lora_r.metadata["help"].split(":")[0] in text
