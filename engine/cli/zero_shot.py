"""Command line: `python -m engine zero-shot --model M --data DIR`.

CLIP's accuracy on a labelled dataset before any training (the baseline to beat), with
the head, split and preprocessing a training run starts from. Registered into
`python -m engine` by engine.cli.main (register_cli); heavy imports happen in the handler.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Callable

from engine.cli import checks
from engine.cli.checks import config_number, number
from engine.config import DEFAULT_MODEL, TrainConfig
from engine.i18n import N_, _, columns, pad

MAX_PROBLEMS_SHOWN = 20
_STAGES = {"scan": N_("checking images"), "download": N_("downloading the model"),
           "decode": N_("decoding images")}


def _help(name: str) -> str:
    """A TrainConfig field's help text plus its default (the same words as `train --help`)."""
    f = TrainConfig.__dataclass_fields__[name]
    return _("{help} (default: {default})").format(
        help=_(f.metadata["help"]), default=getattr(TrainConfig(), name)).replace("%", "%%")


def _progress() -> Callable[[str, int, int], None] | None:
    """A one-line counter per stage on stderr when it is a terminal (quiet in logs and pipes)."""
    if not sys.stderr.isatty():
        return None

    def show(stage: str, done: int, total: int) -> None:
        from engine.model.hub import describe_download

        end = "\n" if done >= total else ""
        amount = describe_download(done, total) if stage == "download" else f"{done}/{total}"
        print(f"\r{_(_STAGES.get(stage, stage))} {amount}", end=end, file=sys.stderr,
              flush=True)

    return show


def format_result(result) -> str:
    """The readable table: overall accuracy, then one line per class."""
    if result.split == "all":
        title = _("Zero-shot accuracy of {model} on all images of {data}")
    else:
        title = _("Zero-shot accuracy of {model} on the {split} split of {data}")
    lines = [title.format(model=result.model, split=result.split, data=result.data),
             _("  overall: {accuracy:.1%} ({images} images, {classes} classes, {device}, "
               "{precision})").format(accuracy=result.accuracy, images=result.num_images,
                                      classes=len(result.classes), device=result.device,
                                      precision=result.precision), ""]
    heads = (_("class"), _("accuracy"), _("images"))
    width = max([columns(c) for c in result.classes] + [columns(heads[0])])
    cols = (width, max(8, columns(heads[1])), max(6, columns(heads[2])))
    lines.append("  " + "  ".join(pad(h, w, right=i > 0)
                                  for i, (h, w) in enumerate(zip(heads, cols))))
    for name in result.classes:
        acc = result.per_class.get(name)
        shown = f"{acc:.1%}" if acc is not None else "-"
        row = (name, shown, str(result.counts.get(name, 0)))
        lines.append("  " + "  ".join(pad(v, w, right=i > 0)
                                      for i, (v, w) in enumerate(zip(row, cols))))
    return "\n".join(lines)


def _warn_problems(problems: list[dict]) -> None:
    for p in problems[:MAX_PROBLEMS_SHOWN]:
        print(_("warning: {path}: {reason}").format(path=p["path"], reason=p["reason"]),
              file=sys.stderr)
    if len(problems) > MAX_PROBLEMS_SHOWN:
        print(_("warning: ... and {count} more problems (see `python -m engine scan`)").format(
            count=len(problems) - MAX_PROBLEMS_SHOWN), file=sys.stderr)


def _cmd_zero_shot(args: argparse.Namespace) -> int:
    from engine.training.zero_shot import zero_shot_accuracy

    result = zero_shot_accuracy(
        args.model, args.data, args.split, val_fraction=args.val_fraction,
        test_fraction=args.test_fraction, seed=args.seed, device=args.device,
        precision=args.precision, batch_size=args.batch_size, num_threads=args.threads,
        progress=None if args.json else _progress())
    _warn_problems(result.problems)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(format_result(result))
    return 0


def register_cli(sub: argparse._SubParsersAction) -> None:
    from engine.training.zero_shot import SPLIT_CHOICES

    defaults = TrainConfig()
    p = sub.add_parser(
        "zero-shot", help=_("Measure CLIP's accuracy on a labelled dataset without training "
                            "(the baseline a fine-tuned run should beat)."),
        description=_("Score the base model's zero-shot head (its text embeddings of the class "
                      "names) on a dataset split: the same head, split and preprocessing a "
                      "training run starts from, so the result equals that run's step-0 "
                      "validation accuracy. Example: {example}").format(
            example=f"python -m engine zero-shot --model {DEFAULT_MODEL} --data photos/ "
                    "--split val"))
    p.add_argument("--model", default=DEFAULT_MODEL, type=checks.model_ref, help=_help("model"))
    p.add_argument("--data", required=True, metavar="DIR", type=checks.dataset,
                   help=_("folder of labelled images (class folders, train/val/test folders, "
                          "the Stanford Dogs 'Images' folder, or a CSV of path,label)"))
    p.add_argument("--split", default="val", choices=SPLIT_CHOICES,
                   help=_("which images to score: the val, test or train split, or all images "
                          "(default: val)"))
    p.add_argument("--val-fraction", type=config_number("val_fraction"), default=None,
                   help=_help("val_fraction"))
    p.add_argument("--test-fraction", type=config_number("test_fraction"), default=None,
                   help=_help("test_fraction"))
    p.add_argument("--seed", type=config_number("split_seed"), default=None,
                   help=_help("split_seed"))
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"],
                   help=_("where to compute: auto picks cuda, then mps, then cpu (default: "
                          "auto)"))
    p.add_argument("--precision", default="auto", choices=["auto", "bf16", "fp16", "fp32"],
                   help=_("number format: auto uses bf16 where the CPU/GPU computes it "
                          "natively, fp16 on older GPUs, fp32 otherwise, as training does "
                          "(default: auto)"))
    p.add_argument("--batch-size", type=number(int, 1, 4096), default=None,
                   help=_("images per forward pass (default: {size}, as training)").format(
                       size=defaults.batch_size))
    p.add_argument("--threads", type=number(int, 0, 1024), default=0,
                   help=_("CPU threads for torch (default: 0 = all cores, as training)"))
    p.add_argument("--json", action="store_true",
                   help=_("print the result as JSON (overall and per-class accuracy, image "
                          "counts, skipped files) instead of a table"))
    p.set_defaults(func=_cmd_zero_shot)
