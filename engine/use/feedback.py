"""Feedback from predictions: the user says a prediction was right, or wrong and what the
right class is, and the image becomes a new label of the run, for the next run to train on.

- The new labels are a CSV dataset beside the run, `<runs folder>/<run name>-new-labels.csv`
  (path,label,split,display_name as engine.data.layouts writes it; split "train"), never
  inside the run folder, which is only ever read from JSON and safetensors. Each image has
  one row: marking it again replaces its verdict. Writes are atomic. The image itself is
  never moved, copied or opened for writing: the CSV holds its absolute path.
- An image the run measured itself on (its val or test split, the same file or a copy with
  the same content) is refused with a plain message: training on it would make the next
  run's accuracy a lie. An image of the run's train split may be marked: its new label
  replaces the old one in the next run (a correction).
- The next run's dataset is the run's own images with their recorded splits (split.json)
  plus the new labels in train, written as a CSV in the app's data folder; the next run
  starts from this run's saved model (config.init_from, engine/training/warm_start.py).
  Resuming cannot change the data, so this is always a new run.
"""
from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

from engine.config import TrainConfig
from engine.errors import UserError
from engine.i18n import _

SUFFIX = "-new-labels.csv"


@dataclass(frozen=True)
class NewLabel:
    path: str  # absolute path of the image, where the user has it
    label: str  # class key of the run (folder name or CSV label)
    display_name: str  # the class as the run shows it


@dataclass(frozen=True)
class NextDataset:
    path: Path  # the CSV written
    run_images: int  # images of the run kept with their own split
    added: int  # new labels in train
    relabelled: int  # of which images the run trained on with another label


def new_labels_path(run_dir: str | os.PathLike) -> Path:
    """Where a run's new labels live: beside the run folder, never inside it."""
    run_dir = Path(run_dir).resolve()
    return run_dir.parent / f"{run_dir.name}{SUFFIX}"


def _read_json(path: Path) -> dict:
    from engine.safe_read import read_json

    try:
        return read_json(path)
    except FileNotFoundError:
        raise UserError(_("{path} is missing: this is not a complete LoRA Studio run "
                          "folder.").format(path=path)) from None
    except ValueError as exc:  # DamagedRunError names the file
        raise UserError(str(exc)) from None


def run_classes(run_dir: str | os.PathLike) -> list[tuple[str, str]]:
    """(class key, display name) of every class of the run, in its order."""
    meta = _read_json(Path(run_dir) / "run.json")
    classes = meta.get("classes") or []
    if classes:
        return [(str(c["folder"]), str(c["display_name"])) for c in classes]
    return [(str(n), str(n)) for n in meta.get("class_names") or []]


def _class_key(run_dir: str | os.PathLike, label: str) -> tuple[str, str]:
    """The run's (key, display name) for `label`, given as either; UserError otherwise."""
    classes = run_classes(run_dir)
    for key, name in classes:
        if label == name or label == key:
            return key, name
    raise UserError(_("'{label}' is not a class of the run {run} ({classes}): a new label must "
                      "be one of the classes the run knows.").format(
        label=label, run=Path(run_dir).name, classes=", ".join(n for _k, n in classes)))


def read_new_labels(run_dir: str | os.PathLike) -> dict[str, NewLabel]:
    """The run's new labels, {absolute image path: NewLabel}; {} when there are none."""
    from engine.data.layouts import discover_csv
    from engine.data.validation import DatasetError

    path = new_labels_path(run_dir)
    if not path.is_file():
        return {}
    try:
        disc = discover_csv(path)
    except DatasetError as exc:
        raise UserError(str(exc)) from None
    return {e.path: NewLabel(e.path, e.folder, disc.names.get(e.folder, e.folder))
            for e in disc.entries}


def _write(run_dir: str | os.PathLike, labels: dict[str, NewLabel]) -> Path:
    from engine.data.layouts import write_dataset_csv

    path = new_labels_path(run_dir)
    if not labels:
        path.unlink(missing_ok=True)
        return path
    return write_dataset_csv(path, ([n.path, n.label, "train", n.display_name]
                                    for n in sorted(labels.values(), key=lambda n: n.path)))


