"""Command line: `python -m engine train ...` and `python -m engine runs [FOLDER]`.

Every TrainConfig field is an option (same help text as the GUI's tooltips); --config
reads a JSON/YAML file first and options given on the command line override it.
Ctrl-C stops gracefully: the run saves its checkpoint and ends as "stopped"; a second
Ctrl-C aborts at once.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import time
from pathlib import Path

from engine.config import PRESETS, TrainConfig, add_arguments, from_args
from engine.errors import UserError

EXIT_FAILED = 1
EXIT_STOPPED = 130  # like a shell's Ctrl-C, but the run folder is complete and resumable


def register_cli(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train", help="Fine-tune CLIP (LoRA or linear probe) into a classifier of a dataset folder.",
        description="Train a classifier. Example: python -m engine train --data-dir photos/ "
                    "--model openai/clip-vit-base-patch32 --epochs 5")
    p.add_argument("--config", metavar="FILE",
                   help="JSON or YAML file of settings; options given here override it")
    p.add_argument("--preset", choices=sorted(PRESETS), metavar="NAME",
                   help="start from a named preset, applied before --config and options: " +
                        ", ".join(f"'{name}'" for name in PRESETS))
    p.add_argument("--json", action="store_true", help="print every event as one JSON line")
    add_arguments(p)
    p.set_defaults(func=_cmd_train)

    r = sub.add_parser("runs", help="List the training runs in a folder, newest first.")
    r.add_argument("folder", nargs="?", default="runs", help="folder of runs (default: runs)")
    r.set_defaults(func=_cmd_runs)


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """Preset, then --config file, then command-line options (last one wins)."""
    config = TrainConfig()
    if args.preset:
        config = config.replace(**PRESETS[args.preset])
    if args.config:
        data = _read_mapping(Path(args.config))
        try:
            loaded = TrainConfig.from_dict(data)  # coerces types, ignores unknown keys
        except (TypeError, ValueError) as exc:
            raise UserError(f"The config file {args.config} has a wrong value: {exc}") from None
        known = {k for k in data if k in loaded.to_dict()}
        config = config.replace(**{k: getattr(loaded, k) for k in known})
    config = from_args(args, config)
    if not config.data_dir and not config.resume_from:
        raise UserError("Say which images to train on: --data-dir FOLDER (or a CSV of path,label), "
                        "or --resume-from RUN_FOLDER to continue a run.")
    return config


def _read_mapping(path: Path) -> dict:
    """The settings of a JSON/YAML config file (only the keys it sets)."""
    if not path.is_file():
        raise UserError(f"The config file {path} does not exist.")
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text) or {}
        else:
            data = json.loads(text)
    except Exception as exc:  # syntax errors, unreadable file
        raise UserError(f"Cannot read the config file {path}: {exc}") from None
    if not isinstance(data, dict):
        raise UserError(f"The config file {path} must hold a mapping of settings.")
    return data


@contextlib.contextmanager
def _ctrl_c_stops(control):
    """Ctrl-C (or SIGTERM) asks the run to stop and save; a second Ctrl-C aborts at once."""
    def handler(signum, frame):
        if control.stop_requested:
            raise KeyboardInterrupt
        control.stop()
        print("\nStopping after this step and saving a checkpoint (Ctrl-C again to abort)...",
              file=sys.stderr, flush=True)

    signals = [signal.SIGINT] + ([signal.SIGTERM] if hasattr(signal, "SIGTERM") else [])
    try:
        previous = {s: signal.signal(s, handler) for s in signals}
    except ValueError:  # not the main thread: leave the signals alone
        yield
        return
    try:
        yield
    finally:
        for s, old in previous.items():
            signal.signal(s, old)


def _cmd_train(args: argparse.Namespace) -> int:
    from engine.training.control import TrainControl
    from engine.training.loop import train

    config = config_from_args(args)
    if config.resume_from:
        from engine.model.checkpoint import check_resume

        check_resume(config.resume_from)  # a damaged run folder: one plain error, exit 2
    show = os.environ.get("RANK", "0") == "0"  # under torchrun only the first process prints
    printer = EventPrinter(as_json=args.json)
    control = TrainControl()
    finished = None
    with _ctrl_c_stops(control):
        for event in train(config, control):
            if show:
                printer.print(event)
            if event.kind == "run_finished":
                finished = event
    if finished is None or finished.status == "failed":
        return EXIT_FAILED
    return EXIT_STOPPED if finished.status == "stopped" else 0


class EventPrinter:
    """Events as short readable lines (or JSON lines)."""

    def __init__(self, as_json: bool = False, out=None):
        self.as_json = as_json
        self.out = out or sys.stdout
        self._total = 0
        self._last_progress = 0.0

    def print(self, event) -> None:
        if self.as_json:
            print(json.dumps(event.to_dict(), sort_keys=True), file=self.out, flush=True)
            return
        line = self.format(event)
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
            return f"{e.message or e.stage}: {e.done}/{e.total}"
        if kind == "log":
            return e.message if e.level == "info" else f"{e.level}: {e.message}"
        if kind == "run_started":
            self._total = e.total_steps
            share = 100.0 * e.trainable_params / max(1, e.total_params)
            resumed = f", resuming at step {e.start_step}" if e.start_step else ""
            return (f"Run folder: {e.run_dir}\n{len(e.classes)} classes; {e.num_train} train / "
                    f"{e.num_val} val / {e.num_test} test images; {e.total_steps} steps "
                    f"({e.steps_per_epoch} per epoch){resumed}\nDevice {e.device}, precision "
                    f"{e.precision}; training {e.trainable_params:,} of {e.total_params:,} "
                    f"parameters ({share:.2f} %)")
        if kind == "step":
            return (f"step {e.step}/{self._total}  epoch {e.epoch:.2f}  loss {e.loss:.4f}  "
                    f"acc {e.accuracy:.1%}  lr {e.lr:.2e}  {e.images_per_s:.0f} img/s  "
                    f"ETA {_duration(e.eta_s)}")
        if kind == "evaluation":
            label = "zero-shot" if e.zero_shot else "" if e.split == "test" else f"epoch {e.epoch}"
            best = "  (best so far)" if e.is_best else ""
            return (f"{e.split}{' ' + label if label else ''}: accuracy {e.accuracy:.1%}, "
                    f"loss {e.loss:.4f}{best}")
        if kind == "checkpoint":
            return "" if e.label == "last" else f"saved the {e.label} weights ({e.path})"
        if kind == "early_stopped":
            return (f"Early stop after epoch {e.epoch}: no improvement for {e.patience} "
                    f"epoch(s); the best was epoch {e.best_epoch}.")
        if kind == "run_finished":
            if e.status == "failed":
                return f"Run failed: {e.error}"
            parts = [f"Run {e.status} in {_duration(e.elapsed_s)}."]
            if e.best_val_accuracy is not None:
                parts.append(f"Best validation accuracy {e.best_val_accuracy:.1%} "
                             f"(epoch {e.best_epoch}).")
            if e.test_accuracy is not None:
                parts.append(f"Test accuracy {e.test_accuracy:.1%}.")
            parts.append(f"Run folder: {e.run_dir}")
            if e.status == "stopped":
                parts.append(f"Continue it with: python -m engine train --resume-from {e.run_dir}")
            return " ".join(parts)
        return ""


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _cmd_runs(args: argparse.Namespace) -> int:
    from engine.runs import list_runs

    runs = list_runs(args.folder, damaged=True)
    if not runs:
        print(f"No runs in {args.folder}.")
        return 0
    pct = lambda v: "-" if v is None else f"{v:.1%}"  # noqa: E731
    rows = [("name", "status", "method", "best val", "test", "created", "base model")]
    rows += [(r.name, r.status, r.method, pct(r.best_val_accuracy), pct(r.test_accuracy),
              r.created, r.model_ref) for r in runs]
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip())
    for r in runs:
        if r.problem:
            print(f"{os.path.basename(r.path)} is damaged: {r.problem}")
    return 0
