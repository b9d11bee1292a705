"""Command line: `python -m engine train ...` and `python -m engine runs [FOLDER]`.

Every TrainConfig field is an option (same help text as the GUI's tooltips); --config
reads a JSON/YAML file first and options given on the command line override it.
Ctrl-C stops gracefully: the run saves its checkpoint and ends as "stopped"; a second
Ctrl-C aborts at once.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from engine.cli import checks, find_lr, new_labels
from engine.cli.config_file import read_mapping
from engine.cli.ctrl_c import ctrl_c_stops
from engine.config import (PRESETS, TrainConfig, add_arguments, field_info, from_args,
                           preset_values)
from engine.errors import UserError
from engine.i18n import N_, _, columns, pad

EXIT_FAILED = 1
EXIT_INVALID = 2  # the input cannot work (the message names it); nothing was trained
EXIT_STOPPED = 130  # like a shell's Ctrl-C, but the run folder is complete and resumable


def register_cli(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train", help=_("Fine-tune CLIP (LoRA or linear probe) into a classifier of a dataset "
                        "folder."),
        description=_("Train a classifier. Example: {example}").format(
            example="python -m engine train --data-dir photos/ "
                    "--model openai/clip-vit-base-patch32 --epochs 5"))
    p.add_argument("--config", metavar="FILE", type=checks.existing_file,
                   help=_("JSON or YAML file of settings; options given here override it"))
    p.add_argument("--preset", choices=sorted(PRESETS), metavar="NAME",
                   help=_("start from a named preset, applied before --config and options: "
                          "{presets}").format(presets=", ".join(f"'{name}'" for name in PRESETS)))
    p.add_argument("--json", action="store_true", help=_("print every event as one JSON line"))
    add_arguments(p, _option_checks())
    new_labels.add_option(p)
    find_lr.add_option(p)
    p.set_defaults(func=_cmd_train)

    r = sub.add_parser("runs", help=_("List the training runs in a folder, newest first."))
    r.add_argument("folder", nargs="?", default=None, type=checks.existing_folder,
                   help=_("folder of runs (default: runs)"))
    r.set_defaults(func=_cmd_runs)


def _option_checks() -> dict:
    """The argparse type of each option: numbers in their field's range, paths that exist
    (inputs) or can be written (outputs)."""
    types = {f.name: checks.config_number(f.name) for f in field_info()
             if type(getattr(TrainConfig(), f.name)) in (int, float)}
    types.update(data_dir=checks.dataset, model=checks.model_ref, resume_from=checks.run_folder,
                 init_from=checks.run_folder,
                 output_dir=checks.writable_folder, cache_dir=checks.writable_folder)
    return types


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """Preset, then --config file, then command-line options (last one wins), over the
    defaults, or over a resumed run's own settings (engine.training.resume checks them).

    Raises UserError (exit 2) naming the option when the result is not usable."""
    changes: dict = {}
    if args.preset:
        changes.update(preset_values(args.preset))  # every field it owns, defaults too
    if args.config:
        data = read_mapping(Path(args.config))
        try:
            loaded = TrainConfig.from_dict(data)  # coerces types, ignores unknown keys
        except (TypeError, ValueError) as exc:
            raise UserError(_("The config file {path} has a wrong value: {error}").format(
                path=args.config, error=exc)) from None
        changes.update({k: getattr(loaded, k) for k in data if k in loaded.to_dict()})
    given = from_args(args, TrainConfig())
    changes.update({f.name: getattr(given, f.name) for f in field_info()
                    if getattr(args, f.name, None) is not None})
    resume_from = changes.get("resume_from", "")
    base = new_labels.base_config(args, changes)  # --with-new-labels: the run's, new data
    if base is None and resume_from:
        from engine.training.resume import machine_defaults, stored_config

        base = machine_defaults(stored_config(Path(resume_from)))
    elif base is None:
        base = TrainConfig()
    config = base.replace(**changes)
    if not config.data_dir and not config.resume_from:
        raise UserError(_("Say which images to train on: --data-dir FOLDER (or a CSV of "
                          "path,label), or --resume-from RUN_FOLDER to continue a run."))
    problems = config.validate()
    if problems:
        raise UserError(" ".join(_("{option}: {problem}").format(
            option="--" + name.replace("_", "-"), problem=problem)
            for name, problem in problems.items()))
    return config


def _cmd_train(args: argparse.Namespace) -> int:
    from engine.training.control import TrainControl
    from engine.training.loop import train

    config = config_from_args(args)
    if getattr(args, "find_lr", False):  # a range test instead of a run (engine/cli/find_lr)
        return find_lr.run(args, config, ctrl_c_stops)
    if config.resume_from:
        from engine.model.checkpoint import check_resume
        from engine.training.resume import check_resume_config

        check_resume(config.resume_from)  # a damaged run folder: one plain error, exit 2
        resume = check_resume_config(config, Path(config.resume_from))  # refused changes: 2
        outputs = {"output_dir": resume.copy_to[0]} if resume.copy_to else {}
    else:
        outputs = {"output_dir": config.output_dir}
    if config.cache_dir:
        outputs["cache_dir"] = config.cache_dir
    for name, folder in outputs.items():  # before any work: where the results will go
        problem = checks.folder_problem(Path(folder))
        if problem:
            raise UserError(_("{option}: {problem}").format(
                option="--" + name.replace("_", "-"), problem=problem))
    show = os.environ.get("RANK", "0") == "0"  # under torchrun only the first process prints
    printer = EventPrinter(as_json=args.json, command=args.argv)
    control = TrainControl()
    finished = None
    with ctrl_c_stops(control):
        for event in train(config, control):
            if show:
                printer.print(event)
            if event.kind == "run_finished":
                finished = event
    if finished is None or finished.status == "failed":
        return EXIT_INVALID if finished is not None and finished.invalid_input else EXIT_FAILED
    return EXIT_STOPPED if finished.status == "stopped" else 0


class EventPrinter:
    """Events as short readable lines (or JSON lines).

    A failure's traceback (an error log of the run) is not for the terminal: it goes to a
    log file, and the run's last line names that file."""

    def __init__(self, as_json: bool = False, out=None, command: list[str] | None = None):
        self.as_json = as_json
        self.out = out or sys.stdout
        self.command = command or []
        self.details: Path | None = None  # where the last traceback was written
        self._total = 0
        self._last_progress = 0.0

    def print(self, event) -> None:
        if event.kind == "log" and event.level == "error" and \
                event.message.startswith("Traceback"):
            from engine.cli.details import write_details

            self.details = write_details(event.message, self.command)
            return
        if self.as_json:
            print(json.dumps(event.to_dict(), sort_keys=True), file=self.out, flush=True)
            return
        line = self.format(event)
        if line and event.kind == "run_finished" and self.details is not None:
            line += " " + _("(details: {path})").format(path=self.details)
        if line:
            stream = sys.stderr if event.kind == "run_finished" and event.status == "failed" \
                else self.out
            print(line, file=stream, flush=True)

    def format(self, e) -> str:  # noqa: C901 - one small branch per event kind
        kind = e.kind
        if kind == "progress":
            now = time.monotonic()
            if e.done < e.total and now - self._last_progress < 2.0:
                return ""
            self._last_progress = now
            if e.stage == "download":  # bytes: in MB
                from engine.model.hub import describe_download

                return f"{e.message or e.stage}: {describe_download(e.done, e.total)}"
            return f"{e.message or e.stage}: {e.done}/{e.total}"
        if kind == "log":
            return _log_line(e.level, e.message)
        if kind == "run_started":
            self._total = e.total_steps
            return _run_started(e)
        if kind == "step":
            return _("step {step}/{total}  epoch {epoch:.2f}  loss {loss:.4f}  acc {accuracy:.1%}  "
                     "lr {lr:.2e}  {speed:.0f} img/s  ETA {eta}").format(
                step=e.step, total=self._total, epoch=e.epoch, loss=e.loss, accuracy=e.accuracy,
                lr=e.lr, speed=e.images_per_s, eta=_duration(e.eta_s))
        if kind == "evaluation":
            return _evaluation(e)
        if kind == "checkpoint":
            return "" if e.label == "last" else _checkpoint(e.label, e.path)
        if kind == "early_stopped":
            return _("Early stop after epoch {epoch}: no improvement for {patience} epoch(s); "
                     "the best was epoch {best}.").format(epoch=e.epoch, patience=e.patience,
                                                          best=e.best_epoch)
        if kind == "run_finished":
            return _run_finished(e)
        return ""


