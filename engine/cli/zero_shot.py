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

from engine.config import DEFAULT_MODEL, TrainConfig

MAX_PROBLEMS_SHOWN = 20
_STAGES = {"scan": "checking images", "download": "downloading the model",
           "decode": "decoding images"}


def _help(name: str) -> str:
    """A TrainConfig field's help text plus its default (the same words as `train --help`)."""
    f = TrainConfig.__dataclass_fields__[name]
    return (f.metadata["help"] + f" (default: {getattr(TrainConfig(), name)})").replace("%", "%%")


def _progress() -> Callable[[str, int, int], None] | None:
    """A one-line counter per stage on stderr when it is a terminal (quiet in logs and pipes)."""
    if not sys.stderr.isatty():
        return None

    def show(stage: str, done: int, total: int) -> None:
        end = "\n" if done >= total else ""
        print(f"\r{_STAGES.get(stage, stage)} {done}/{total}", end=end, file=sys.stderr,
              flush=True)

    return show


def format_result(result) -> str:
    """The readable table: overall accuracy, then one line per class."""
    what = "all images" if result.split == "all" else f"the {result.split} split"
    lines = [f"Zero-shot accuracy of {result.model} on {what} of {result.data}",
             f"  overall: {result.accuracy:.1%} ({result.num_images} images, "
             f"{len(result.classes)} classes, {result.device}, {result.precision})", ""]
    width = max([len(c) for c in result.classes] + [5])
    lines.append(f"  {'class':<{width}}  {'accuracy':>8}  {'images':>6}")
    for name in result.classes:
        acc = result.per_class.get(name)
        shown = f"{acc:.1%}" if acc is not None else "-"
        lines.append(f"  {name:<{width}}  {shown:>8}  {result.counts.get(name, 0):>6}")
    return "\n".join(lines)


def _warn_problems(problems: list[dict]) -> None:
    for p in problems[:MAX_PROBLEMS_SHOWN]:
        print(f"warning: {p['path']}: {p['reason']}", file=sys.stderr)
    if len(problems) > MAX_PROBLEMS_SHOWN:
        print(f"warning: ... and {len(problems) - MAX_PROBLEMS_SHOWN} more problems "
              "(see `python -m engine scan`)", file=sys.stderr)


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
        "zero-shot", help="Measure CLIP's accuracy on a labelled dataset without training "
                          "(the baseline a fine-tuned run should beat).",
        description="Score the base model's zero-shot head (its text embeddings of the class "
                    "names) on a dataset split: the same head, split and preprocessing a "
                    "training run starts from, so the result equals that run's step-0 "
                    "validation accuracy. Example: python -m engine zero-shot --model "
                    f"{DEFAULT_MODEL} --data photos/ --split val")
    p.add_argument("--model", default=DEFAULT_MODEL, help=_help("model"))
    p.add_argument("--data", required=True, metavar="DIR",
                   help="folder of labelled images (class folders, train/val/test folders, "
                        "the Stanford Dogs 'Images' folder, or a CSV of path,label)")
    p.add_argument("--split", default="val", choices=SPLIT_CHOICES,
                   help="which images to score: the val, test or train split, or all images "
                        "(default: val)")
    p.add_argument("--val-fraction", type=float, default=None, help=_help("val_fraction"))
    p.add_argument("--test-fraction", type=float, default=None, help=_help("test_fraction"))
    p.add_argument("--seed", type=int, default=None, help=_help("split_seed"))
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"],
                   help="where to compute: auto picks cuda, then mps, then cpu (default: auto)")
    p.add_argument("--precision", default="auto", choices=["auto", "bf16", "fp16", "fp32"],
                   help="number format: auto uses bf16 where the CPU/GPU computes it natively, "
                        "fp16 on older GPUs, fp32 otherwise, as training does (default: auto)")
    p.add_argument("--batch-size", type=int, default=None,
                   help=f"images per forward pass (default: {defaults.batch_size}, as training)")
    p.add_argument("--threads", type=int, default=0,
                   help="CPU threads for torch (default: 0 = all cores, as training)")
    p.add_argument("--json", action="store_true",
                   help="print the result as JSON (overall and per-class accuracy, image "
                        "counts, skipped files) instead of a table")
    p.set_defaults(func=_cmd_zero_shot)
