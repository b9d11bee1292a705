"""Command line: `python -m engine sweep --config base.yaml --trials N --budget-minutes M`.

Under torchrun / accelerate launch every process runs its own trials (one at a time, each a
single-process run) on the shared study in the sweep folder: N processes, N trials at once.
Ctrl-C stops the running trial (it is trained again by the next run of the same command).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from engine.cli import checks
from engine.cli.checks import number
from engine.errors import UserError
from engine.i18n import _

EXIT_INVALID = 2
EXIT_STOPPED = 130


def register_cli(sub: argparse._SubParsersAction) -> None:
    from engine.sweep.space import MODES

    p = sub.add_parser(
        "sweep", help=_("Search learning rate, LoRA rank/alpha, blocks, dropout and "
                        "augmentation with short, pruned trial runs (Optuna)."),
        description=_("A small hyperparameter sweep. Example: {example}. Running the same "
                      "command again continues the sweep.").format(
            example="python -m engine sweep --config base.yaml --trials 12 --budget-minutes 60"))
    p.add_argument("--config", required=True, metavar="FILE", type=checks.existing_file,
                   help=_("JSON or YAML file of the base settings (its dataset, model, ...)"))
    p.add_argument("--trials", type=number(int, 1, 10000), default=10,
                   help=_("trials in the sweep in all; a continued sweep runs only the missing "
                          "ones (default 10)"))
    p.add_argument("--budget-minutes", type=number(float, 0), default=0.0,
                   help=_("start no trial that would end after this many minutes (0 = no "
                          "limit; default 0)"))
    p.add_argument("--output-dir", type=checks.writable_folder, default=None,
                   help=_("folder for the sweep folder (default: the config's output_dir)"))
    p.add_argument("--name", default="",
                   help=_("the sweep folder's name, sweep-NAME (default: the dataset's name)"))
    p.add_argument("--method", choices=MODES, default="auto",
                   help=_("what trains: auto (on a CPU: LoRA on the last blocks with the frozen "
                          "blocks cached, or the linear probe for a probe config; elsewhere "
                          "LoRA), lora, last-n or linear-probe"))
    p.add_argument("--trial-epochs", type=number(int, 1, 10000), default=0,
                   help=_("epochs per trial (default: 3, or 10 for the linear probe, at most "
                          "the config's)"))
    p.add_argument("--json", action="store_true", help=_("print every event as one JSON line"))
    p.set_defaults(func=_cmd_sweep)


def _base_config(path: str):
    from engine.cli.config_file import read_mapping
    from engine.config import TrainConfig

    data = read_mapping(Path(path))
    try:
        return TrainConfig.from_dict(data)
    except (TypeError, ValueError) as exc:
        raise UserError(_("The config file {path} has a wrong value: {error}").format(
            path=path, error=exc)) from None


def own_trials_per_process() -> tuple[int, int]:
    """(rank, processes) of a torchrun / accelerate launch, after making this process a
    single-process one for its trials (they train alone, not as DDP); (0, 1) otherwise."""
    world = int(os.environ.get("WORLD_SIZE", "1") or 1)
    if world <= 1:
        return 0, 1
    rank = int(os.environ.get("RANK", "0") or 0)
    local = os.environ.get("LOCAL_RANK", "0") or "0"
    if "CUDA_VISIBLE_DEVICES" not in os.environ:  # each process trains on its own GPU
        os.environ["CUDA_VISIBLE_DEVICES"] = local
    else:
        visible = os.environ["CUDA_VISIBLE_DEVICES"].split(",")
        os.environ["CUDA_VISIBLE_DEVICES"] = visible[int(local) % len(visible)]
    for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "GROUP_RANK",
                 "MASTER_ADDR", "MASTER_PORT"):
        os.environ.pop(name, None)
    return rank, world


def _cmd_sweep(args: argparse.Namespace) -> int:
    from engine.cli.ctrl_c import ctrl_c_stops
    from engine.sweep.runner import SweepSpec, check_spec, run_sweep
    from engine.training.control import TrainControl

    rank, processes = own_trials_per_process()
    base = _base_config(args.config)
    spec = SweepSpec(base=base, trials=args.trials, budget_minutes=args.budget_minutes,
                     output_dir=args.output_dir or "", name=args.name, method=args.method,
                     trial_epochs=args.trial_epochs, rank=rank, processes=processes)
    check_spec(spec)  # bad input: exit 2 before anything is written
    problem = checks.folder_problem(spec.folder.parent)
    if problem:
        raise UserError(_("--output-dir: {problem}").format(problem=problem))
    prefix = _("[process {rank}] ").format(rank=rank) if processes > 1 else ""
    control = TrainControl()
    finished = None
    with ctrl_c_stops(control):
        for event in run_sweep(spec, control):
            if args.json:
                print(json.dumps(event.to_dict(), sort_keys=True, default=str), flush=True)
            else:
                line = format_event(event)
                if line:
                    stream = sys.stderr if getattr(event, "level", "") == "error" else sys.stdout
                    print(prefix + line, file=stream, flush=True)
            if event.kind == "sweep_finished":
                finished = event
    if finished is None or finished.reason == "failed":
        if finished is not None and not args.json:
            print(prefix + _("error: {message}").format(message=" ".join(
                finished.error.split())), file=sys.stderr)
        return EXIT_INVALID if finished is not None and finished.invalid_input else 1
    return EXIT_STOPPED if finished.reason == "stopped" else 0


def describe(changes: dict) -> str:
    """A trial's settings in a short line: lr 3.2e-04, r 8, alpha 16, ..."""
    names = {"lr": "lr", "head_lr": _("head lr"), "weight_decay": _("weight decay"),
             "lora_r": "r", "lora_alpha": "alpha", "lora_last_n_blocks": _("last blocks"),
             "lora_dropout": _("dropout"), "augment": _("augment"),
             "color_jitter": _("color jitter")}
    parts = []
    for key, value in changes.items():
        if isinstance(value, float) and (key.endswith("lr") or key == "weight_decay"):
            shown = f"{value:.2e}"
        elif isinstance(value, bool):
            shown = _("on") if value else _("off")
        elif isinstance(value, float):
            shown = f"{value:.3g}"
        else:
            shown = str(value)
        parts.append(f"{names.get(key, key)} {shown}")
    return ", ".join(parts)