def _digest(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _listed(run_dir: Path) -> list[tuple[str, str, str]]:
    """(split, absolute path, class key) of every image the run's split.json lists."""
    from engine.data.index import listed_paths

    data = _read_json(run_dir / "split.json")
    try:
        return listed_paths(data)
    except (KeyError, TypeError, AttributeError):
        raise UserError(_("{path} is not a LoRA Studio split.json.").format(
            path=run_dir / "split.json")) from None


def held_out_split(run_dir: str | os.PathLike, image: str | os.PathLike) -> str:
    """"val" or "test" when `image` (that file, or a file with the same content) is one the
    run measured itself on; "" otherwise. Only files of the same size are read."""
    image = os.path.realpath(image)
    size = os.path.getsize(image)
    digest = None
    for split, path, _cls in _listed(Path(run_dir)):
        if split == "train":
            continue
        if os.path.realpath(path) == image:
            return split
        try:
            if os.path.getsize(path) != size:
                continue
            digest = digest or _digest(image)
            if _digest(path) == digest:
                return split
        except OSError:
            continue  # a listed file that is gone cannot be a copy of this one
    return ""


def mark(run_dir: str | os.PathLike, image: str | os.PathLike, label: str) -> NewLabel:
    """Record `image` as a `label` (a class of the run, by name or key) in the run's new
    labels, replacing an earlier verdict on the same image. "Right" is the predicted class,
    "wrong" the class the user gave. UserError for an image that is not there, a class the
    run does not know, or an image of the run's val or test split."""
    from engine.data.imageio import IMAGE_EXTENSIONS

    path = os.path.abspath(os.path.expanduser(str(image)))
    if not os.path.isfile(path):
        raise UserError(_("{path} is not there any more, so it cannot become a new label.")
                        .format(path=path))
    if os.path.splitext(path)[1].lower() not in IMAGE_EXTENSIONS:
        raise UserError(_("{path} is not an image file LoRA Studio trains on.").format(path=path))
    key, name = _class_key(run_dir, label)
    split = held_out_split(run_dir, path)
    if split:
        which = _("validation") if split == "val" else _("test")
        raise UserError(_("{name} is in the {split} images of {run}, which measure how good the "
                          "model is: training on it would make the next run's accuracy look "
                          "better than it is. It was not added to the new labels.").format(
            name=os.path.basename(path), split=which, run=Path(run_dir).name))
    labels = read_new_labels(run_dir)
    new = NewLabel(path, key, name)
    labels[path] = new
    _write(run_dir, labels)
    return new


def unmark(run_dir: str | os.PathLike, image: str | os.PathLike) -> bool:
    """Remove `image` from the run's new labels; False when it was not there."""
    path = os.path.abspath(os.path.expanduser(str(image)))
    labels = read_new_labels(run_dir)
    if labels.pop(path, None) is None:
        return False
    _write(run_dir, labels)
    return True


def default_next_path(run_dir: str | os.PathLike) -> Path:
    from engine.config import default_data_dir

    stamp = time.strftime("%Y-%m-%d-%H%M%S")
    return default_data_dir() / "datasets" / f"{Path(run_dir).name}-with-new-labels-{stamp}.csv"


def write_next_dataset(run_dir: str | os.PathLike, path: str | os.PathLike | None = None
                       ) -> NextDataset:
    """The next run's dataset: the run's images with the splits its split.json recorded, and
    the new labels in train (a new label of a train image replaces its old one), as a CSV
    (default: the app's data folder). UserError when there are no new labels or the run's
    images are no longer where it lists them."""
    from engine.data.layouts import write_dataset_csv

    run_dir = Path(run_dir)
    labels = read_new_labels(run_dir)
    if not labels:
        raise UserError(_("{run} has no new labels yet: mark predictions right or wrong in the "
                          "Prediction tab first (they are kept in {path}).").format(
            run=run_dir.name, path=new_labels_path(run_dir)))
    names = dict(run_classes(run_dir))
    listed = _listed(run_dir)
    gone = [p for _s, p, _c in listed if not os.path.isfile(p)]
    if gone:
        raise UserError(_("{count} of the {total} images of {run} are no longer where it lists "
                          "them (for example {path}), so its own images cannot be part of the "
                          "next run.").format(count=len(gone), total=len(listed),
                                              run=run_dir.name, path=gone[0]))
    new_paths = {os.path.normcase(os.path.realpath(p)): n for p, n in labels.items()}
    rows, relabelled = [], 0
    for split, image, key in listed:
        new = new_paths.get(os.path.normcase(os.path.realpath(image)))
        if new is not None:  # a held-out image cannot be a new label (mark refuses it)
            relabelled += split == "train" and new.label != key
            continue
        rows.append([image, key, split, names.get(key, key)])
    kept = len(rows)
    rows.extend([n.path, n.label, "train", n.display_name] for n in labels.values())
    target = write_dataset_csv(Path(path) if path else default_next_path(run_dir), rows)
    return NextDataset(target, kept, len(labels), relabelled)


def next_run_config(run_dir: str | os.PathLike, data_csv: str | os.PathLike,
                    **changes) -> TrainConfig:
    """The config of a new run that trains on `data_csv` from `run_dir`'s saved model: the
    run's own settings (the model it needs), a new name, the run's runs folder, `changes`."""
    from engine.runs import read_run

    run_dir = Path(run_dir).resolve()
    try:
        meta = read_run(run_dir)
    except (OSError, ValueError) as exc:
        raise UserError(str(exc)) from None
    stored = TrainConfig.from_dict(meta.get("config") or {})
    stored = stored.replace(model=(meta.get("base_model") or {}).get("ref", stored.model))
    return stored.replace(data_dir=str(data_csv), init_from=str(run_dir), resume_from="",
                          run_name="", output_dir=str(run_dir.parent)).replace(**changes)


__all__ = ["NewLabel", "NextDataset", "new_labels_path", "read_new_labels", "mark", "unmark",
           "held_out_split", "write_next_dataset", "next_run_config", "run_classes"]
