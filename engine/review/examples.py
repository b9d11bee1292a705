""""Why, by example": the training images of a run nearest to an image, embedded by the
run's own tower (LoRA merged), with their labels.

The training images are the run's own: the train split its split.json lists (read as JSON,
never the dataset folder as it is now). Their embeddings go through the embedding cache of
engine.review.sorting (per model and file content), so asking a second time embeds only a
new query image. Training images that are gone (a moved dataset) are said plainly; the rest
still answer.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from engine.errors import UserError
from engine.i18n import _

Progress = Callable[[str, int, int], None]  # (stage, done, total): hash, decode, embed


@dataclass
class TrainingImages:
    """The train split a run's split.json lists: the files still there, with labels."""

    paths: list[str]  # absolute, files that exist now
    labels: list[str]  # the class display name of each (the names the run predicts)
    listed: int  # how many training images the split lists
    missing: int  # how many of them are gone
    folder: str  # where the split says they are


@dataclass
class Examples:
    query: str
    neighbours: list[tuple[str, float, str]]  # (path, cosine similarity, label), nearest first
    note: str = ""  # something the user should know (missing images), in plain words
    source: str = ""  # what embedded them, in words
    failed: list[dict] = field(default_factory=list)  # training images that could not be read


def training_images(run_dir: str | os.PathLike) -> TrainingImages:
    """The training images of the run in `run_dir`, from its split.json."""
    from engine.data.index import listed_folder, listed_paths
    from engine.safe_read import read_json

    data = read_json(Path(run_dir) / "split.json")  # a damaged file: a plain DamagedRunError
    try:
        names = {c["folder"]: c["display_name"] for c in data["classes"]}
        rows = [(path, cls) for split, path, cls in listed_paths(data) if split == "train"]
        folder = listed_folder(data)
    except (KeyError, TypeError, AttributeError) as exc:
        raise UserError(_("{path} is not a LoRA Studio split.json (missing {what}): the run "
                          "folder is damaged. Train the run again, or restore the run folder "
                          "from a backup.").format(path=Path(run_dir) / "split.json",
                                                   what=exc)) from None
    there = [(p, names.get(c, c)) for p, c in rows if os.path.isfile(p)]
    return TrainingImages(paths=[p for p, _c in there], labels=[c for _p, c in there],
                          listed=len(rows), missing=len(rows) - len(there), folder=folder)


def missing_note(found: TrainingImages) -> str:
    """What to say about training images that are gone ('' when none is)."""
    if not found.missing:
        return ""
    if not found.paths:
        return _("The training images of this run are no longer in {folder}: all {total} files "
                 "its split.json lists are missing (was the dataset moved or renamed?). Put "
                 "them back there to see the nearest training images.").format(
            folder=found.folder, total=found.listed)
    return _("{gone} of the {total} training images are no longer in {folder} (was the dataset "
             "moved or renamed?); the nearest of the other {left} are shown.").format(
        gone=found.missing, total=found.listed, folder=found.folder, left=len(found.paths))


def nearest_training_images(run_dir: str | os.PathLike, query: str, k: int = 8, *,
                            device: str = "auto", precision: str = "auto",
                            embed_cache: str | os.PathLike | None = None,
                            progress: Progress | None = None,
                            cancel: Callable[[], bool] | None = None) -> Examples:
    """The `k` training images of the run nearest to the image file `query` (the query
    itself left out when it is one of them), embedded by the run's tower.

    Raises UserError when `query` is not a readable image; returns an Examples without
    neighbours, and a note saying why, when every training image is gone."""
    from engine.review.neighbours import centred, nearest
    from engine.review.sorting import embed_images
    from engine.safe_read import read_json

    query = os.path.abspath(query)
    if not os.path.isfile(query):
        raise UserError(_("{path} is not an image file that can be compared with the training "
                          "images.").format(path=query))
    found = training_images(run_dir)
    note = missing_note(found)
    if not found.paths:
        return Examples(query=query, neighbours=[], note=note)
    classes = [str(n) for n in read_json(Path(run_dir) / "run.json").get("class_names") or []]
    wanted = list(dict.fromkeys(found.paths + [query]))
    embedded = embed_images(wanted, classes, run_dir=str(run_dir), device=device,
                            precision=precision, embed_cache=embed_cache, progress=progress,
                            cancel=cancel)
    row = {p: i for i, p in enumerate(embedded.paths)}
    if query not in row:
        reason = next((f["reason"] for f in embedded.failed if f["path"] == query), "")
        raise UserError(_("{path} could not be read ({reason}), so it cannot be compared with "
                          "the training images.").format(path=query, reason=reason))
    train = [p for p in found.paths if p in row]
    label_of = dict(zip(found.paths, found.labels))
    vectors = embedded.vectors[[row[p] for p in train]] if train else embedded.vectors[:0]
    mean = vectors.mean(0) if train else None
    hits = nearest(centred(vectors, mean), train, centred(embedded.vectors[row[query]][None],
                                                         mean), k, exclude=query)
    failed = [f for f in embedded.failed if f["path"] != query]
    return Examples(query=query, neighbours=[(p, s, label_of[p]) for p, s in hits], note=note,
                    source=embedded.source, failed=failed)
