"""Command line: `python -m engine check-labels DATA_DIR [--run RUN_DIR]`.

Finds likely label mistakes (cleanlab over cross-validated probabilities) and
near-duplicate images (across splits first) and writes the report. Registered into
`python -m engine` by engine.cli.main; heavy imports happen in the handler.
"""
from __future__ import annotations

import argparse
import json
import sys

from engine.cli import checks
from engine.cli.checks import number
from engine.config import DEFAULT_MODEL
from engine.i18n import _


def _progress():
    if not sys.stderr.isatty():
        return None
    words = {"scan": _("checking files"), "decode": _("decoding images"),
             "embed": _("embedding"), "probe": _("cross-validating the probe (folds)"),
             "rank": _("ranking likely label mistakes"),
             "duplicates": _("finding near-duplicates"), "report": _("writing the report")}

    def show(stage: str, done: int, total: int) -> None:
        word = words.get(stage, stage)
        if total <= 0:  # a phase whose length is unknown: its words only
            print(f"\r{word}…", file=sys.stderr, flush=True)
            return
        end = "\n" if done >= total else ""
        print(f"\r{word} {done}/{total}", end=end, file=sys.stderr, flush=True)

    return show


def _cmd_check_labels(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from engine.data.shards import start
    from engine.review.check import check_dataset, default_report_dir

    shards = start(args.device)  # None: one process (not under torchrun / accelerate launch)
    first = shards is None or shards.first
    if not args.output:  # where the report will go, before hours of embedding
        checks.require_writable(default_report_dir(args.data, args.run),
                                _("Choose where the report goes with --output DIR."))
    report = check_dataset(args.data, model_ref=None if args.run else args.model,
                           run_dir=args.run, output=args.output, threshold=args.threshold,
                           folds=args.folds, device=args.device,
                           progress=None if args.json or not first else _progress())
    if report is None:  # another process of the launch: it embedded its share, the first reports
        return 0
    for f in report.failed[:20]:
        print(_("warning: {path}: {reason}").format(path=f["path"], reason=f["reason"]),
              file=sys.stderr)
    print(json.dumps(asdict(report), indent=2, ensure_ascii=False) if args.json
          else report.summary())
    return 0


def register_cli(sub: argparse._SubParsersAction) -> None:
    from engine.review import DEFAULT_THRESHOLD

    p = sub.add_parser(
        "check-labels", help=_("Find likely label mistakes and near-duplicate images in a "
                               "dataset (the folder is only read)."),
        description=_("Cross-validates a linear probe on the images' embeddings, hands its "
                      "out-of-sample probabilities to cleanlab, and compares embeddings to "
                      "find near-duplicates (the same photo in train and test first). Writes "
                      "data_check.json, label_issues.csv and near_duplicates.csv."))
    p.add_argument("data", metavar="DATA_DIR", type=checks.dataset,
                   help=_("dataset folder (class folders, train/val/test folders, Stanford "
                          "Dogs 'Images') or a CSV of path,label"))
    p.add_argument("--run", default=None, metavar="RUN_DIR", type=checks.run_folder,
                   help=_("embed with this trained run's fine-tuned model instead of the base "
                          "model (its features know your classes better)"))
    p.add_argument("--model", default=DEFAULT_MODEL, type=checks.model_ref,
                   help=_("base model for the embeddings without --run (default: "
                          "{model})").format(model=DEFAULT_MODEL))
    p.add_argument("--output", default=None, metavar="DIR", type=checks.writable_folder,
                   help=_("report folder (default: RUN_DIR/data_check with --run, else the "
                          "app's data folder, reports/<dataset>-<date>)"))
    p.add_argument("--threshold", type=number(float, 0.0, 1.0), default=DEFAULT_THRESHOLD,
                   help=_("cosine similarity of the (centred) embeddings from which two images "
                          "are near-duplicate candidates; their thumbnails must match too "
                          "(default: {threshold})").format(threshold=DEFAULT_THRESHOLD))
    p.add_argument("--folds", type=number(int, 2, 20), default=5,
                   help=_("cross-validation folds of the probe (2 to 20, default: 5)"))
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"],
                   help=_("where to compute (default: auto)"))
    p.add_argument("--json", action="store_true", help=_("print the whole report as JSON"))
    p.set_defaults(func=_cmd_check_labels)