def format_event(e) -> str:
    if e.kind == "sweep_started":
        lines = [_("Sweep folder: {folder}").format(folder=e.folder),
                 _("Mode: {note}.").format(note=e.mode_note),
                 _("Each trial trains {epochs} epoch(s); a trial whose validation accuracy "
                   "falls below the median of earlier trials at the same epoch is pruned.")
                 .format(epochs=e.trial_epochs)]
        if e.continuing:
            lines.append(_("Continuing the sweep in this folder."))
        if e.rerun:
            lines.append(_("{count} interrupted trial(s) will be trained again.").format(
                count=e.rerun))
        return "\n".join(lines)
    if e.kind == "note":
        return e.message if e.level == "info" else f"{e.level}: {e.message}"
    if e.kind == "trial":
        if e.state == "running" and e.epoch == 0:
            return _("trial {n} started: {settings}").format(n=e.number,
                                                             settings=describe(e.changes))
        if e.state == "running":
            return _("trial {n} epoch {epoch}/{epochs}: best validation accuracy {acc:.1%}")\
                .format(n=e.number, epoch=e.epoch, epochs=e.epochs, acc=e.value or 0.0)
        if e.state == "complete":
            return _("trial {n} complete: validation accuracy {acc:.1%} ({minutes:.1f} min)")\
                .format(n=e.number, acc=e.value or 0.0, minutes=e.minutes)
        if e.state == "pruned":
            return _("trial {n} pruned: {note}").format(n=e.number, note=e.note)
        if e.state == "interrupted":
            return _("trial {n} interrupted: {note}").format(n=e.number, note=e.note)
        return _("trial {n} failed: {note}").format(n=e.number, note=e.note)
    if e.kind == "sweep_finished":
        return _finished(e)
    return ""


def _finished(e) -> str:
    if e.reason == "failed":
        return ""
    why = {"trials": _("all trials done"), "budget": _("time budget reached"),
           "stopped": _("stopped; run the same command to continue")}.get(e.reason, e.reason)
    lines = [_("Sweep ended ({why}): {done} trial(s) in {folder}.").format(
        why=why, done=e.trials_done, folder=e.folder)]
    if e.best_number is None:
        lines.append(_("No trial completed yet, so there is no best configuration."))
    else:
        lines.append(_("Best: trial {n}, validation accuracy {acc:.1%}: {settings}.").format(
            n=e.best_number, acc=e.best_value, settings=describe(e.best_changes)))
        lines.append(_("Best configuration: {path}. Train it in full with: {command}").format(
            path=e.best_config_path,
            command=f"python -m engine train --config {e.best_config_path}"))
    return "\n".join(lines)
