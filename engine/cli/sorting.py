"""Command line: `python -m engine sort-images DIR --classes "a,b,c" --output proposals.csv`.

Proposes a class for every image of an unsorted folder (engine.review.proposals) and
writes one row per image; the folder itself is only read. Registered into
`python -m engine` by engine.cli.main; heavy imports happen in the handler.
"""
from __future__ import annotations

import argparse
import csv
import os
import sys
from pathlib import Path

from engine.cli import checks
from engine.cli.checks import number
from engine.config import DEFAULT_MODEL
from engine.errors import UserError
from engine.i18n import _


def parse_classes(text: str) -> list[str]:
    """Class names from "a, b, c" or one per line; at least 2, no repeats."""
    names = [" ".join(n.split()) for n in text.replace("\n", ",").split(",")]
    names = [n for n in names if n]
    if len(names) < 2:
        raise UserError(_("Name at least 2 classes (given: {n}).").format(n=len(names)))
    seen = set()
    for n in names:
        if n.casefold() in seen:
            raise UserError(_("The class '{name}' is named twice.").format(name=n))
        seen.add(n.casefold())
    return names


def _classes(args: argparse.Namespace) -> list[str]:
    if args.classes_file:
        try:
            return parse_classes(Path(args.classes_file).read_text(encoding="utf-8-sig"))
        except UnicodeDecodeError:
            raise UserError(_("--classes-file {path} is not a text file of class names.").format(
                path=args.classes_file)) from None
    return parse_classes(args.classes)


def _examples(folder: str, classes: list[str]) -> dict[str, int]:
    """{image path: class index} of a folder-per-class set of confirmed examples."""
    from engine.review.sorted_output import class_folder
    from engine.review.sorting import list_images

    by_name = {class_folder(c).casefold(): i for i, c in enumerate(classes)}
    by_name.update({c.casefold(): i for i, c in enumerate(classes)})
    found = {}
    for sub in sorted(Path(folder).iterdir()):
        if not sub.is_dir() or sub.name.startswith("."):
            continue
        if sub.name.casefold() not in by_name:
            raise UserError(_("--examples: the folder '{name}' is not one of the classes "
                              "({classes}).").format(name=sub.name, classes=", ".join(classes)))
        found.update({p: by_name[sub.name.casefold()] for p in list_images(sub)})
    if not found:
        raise UserError(_("--examples {path} holds no images in class folders.").format(
            path=folder))
    return found


def _progress():
    if not sys.stderr.isatty():
        return None
    words = {"hash": _("reading files"), "decode": _("decoding images"),
             "embed": _("embedding")}

    def show(stage: str, done: int, total: int) -> None:
        end = "\n" if done >= total else ""
        print(f"\r{words.get(stage, stage)} {done}/{total}", end=end, file=sys.stderr, flush=True)

    return show


def _cmd_sort_images(args: argparse.Namespace) -> int:
    from engine.review.proposals import propose
    from engine.review.sorting import embed_images, list_images

    classes = _classes(args)
    source = Path(args.folder).resolve()
    out = Path(args.output).resolve()
    if source in out.parents:
        raise UserError(_("--output {path} is inside the folder being sorted, which is never "
                          "changed: write it elsewhere.").format(path=args.output))
    examples = _examples(args.examples, classes) if args.examples else {}
    taught = {os.path.realpath(p) for p in examples}  # examples inside DIR are not sorted
    images = [p for p in list_images(args.folder) if os.path.realpath(p) not in taught]
    if not images:
        raise UserError(_("{path} holds no images to sort.").format(path=args.folder))
    emb = embed_images(images + sorted(examples), classes, model_ref=args.model or DEFAULT_MODEL,
                       run_dir=args.run, device=args.device, progress=_progress())
    row_of = {p: i for i, p in enumerate(emb.paths)}
    confirmed = {row_of[p]: c for p, c in examples.items() if p in row_of}
    result = propose(emb.vectors, confirmed, len(classes), head=emb.head)
    best, p1, second, p2 = result.top2()
    header = ["path", "proposed", "confidence", "second", "second_confidence"]
    if args.accept_above is not None:
        header.append("accepted")
    written = accepted = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            for p in images:
                if p not in row_of:
                    continue
                i = row_of[p]
                row = [p, classes[best[i]], f"{p1[i]:.4f}", classes[second[i]], f"{p2[i]:.4f}"]
                if args.accept_above is not None:
                    ok = p1[i] >= args.accept_above
                    accepted += ok
                    row.append("yes" if ok else "no")
                writer.writerow(row)
                written += 1
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    for f in emb.failed[:20]:
        print(_("warning: {path}: {reason}").format(path=f["path"], reason=f["reason"]),
              file=sys.stderr)
    score = result.scores.get(result.method)
    method = {"zero-shot": _("the run's trained head") if args.run else _("the zero-shot head"),
              "prototypes": _("the class prototypes of your examples"),
              "probe": _("a linear probe on your examples")}[result.method]
    how = _("{method}, right on {score:.0%} of the examples it did not see").format(
        method=method, score=score) if score is not None else method
    print(_("{n} images: proposals from {how}; written to {path}").format(
        n=written, how=how, path=out))
    if args.accept_above is not None:
        print(_("{k} of {n} at or above {p:g} marked accepted").format(
            k=accepted, n=written, p=args.accept_above))
    return 0


def register_cli(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sort-images", help=_("Propose a class for every image of an unsorted folder (the "
                              "folder is only read)."),
        description=_("Embeds every image (cached, so a second run costs nothing) and proposes "
                      "a class with a calibrated confidence: from the model's zero-shot head, "
                      "or from your examples (class prototypes or a linear probe, whichever "
                      "predicts the examples it did not see better)."))
    p.add_argument("folder", metavar="DIR", type=checks.existing_folder,
                   help=_("the folder of unsorted images (sub-folders included)"))
    names = p.add_mutually_exclusive_group(required=True)
    names.add_argument("--classes", default=None,
                       help=_("the class names, separated by commas: \"rose,tulip,fern\""))
    names.add_argument("--classes-file", default=None, metavar="F", type=checks.existing_file,
                       help=_("a text file with one class name per line"))
    model = p.add_mutually_exclusive_group()
    model.add_argument("--model", default=None, type=checks.model_ref,
                       help=_("base model that embeds and names the images (default: "
                              "{model})").format(model=DEFAULT_MODEL))
    model.add_argument("--run", default=None, metavar="RUN_DIR", type=checks.run_folder,
                       help=_("embed with this trained run's model instead; its head "
                              "proposes when it was trained on every class named"))
    p.add_argument("--examples", default=None, metavar="LABELLED_DIR",
                   type=checks.existing_folder,
                   help=_("a folder with one sub-folder of confirmed images per class (named "
                          "as the classes): they teach the prototypes and the probe"))
    p.add_argument("--accept-above", default=None, metavar="P", type=number(float, 0.0, 1.0),
                   help=_("add an 'accepted' column: yes where the confidence is at least P "
                          "(0 to 1)"))
    p.add_argument("--output", required=True, metavar="proposals.csv",
                   type=checks.writable_file((".csv",)),
                   help=_("the CSV to write: path, proposed, confidence, second, "
                          "second_confidence"))
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"],
                   help=_("where to compute (default: auto)"))
    p.set_defaults(func=_cmd_sort_images)
