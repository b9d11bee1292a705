"""What a resumed run may change, and what it says about each change.

A resumed run continues the training its checkpoint holds, so the settings that shaped
that training (data, model, LoRA, optimiser, batch, augmentation, seed) stay the run's own:
asking for another value is refused, naming the options, with the way to start a new run
from the checkpoint instead. Settings that do not change what was learnt are applied and
logged: how long to train (epochs / max steps: the learning-rate schedule is stretched or
shortened to the new end), early stopping, where the run is written, and this machine's
hardware and caches. The command line and the window's Continue training both build the
requested config as the stored one plus changes; this module checks it the same way.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from engine.config import TrainConfig
from engine.errors import UserError
from engine.i18n import _

# This machine's business, not the run's: always the request's values (defaults = auto).
MACHINE = ("device", "precision", "num_threads", "attention", "compile", "cache_max_mb",
           "cache_dir", "gradient_checkpointing")
# How long and when to stop: applied, and the schedule follows.
LENGTH = ("epochs", "max_steps", "early_stop_patience")
# Where the continued run is written: a new place means a copy (the original stays).
OUTPUT = ("output_dir", "run_name")
SAFE = MACHINE + LENGTH + OUTPUT


def option(name: str) -> str:
    return "--" + name.replace("_", "-")


def machine_defaults(stored: TrainConfig) -> TrainConfig:
    """The stored config with this machine's settings at their defaults: the base a front
    end applies the user's changes to before resuming."""
    default = TrainConfig()
    return stored.replace(**{name: getattr(default, name) for name in MACHINE})


def resume_request(run_dir: str | Path, **changes) -> TrainConfig:
    """The config that continues `run_dir` with `changes` (e.g. epochs=20, device="cpu"):
    its own settings, this machine's defaults, then the changes; train() checks them."""
    run_dir = Path(run_dir)
    return machine_defaults(stored_config(run_dir)).replace(resume_from=str(run_dir),
                                                            **changes)


@dataclass
class Resume:
    config: TrainConfig  # what the resumed run trains with
    previous: TrainConfig  # what the run was trained with so far
    notes: list[str] = field(default_factory=list)  # log lines: each change applied
    copy_to: tuple[str, str] | None = None  # (output_dir, run_name) of a copy to continue

    def length_changed(self) -> bool:
        return any(getattr(self.config, n) != getattr(self.previous, n)
                   for n in ("epochs", "max_steps"))


def stored_config(run_dir: Path) -> TrainConfig:
    """The config a run folder was trained with (its run.json), checked to be resumable."""
    from engine.model.checkpoint import resolve_dir
    from engine.runs import read_run

    if not (run_dir / "run.json").is_file():
        raise UserError(_("{path} is not a LoRA Studio run folder (run.json is missing), so "
                          "there is nothing to resume.").format(path=run_dir))
    if resolve_dir(run_dir / "checkpoints" / "last") is None:
        raise UserError(_("{path} has no checkpoint to resume from (checkpoints/last is "
                          "missing): it ended before its first save. Start a new run "
                          "instead.").format(path=run_dir))
    stored = read_run(run_dir).get("config", {})
    # a run from before class_balance trained without it: it continues so
    return TrainConfig.from_dict({"class_balance": "none", **stored})