def _log_line(level: str, message: str) -> str:
    if level == "info":
        return message
    if level == "warning":
        return _("warning: {message}").format(message=message)
    if level == "error":
        return _("error: {message}").format(message=message)
    return f"{level}: {message}"


def _run_started(e) -> str:
    share = 100.0 * e.trainable_params / max(1, e.total_params)
    values = dict(classes=len(e.classes), train=e.num_train, val=e.num_val, test=e.num_test,
                  steps=e.total_steps, per_epoch=e.steps_per_epoch, start=e.start_step)
    if e.start_step:
        counts = _("{classes} classes; {train} train / {val} val / {test} test images; {steps} "
                   "steps ({per_epoch} per epoch), resuming at step {start}").format(**values)
    else:
        counts = _("{classes} classes; {train} train / {val} val / {test} test images; {steps} "
                   "steps ({per_epoch} per epoch)").format(**values)
    return "\n".join([
        _("Run folder: {path}").format(path=e.run_dir), counts,
        _("Device {device}, precision {precision}; training {trainable:,} of {total:,} "
          "parameters ({share:.2f} %)").format(device=e.device, precision=e.precision,
                                               trainable=e.trainable_params,
                                               total=e.total_params, share=share)])


# The splits' names inside a printed line (the event itself keeps "val" / "test").
_SPLITS = {"train": N_("train"), "val": N_("val"), "test": N_("test")}


