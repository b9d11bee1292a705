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


# --- presets apply cleanly: the result never depends on what was set before ----------------
# The fields that stay the user's whatever preset is applied (data, split, seed, prompts,
# hardware, output, where a run starts from). A new field must be put here or in PRESET_FIELDS.
USERS_FIELDS = {"data_dir", "val_fraction", "test_fraction", "split_seed", "cache_max_mb",
                "cache_dir", "model", "init_from", "prompt_templates", "seed", "device",
                "precision", "num_threads", "attention", "compile", "output_dir", "run_name",
                "resume_from", "gradient_checkpointing"}
PAIRS = [(a, b) for a in PRESETS for b in PRESETS]


def _users_start() -> TrainConfig:
    """A config as a user leaves it: their own data, hardware, output and model, and a few
    training settings changed by hand (which a preset must not keep)."""
    return TrainConfig(data_dir="/data/dogs", val_fraction=0.2, split_seed=7, seed=3,
                       device="cpu", precision="fp32", num_threads=1, output_dir="/runs",
                       run_name="mine", model="/models/mine", prompt_templates=["a {}"],
                       head_init="prototype", lora_r=64, color_jitter=0.3, max_steps=9,
                       grad_accum=4, decay_bias=True, cache_frozen_blocks=False)


def test_every_field_is_decided_by_the_presets_or_left_to_the_user():
    from engine.config import PRESET_FIELDS

    names = {f.name for f in field_info()}
    assert set(PRESET_FIELDS) | USERS_FIELDS == names
    assert not set(PRESET_FIELDS) & USERS_FIELDS
    for name in PRESETS:
        assert set(PRESETS[name]) <= set(PRESET_FIELDS) | {"model"}, name


@pytest.mark.parametrize("first, then", PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_presets_apply_cleanly_in_any_order(first, then):
    start = _users_start()
    alone = apply_preset(start, then, own_model=start.model)
    after = apply_preset(apply_preset(start, first, own_model=start.model), then,
                         own_model=start.model)
    assert after == alone
    # without being told the user's model, a model only another preset picked goes too
    assert apply_preset(apply_preset(TrainConfig(), first), then) == apply_preset(TrainConfig(), then)
    for name in USERS_FIELDS - {"model"}:
        assert getattr(alone, name) == getattr(start, name), name
    for name, value in PRESETS[then].items():
        assert getattr(alone, name) == value, name
    assert alone.model == PRESETS[then].get("model", start.model)


def test_the_observed_pile_ups_are_gone():
    start = TrainConfig(data_dir="/data/dogs")
    best = apply_preset(apply_preset(start, "Tutorial recipe"), "Best accuracy (GPU)")
    assert best.head_init == "zero-shot" and not best.decay_bias and best.grad_clip == 1.0
    quick = apply_preset(best, "Quick (CPU)")
    assert quick.model == TrainConfig().model and quick.lora_r == 8
    assert quick.target_modules == ["q_proj", "v_proj"] and quick.color_jitter == 0.0
    line = to_command_line(quick)
    assert "--no-augment" in line and "--color-jitter" not in line and "siglip" not in line


def test_a_model_the_user_chose_survives_presets_that_name_none():
    from engine.config import active_preset

    mine = TrainConfig(model="google/siglip2-base-patch16-224")  # chosen by hand
    quick = apply_preset(apply_preset(mine, "Best accuracy (GPU)"), "Quick (CPU)",
                         own_model=mine.model)
    assert quick.model == mine.model
    assert active_preset(quick) == "Quick (CPU)"  # Quick names no model: any model is Quick
    assert active_preset(quick.replace(epochs=6)) == ""
    for name in PRESETS:
        assert active_preset(apply_preset(_users_start(), name)) == name


# --- config files: JSON or YAML by suffix; a wrong value names its field --------------------
@pytest.mark.parametrize("data, words", [
    ({"epochs": "abc"}, "epochs: 'abc' is not a whole number"),
    ({"epochs": 2.5}, "epochs: 2.5 is not a whole number"),
    ({"lr": "fast"}, "lr: 'fast' is not a number"),
    ({"lr": True}, "lr: true is not a number"),
    ({"augment": "maybe"}, "augment: 'maybe' is not true or false"),
    ({"target_modules": 5}, "target_modules: 5 is not a list of texts"),
    ({"run_name": {"a": 1}}, "run_name: {\"a\": 1} is not a text"),
])
@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_a_wrong_value_in_a_config_file_names_the_field(tmp_path, data, words, suffix):
    import json

    import yaml

    from engine.config import ConfigValueError
    from engine.errors import UserError

    path = tmp_path / f"c{suffix}"
    path.write_text(yaml.safe_dump(data) if suffix == ".yaml" else json.dumps(data))
    with pytest.raises(ConfigValueError) as caught:
        TrainConfig.load(path)
    assert words in str(caught.value) and caught.value.field == next(iter(data))
    assert isinstance(caught.value, UserError) and isinstance(caught.value, ValueError)


def test_readable_values_are_read_as_their_fields_type():
    c = TrainConfig.from_dict({"epochs": "12", "lora_r": 16.0, "lr": "5e-4", "augment": "off",
                               "decay_bias": 1, "run_name": None, "target_modules": ("q_proj",)})
    assert (c.epochs, c.lora_r, c.lr, c.augment, c.decay_bias, c.run_name, c.target_modules) == \
        (12, 16, 5e-4, False, True, "", ["q_proj"])


def test_the_file_suffix_decides_the_format(tmp_path):
    import json

    import yaml

    c = TrainConfig(epochs=7, lr=1e-4)
    for suffix in (".yaml", ".yml"):
        c.save(tmp_path / f"c{suffix}")
        text = (tmp_path / f"c{suffix}").read_text()
        assert "epochs: 7" in text and yaml.safe_load(text)["lr"] == 1e-4
        with pytest.raises(ValueError):
            json.loads(text)  # YAML, not JSON in a .yaml file
    c.save(tmp_path / "c.json")
    assert json.loads((tmp_path / "c.json").read_text())["epochs"] == 7