def check_resume_config(config: TrainConfig, run_dir: Path) -> Resume:
    """`config` (the stored one plus the user's changes) checked against the run's own.

    Raises UserError naming every option that cannot change on resume; otherwise returns
    the config to continue with and one log line per change applied.
    """
    stored = stored_config(run_dir)
    changed = [f for f in TrainConfig.__dataclass_fields__
               if f != "resume_from" and getattr(config, f) != getattr(stored, f)]
    moved = "data_dir" in changed and images_found_in(run_dir, config.data_dir)
    refused = [f for f in changed if f not in SAFE and not (f == "data_dir" and moved)]
    if refused:
        raise UserError(_(
            "A resumed run keeps the settings it was trained with, so {options} cannot change "
            "when continuing {run}. Continue without them (only epochs, max steps, early "
            "stopping, the output folder and run name, hardware settings, and the new place of "
            "the run's own images as --data-dir can change), or "
            "start a new run from this run's saved model with your settings: python -m engine "
            "train --init-from {run} --data-dir DATA ...").format(
            options=", ".join(f"{option(f)} ({getattr(stored, f)} -> {getattr(config, f)})"
                              for f in refused), run=run_dir))
    resume = Resume(config.replace(resume_from=str(run_dir)), stored)
    for name in changed:
        if name in MACHINE:
            continue  # this machine's settings: the run log's hardware lines say what runs
        if name == "data_dir":
            resume.notes.append(_("Resuming with the run's images from their new place, "
                                  "{new} (the run had {old}).").format(
                new=config.data_dir, old=stored.data_dir))
            continue
        resume.notes.append(_("Resuming with {option} {new} (the run had {old}).").format(
            option=option(name), new=getattr(config, name), old=getattr(stored, name)))
    if any(name in OUTPUT for name in changed):
        folder = config.output_dir if config.output_dir != stored.output_dir else \
            str(run_dir.parent)
        resume.copy_to = (folder, config.run_name or run_dir.name)
    return resume


def images_found_in(run_dir: Path, folder: str) -> bool:
    """True when `folder` is the new place of every image the run's split.json lists (the
    dataset was moved): then a resume may name it as its data_dir."""
    import json

    from engine.data.index import listed_paths, load_split

    split = run_dir / "split.json"
    if not folder or not Path(folder).is_dir() or not split.is_file():
        return False
    try:
        data = json.loads(split.read_text(encoding="utf-8"))
        first = next(iter(listed_paths(data, root=folder)), None)
        if first is not None and not Path(first[1]).is_file():  # one look, not one per file:
            return False  # a folder typed on the way to the right one is answered at once
        return not load_split(data, root=folder).errors
    except (UserError, OSError, ValueError, KeyError, TypeError):
        return False


def copy_run(run_dir: Path, output_dir: str, run_name: str) -> Path:
    """A copy of `run_dir` in a new folder under `output_dir` (named `run_name`, made
    unique) to continue in; the original folder is left as it is."""
    from engine.runs import create_run_dir

    target = create_run_dir(output_dir, str(run_dir), run_name)
    shutil.copytree(run_dir, target, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("*.tmp", ".*.tmp"))
    return target


def follow_new_schedule(learner, previous: TrainConfig, step: int):
    """After restoring a checkpoint whose run now trains for longer or shorter: the learning
    rate from this step on follows the cosine schedule to the new end (the checkpoint's
    optimiser holds the old schedule's value); returns the log line that says so."""
    from engine.events import Log
    from engine.training.plan import make_plan

    plan = learner.plan
    old = make_plan(learner.n_train, previous.batch_size, learner.setup.world,
                    previous.grad_accum, previous.epochs, previous.max_steps,
                    previous.warmup_ratio)
    scheduler = learner.scheduler
    rates = [base * rule(scheduler.last_epoch)
             for base, rule in zip(scheduler.base_lrs, scheduler.lr_lambdas)]
    for group, rate in zip(learner.optimizer.param_groups, rates):
        group["lr"] = rate
    scheduler._last_lr = rates  # what get_last_lr() reports (torch keeps it in this field)
    if plan.total_steps > step:
        text = _("The learning-rate schedule now ends at step {new} instead of {old}: it "
                 "continues from step {step} at {lr:.2e} and decays to 0 at step {new}.")
    else:
        text = _("The run already has {step} steps, at least the {new} it now asks for: "
                 "nothing is left to train, so it only finishes (test report and "
                 "calibration).")
    return Log(level="info", message=text.format(new=plan.total_steps, old=old.total_steps,
                                                 step=step, lr=rates[0] if rates else 0.0))
