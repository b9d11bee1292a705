"""`python -m engine train ... --find-lr`: the learning-rate finder from the command line.

It trains nothing and creates no run folder. It prints a short summary of the curve and a
line `suggested learning rate: X` (X a plain float; `none` when the loss never fell), and
writes a small report (JSON + PNG) next to the --config file, else in --output-dir. With
--json, stdout holds exactly one JSON object (the curve and the suggestion); progress goes
to stderr. Exit codes: 0 with a suggestion, 1 without one, 2 bad input, 130 stopped.
"""
from __future__ import annotations

import json
import sys
import time

from engine.cli import checks
from engine.config import TrainConfig
from engine.errors import UserError
from engine.i18n import _

EXIT_NO_SUGGESTION = 1
EXIT_STOPPED = 130
SUMMARY_ROWS = 8  # points of the curve printed in the summary


def add_option(parser) -> None:
    parser.add_argument("--find-lr", action="store_true", help=_(
        "do not train: run a short learning-rate range test on a throw-away copy of the model, "
        "print the suggested learning rate (LoRA's --lr, the head's --head-lr for the linear "
        "probe) and write a small report next to the --config file (else in --output-dir); with --json, "
        "the curve and the suggestion as one JSON object"))


def run(args, config: TrainConfig, ctrl_c_stops) -> int:
    """The --find-lr command (engine.cli.train hands over here before any training)."""
    from engine.training.control import TrainControl
    from engine.training.lr_finder import find_lr, run_to_end
    from engine.training.lr_report import report_paths, write_report

    json_path, png_path = report_paths(args.config, config.output_dir, config.data_dir)
    problem = checks.folder_problem(json_path.parent)
    if problem:
        raise UserError(_("The report cannot be written to {folder}: {problem}").format(
            folder=json_path.parent, problem=problem))
    log = sys.stderr if args.json else sys.stdout
    printer = _Progress(log)
    control = TrainControl()
    with ctrl_c_stops(control):
        result = run_to_end(find_lr(config, control), printer.show)
    if result.status == "stopped":
        print(_("Stopped: no learning rate was suggested."), file=sys.stderr)
        return EXIT_STOPPED
    write_report(result, json_path, png_path, {"model": config.model, "data_dir": config.data_dir})
    if args.json:
        data = {**result.to_dict(), "report": str(json_path), "plot": str(png_path)}
        print(json.dumps(data, sort_keys=True), flush=True)
    else:
        for line in summary_lines(result):
            print(line)
        print(_("Report: {json} and {png}").format(json=json_path, png=png_path))
        suggested = "none" if result.suggested_lr is None else f"{result.suggested_lr:.3g}"
        print(f"suggested learning rate: {suggested}", flush=True)  # fixed words: for scripts
        if result.suggested_lr is not None:
            print(_("Train with it: add --{option} {lr:.3g} to the same command, without "
                    "--find-lr.").format(option=result.field.replace("_", "-"),
                                         lr=result.suggested_lr))
    return 0 if result.suggested_lr is not None else EXIT_NO_SUGGESTION


def summary_lines(result) -> list[str]:
    """A few points of the curve (LR, loss, smoothed loss) and how the test ended."""
    n = len(result.lrs)
    if n == 0:
        return []
    picks = sorted({round(i * (n - 1) / (SUMMARY_ROWS - 1)) for i in range(SUMMARY_ROWS)})
    lines = [_("{lr:>10}  {loss:>8}  {smoothed:>8}").format(
        lr=_("LR"), loss=_("loss"), smoothed=_("smoothed"))]
    lines += [f"{result.lrs[i]:>10.2e}  {result.losses[i]:>8.4f}  {result.smoothed[i]:>8.4f}"
              for i in picks]
    if result.status == "diverged":
        lines.append(_("The loss diverged at {lr:.2e}: the test stopped there, after {steps} "
                       "steps ({seconds:.0f} s).").format(lr=result.lrs[-1], steps=n,
                                                          seconds=result.elapsed_s))
    else:
        lines.append(_("{steps} steps up to {lr:.2e} ({seconds:.0f} s).").format(
            steps=n, lr=result.lrs[-1], seconds=result.elapsed_s))
    return lines


class _Progress:
    """Progress and log events as occasional lines (every 2 s at most)."""

    def __init__(self, out) -> None:
        self.out, self.last = out, 0.0

    def show(self, event) -> None:
        if event.kind == "progress":
            now = time.monotonic()
            if event.done < event.total and now - self.last < 2.0:
                return
            self.last = now
            print(f"{event.message or event.stage}: {event.done}/{event.total}", file=self.out,
                  flush=True)
        elif event.kind == "log" and not event.message.startswith("Traceback"):
            prefix = "" if event.level == "info" else f"{event.level}: "
            print(prefix + event.message, file=self.out, flush=True)
