"""A new run that starts from a finished run's saved model (config.init_from).

Resuming continues a run with the settings it was trained with; a warm start is how to
train on from where a run got to with other settings (learning rate, batch size, epochs,
augmentation, more images of the same classes...). The new run gets its own folder, loads
the old run's saved LoRA weights and head into a model built the same way, and trains from
there; its step 0 is that model's accuracy, so it is never saved worse than it began.
"""
from __future__ import annotations

from pathlib import Path

import torch

from engine.config import TrainConfig
from engine.errors import UserError
from engine.events import Log
from engine.i18n import _

# What must match the run the weights come from: the weights' shapes and meaning follow them.
SAME = ("model", "method", "lora_r", "target_modules", "lora_last_n_blocks")


def check_init_from(config: TrainConfig, class_names: list[str]) -> dict:
    """The run.json of config.init_from, checked to fit `config` and the dataset's classes;
    raises UserError naming what differs."""
    from engine.runs import read_run

    run_dir = Path(config.init_from)
    if not (run_dir / "run.json").is_file():
        raise UserError(_("--init-from {path} is not a LoRA Studio run folder (it has no "
                          "run.json).").format(path=run_dir))
    meta = read_run(run_dir)
    if not (run_dir / "head.safetensors").is_file():
        raise UserError(_("--init-from {path} has no saved model yet (head.safetensors is "
                          "missing): it ended before its first save.").format(path=run_dir))
    stored = TrainConfig.from_dict(meta.get("config") or {})
    stored = stored.replace(model=(meta.get("base_model") or {}).get("ref", stored.model))
    differ = [name for name in SAME if getattr(stored, name) != getattr(config, name)]
    if differ:
        raise UserError(_("A run started from {path} must keep its {options}: its saved "
                          "weights only fit a model built the same way.").format(
            path=run_dir, options=", ".join(
                f"--{n.replace('_', '-')} ({getattr(stored, n)})" for n in differ)))
    if list(meta.get("class_names") or []) != list(class_names):
        raise UserError(_("A run started from {path} must have the same classes in the same "
                          "order ({theirs}); this dataset has {ours}.").format(
            path=run_dir, theirs=", ".join(meta.get("class_names") or []),
            ours=", ".join(class_names)))
    return meta


def warm_start(model, config: TrainConfig, class_names: list[str]) -> Log:
    """Load config.init_from's saved model into `model` (built from the same base model with
    the same LoRA layout); the head's calibration is reset (training runs uncalibrated)."""
    from engine.model.checkpoint import load_weights

    meta = check_init_from(config, class_names)
    load_weights(config.init_from, model)
    with torch.no_grad():
        model.head.temperature.fill_(1.0)
    best = meta.get("best") or {}
    accuracy = best.get("val_accuracy")
    text = _("Starting from the saved model of {run} (best validation accuracy {accuracy}) "
             "instead of the {head} head.").format(
        run=config.init_from, accuracy="-" if accuracy is None else f"{accuracy:.1%}",
        head=config.head_init)
    return Log(level="info", message=text)
