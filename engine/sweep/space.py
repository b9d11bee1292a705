"""What a sweep searches, and the configuration each trial trains with.

Three modes, chosen once per sweep:
- "linear-probe": only the classifier head trains, on cached embeddings (head LR, weight decay);
- "last-n": LoRA on the last N blocks with the frozen blocks computed once per image
  (augmentation off, which the cache needs): LR, rank/alpha, N, dropout;
- "lora": LoRA as the base config sets it, augmentation on: everything above plus the
  augmentation strength (color_jitter; mixup and RandAugment's ops/magnitude where the
  config has those fields).
On a CPU, "auto" picks last-n (or the probe for a probe config); elsewhere "lora".

Short runs: a trial trains min(base epochs, 3) epochs (10 for the probe, whose epochs
cost little), or --trial-epochs; it never stops early by patience: the pruner decides.
"""
from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.config import TrainConfig, field_info
from engine.i18n import _

MODES = ("auto", "lora", "last-n", "linear-probe")
SHORT_EPOCHS = {"lora": 3, "last-n": 3, "linear-probe": 10}
RANKS = (4, 8, 16, 32)
ALPHA_TIMES = (1, 2, 4)  # lora_alpha = r x this
LAST_N = (1, 2, 4, 8)
FIXED_BY_MODE = {
    "linear-probe": {"method": "linear-probe", "augment": False},
    "last-n": {"method": "lora", "augment": False, "cache_frozen_blocks": True},
    "lora": {"method": "lora"},
}


@dataclass(frozen=True)
class Mode:
    name: str  # "lora" | "last-n" | "linear-probe"
    note: str  # what it means, for the output


def choose_mode(base: TrainConfig, requested: str, device_type: str) -> Mode:
    """The sweep's mode: `requested` (one of MODES), "auto" decided by the device."""
    name = requested
    if requested == "auto":
        if base.method == "linear-probe":
            name = "linear-probe"
        else:
            name = "last-n" if device_type == "cpu" else "lora"
    notes = {
        "linear-probe": _("linear probe: only the classifier head trains, on cached image "
                          "embeddings; the sweep searches its learning rate and weight decay"),
        "last-n": _("LoRA on the last blocks, their frozen blocks computed once per image "
                    "(augmentation off); the sweep searches the learning rate, LoRA rank and "
                    "alpha, the number of blocks and dropout"),
        "lora": _("LoRA with augmentation; the sweep searches the learning rate, LoRA rank and "
                  "alpha, the number of blocks, dropout and augmentation strength"),
    }
    note = notes[name]
    if requested == "auto" and device_type == "cpu" and name == "last-n":
        note += _(" (chosen because this runs on a CPU; --method lora searches full LoRA, "
                  "several times slower)")
    return Mode(name, note)


def model_blocks(model_ref: str) -> int:
    """Encoder blocks of the base model's image tower, from its config.json (a local folder
    or the download cache); 12, a ViT-B's count, when it cannot be read."""
    path = Path(model_ref) / "config.json"
    if not path.is_file():
        try:
            from huggingface_hub import try_to_load_from_cache

            found = try_to_load_from_cache(model_ref, "config.json")
            path = Path(found) if isinstance(found, str) else path
        except Exception:  # noqa: BLE001 - not a hub id, or no cache: the usual count
            pass
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        vision = data.get("vision_config") or data
        return max(1, int(vision.get("num_hidden_layers", 12)))
    except (OSError, ValueError, TypeError, AttributeError):
        return 12


def _range_around(value: float, low: float = 1e-6, high: float = 1.0) -> tuple[float, float]:
    """A log range of a hundredfold around `value` (10x below to 10x above), inside the field's."""
    value = value if value > 0 else 1e-3
    return max(low, value / 10), min(high, value * 10)


def suggest(trial, base: TrainConfig, mode: str, blocks: int) -> dict[str, Any]:
    """Ask `trial` (an optuna Trial) for this sweep's parameters; returns trial.params."""
    if mode == "linear-probe":
        trial.suggest_float("head_lr", *_range_around(base.head_lr), log=True)
        trial.suggest_float("weight_decay", 1e-4, 0.3, log=True)
        return dict(trial.params)
    trial.suggest_float("lr", *_range_around(base.lr), log=True)
    trial.suggest_categorical("lora_r", list(RANKS))
    trial.suggest_categorical("alpha_times_r", list(ALPHA_TIMES))
    last_n = [n for n in LAST_N if n < blocks] or [0]
    trial.suggest_categorical("lora_last_n_blocks", ([0] if mode == "lora" else []) + last_n)
    trial.suggest_float("lora_dropout", 0.0, 0.3)
    if mode == "lora" and trial.suggest_categorical("augment", [True, False]):
        trial.suggest_float("color_jitter", 0.0, 0.3)
        if _has("mixup"):  # newer augmentation fields, searched where the config has them
            trial.suggest_float("mixup", 0.0, 0.4)
        if _has("randaugment_ops") and _has("randaugment_magnitude") and \
                trial.suggest_categorical("randaugment_ops", [0, 2]):
            trial.suggest_int("randaugment_magnitude", 5, 15)
    return dict(trial.params)


def _has(name: str) -> bool:
    return any(f.name == name for f in field_info())


def to_changes(params: dict[str, Any]) -> dict[str, Any]:
    """A trial's parameters as config fields (alpha_times_r becomes lora_alpha)."""
    changes = {k: v for k, v in params.items() if k != "alpha_times_r"}
    if "alpha_times_r" in params and "lora_r" in params:
        changes["lora_alpha"] = float(params["lora_r"] * params["alpha_times_r"])
    if params.get("augment") is False:  # no augmentation of any kind
        changes.update(color_jitter=0.0, mixup=0.0, randaugment_ops=0)
    known = {f.name for f in field_info()}
    return {k: v for k, v in changes.items() if k in known}


def trial_epochs(base: TrainConfig, mode: str, wanted: int = 0) -> int:
    """The short run's epochs (the rule in the module docstring)."""
    return wanted if wanted > 0 else min(base.epochs, SHORT_EPOCHS[mode])


def tuned_config(base: TrainConfig, mode: str, params: dict[str, Any]) -> TrainConfig:
    """`base` with a trial's settings: what best.yaml holds and "Use this config" loads (the
    base config's epochs, output folder and early stopping stay)."""
    return base.replace(**FIXED_BY_MODE[mode], **to_changes(params))


def trial_config(base: TrainConfig, mode: str, params: dict[str, Any], folder: Path,
                 name: str, epochs: int, processes: int = 1) -> TrainConfig:
    """The configuration trial `name` trains with, in `folder`."""
    threads = base.num_threads or max(1, (os.cpu_count() or 1) // max(1, processes))
    return tuned_config(base, mode, params).replace(
        epochs=epochs, early_stop_patience=0, output_dir=str(folder), run_name=name,
        resume_from="", num_threads=threads)


def config_key(base: TrainConfig) -> dict[str, Any]:
    """What makes two sweeps the same (a sweep folder continues only with the same base)."""
    data = dataclasses.asdict(base)
    for name in ("output_dir", "run_name", "resume_from", "num_threads", "cache_dir"):
        data.pop(name, None)
    return data