def _evaluation(e) -> str:
    values = dict(split=_(_SPLITS[e.split]) if e.split in _SPLITS else e.split,
                  epoch=e.epoch, accuracy=e.accuracy, loss=e.loss)
    if e.zero_shot:
        line = _("{split} zero-shot: accuracy {accuracy:.1%}, loss {loss:.4f}").format(**values)
    elif e.split == "test":
        line = _("{split}: accuracy {accuracy:.1%}, loss {loss:.4f}").format(**values)
    else:
        line = _("{split} epoch {epoch}: accuracy {accuracy:.1%}, loss {loss:.4f}").format(
            **values)
    return line + (_("  (best so far)") if e.is_best else "")


def _checkpoint(label: str, path: str) -> str:
    if label == "best":
        return _("saved the best weights ({path})").format(path=path)
    if label == "final":
        return _("saved the final weights ({path})").format(path=path)
    return _("saved the {label} weights ({path})").format(label=label, path=path)


def _run_finished(e) -> str:
    if e.status == "failed":
        return _("Run failed: {error}").format(error=e.error)
    took = _duration(e.elapsed_s)
    if e.status == "completed":
        parts = [_("Run completed in {duration}.").format(duration=took)]
    elif e.status == "stopped":
        parts = [_("Run stopped in {duration}.").format(duration=took)]
    else:
        parts = [_("Run {status} in {duration}.").format(status=e.status, duration=took)]
    if e.best_val_accuracy is not None:
        parts.append(_("Best validation accuracy {accuracy:.1%} (epoch {epoch}).").format(
            accuracy=e.best_val_accuracy, epoch=e.best_epoch))
    if e.test_accuracy is not None:
        parts.append(_("Test accuracy {accuracy:.1%}.").format(accuracy=e.test_accuracy))
    parts.append(_("Run folder: {path}").format(path=e.run_dir))
    if e.status == "stopped":
        parts.append(_("Continue it with: {command}").format(
            command=f"python -m engine train --resume-from {e.run_dir}"))
    return " ".join(parts)


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _cmd_runs(args: argparse.Namespace) -> int:
    from engine.runs import list_runs

    folder = args.folder or "runs"
    runs = list_runs(folder, damaged=True)
    if not runs:
        print(_("No runs in {folder}.").format(folder=folder))
        return 0
    pct = lambda v: "-" if v is None else f"{v:.1%}"  # noqa: E731
    rows = [(_("name"), _("status"), _("method"), _("best val"), _("test"), _("created"),
             _("base model"))]
    rows += [(r.name, r.status, r.method, pct(r.best_val_accuracy), pct(r.test_accuracy),
              r.created, r.model_ref) for r in runs]
    widths = [max(columns(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(pad(str(v), w) for v, w in zip(row, widths)).rstrip())
    for r in runs:
        if r.problem:
            print(_("{name} is damaged: {problem}").format(name=os.path.basename(r.path),
                                                           problem=r.problem))
    return 0


