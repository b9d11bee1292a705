"""Command line: `python -m engine map DATA_DIR --output map.csv [--model M | --run RUN_DIR]`.

Embeds every image of a labelled dataset or of an unsorted folder and writes its 2-D map
(path,x,y,label; label empty for an unsorted folder). Registered into `python -m engine`
by engine.cli.main; heavy imports happen in the handler.
"""
from __future__ import annotations

import argparse
import sys

from engine.cli import checks
from engine.cli.checks import number
from engine.config import DEFAULT_MODEL
from engine.i18n import _


def _progress():
    if not sys.stderr.isatty():
        return None
    words = {"scan": _("checking files"), "decode": _("decoding images"),
             "embed": _("embedding"), "neighbours": _("finding each image's neighbours"),
             "layout": _("laying out the map")}

    def show(stage: str, done: int, total: int) -> None:
        word = words.get(stage, stage)
        if total <= 0:
            print(f"\r{word}…", file=sys.stderr, flush=True)
            return
        end = "\n" if done >= total else ""
        print(f"\r{word} {done}/{total}", end=end, file=sys.stderr, flush=True)

    return show


def _check_output(data: str, output: str) -> None:
    """The map never goes into the folder it maps (nor over the dataset's CSV): the user's
    images stay exactly as they were."""
    from pathlib import Path

    from engine.errors import UserError

    source, out = Path(data).expanduser().resolve(), Path(output).expanduser().resolve()
    if out == source or (source.is_dir() and source in out.parents):
        raise UserError(_("--output {path} is inside the folder being mapped, which is never "
                          "changed: write it elsewhere.").format(path=output))


def _cmd_map(args: argparse.Namespace) -> int:
    from engine.data.shards import start
    from engine.review.map import compute_map
    from engine.review.map_points import map_points, write_map_csv

    _check_output(args.data, args.output)
    shards = start(args.device)  # None: one process (not under torchrun / accelerate launch)
    progress = _progress() if shards is None or shards.first else None
    points = map_points(args.data, model_ref=None if args.run else args.model or DEFAULT_MODEL,
                        run_dir=args.run, device=args.device, progress=progress)
    if points is None:  # another process of the launch: it embedded its share, the first maps
        return 0
    xy = compute_map(points.vectors, method=args.method, seed=args.seed, progress=progress)
    write_map_csv(args.output, points.paths, xy, points.labels)
    for f in points.failed[:20]:
        print(_("warning: {path}: {reason}").format(path=f["path"], reason=f["reason"]),
              file=sys.stderr)
    print(_("{n} images mapped ({method}, embeddings from {source}): {path}").format(
        n=len(points.paths), method=args.method, source=points.source, path=args.output))
    return 0


def register_cli(sub: argparse._SubParsersAction) -> None:
    from engine.review.map import METHODS

    p = sub.add_parser(
        "map", help=_("Write a 2-D map of every image's embedding (path,x,y,label) for a "
                      "labelled dataset or an unsorted folder (the folder is only read)."),
        description=_("Embeds every image with the base model (or a run's fine-tuned model) "
                      "and places similar images near each other: t-SNE started from PCA, or "
                      "PCA alone. A folder without class folders is mapped whole, without "
                      "labels."))
    p.add_argument("data", metavar="DATA_DIR", type=checks.dataset,
                   help=_("dataset folder, a CSV of path,label, or a folder of unsorted images"))
    p.add_argument("--output", required=True, metavar="MAP.csv",
                   type=checks.writable_file((".csv",)),
                   help=_("CSV file to write: path,x,y,label (x and y between -1 and 1)"))
    model = p.add_mutually_exclusive_group()
    model.add_argument("--run", default=None, metavar="RUN_DIR", type=checks.run_folder,
                       help=_("embed with this trained run's fine-tuned model instead of the "
                              "base model"))
    model.add_argument("--model", default=None, type=checks.model_ref,
                       help=_("base model for the embeddings without --run (default: "
                              "{model})").format(model=DEFAULT_MODEL))
    p.add_argument("--method", default="tsne", choices=list(METHODS),
                   help=_("tsne: similar images form clusters (about 20 s for 20,000 images on "
                          "2 cores); pca: instant, but clusters overlap (default: tsne)"))
    p.add_argument("--seed", type=number(int, 0), default=0,
                   help=_("seed of the layout: the same seed gives the same map (default 0)"))
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"],
                   help=_("where to compute the embeddings (default: auto)"))
    p.set_defaults(func=_cmd_map)
