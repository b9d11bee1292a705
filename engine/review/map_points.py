"""The points of a dataset's map: every image's embedding and label, for a labelled dataset
(class folders, split folders, a CSV; images lying beside its class folders come unlabelled)
and for an unsorted folder (no class folders: every image under it, without a label) alike,
and the map written as a CSV of path,x,y,label.

Both embed through engine.review.embeddings.embed_dataset (the check-labels pass: decode
cache, the model's own framing). The folder is only read.
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from engine.errors import UserError
from engine.i18n import _
from engine.review.embeddings import Progress

UNSORTED = "unsorted"  # the layout of a folder without class folders


@dataclass
class MapPoints:
    paths: list[str]
    labels: list[str]  # class key (folder or CSV label) per image; "" in an unsorted folder
    vectors: torch.Tensor  # [N, D] unit-length
    layout: str  # the dataset's layout, or UNSORTED
    source: str  # what embedded them, in words
    failed: list[dict] = field(default_factory=list)  # {path, reason}


@dataclass(frozen=True)
class _Unlabelled:
    """The part of a DatasetIndex that embed_dataset reads, for images without classes."""

    root: str
    samples: list
    class_names: list[str]


def _images_under(folder: Path, recursive: bool = True) -> list[str]:
    from engine.data.imageio import IMAGE_EXTENSIONS

    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".")) if recursive else []
        found += [os.path.join(dirpath, f) for f in sorted(filenames)
                  if not f.startswith(".") and Path(f).suffix.lower() in IMAGE_EXTENSIONS]
    return found


def unlabelled_index(folder: str | os.PathLike) -> _Unlabelled:
    """Every image under `folder` (hidden files and folders skipped), without a label."""
    from engine.data.index import Sample

    root = Path(folder).expanduser()
    paths = _images_under(root)
    if not paths:
        raise UserError(_("{path} holds no images (.jpg, .png, ...) to map.").format(path=folder))
    # embed_dataset builds the base model's classifier over class_names; one name is enough
    # for a head that is never used here
    return _Unlabelled(root=str(root), samples=[Sample(os.path.abspath(p), -1, "") for p in paths],
                       class_names=["image"])


def _loose_images(index) -> list[str]:
    """Images directly in a labelled dataset's folder, outside every class folder: the scan
    leaves them out of training, but they belong on the map (without a label)."""
    root = Path(index.root)
    if not root.is_dir():
        return []
    known = {os.path.abspath(s.path) for s in index.samples}
    return [p for p in _images_under(root, recursive=False) if os.path.abspath(p) not in known]


def map_points(data: str | os.PathLike, *, model_ref: str | None = None,
               run_dir: str | None = None, device: str = "auto",
               progress: Progress | None = None) -> MapPoints | None:
    """Embeddings of every image of `data`: a labelled dataset (plus any images lying
    outside its class folders, unlabelled), or a folder whose images are not sorted into
    class folders (then every image under it, unlabelled). Under torchrun the processes
    share the embedding pass and all but the first get None (embed_dataset)."""
    from engine.data.index import Sample, scan_dataset
    from engine.review.embeddings import embed_dataset

    index = scan_dataset(data, progress=(lambda d, t: progress("scan", d, t))
                         if progress else None)
    labelled = bool(index.samples)
    if labelled:
        loose = [Sample(os.path.abspath(p), -1, "") for p in _loose_images(index)]
        keys = [c.folder for c in index.classes]  # the class keys a path,label CSV uses
        layout = index.layout
        index = _Unlabelled(root=index.root, samples=list(index.samples) + loose,
                            class_names=index.class_names)
    elif Path(data).expanduser().is_dir():
        index, keys, layout = unlabelled_index(data), [], UNSORTED
    else:  # a CSV that lists nothing usable
        raise UserError(_("{path} holds no usable images to map.").format(path=data))
    embedded = embed_dataset(index, model_ref=model_ref, run_dir=run_dir, device=device,
                             progress=progress)
    if embedded is None:  # another process of a torchrun launch: the first one maps
        return None
    labels = [keys[i] if i >= 0 else "" for i in embedded.labels.tolist()]
    return MapPoints(paths=embedded.paths, labels=labels, vectors=embedded.vectors,
                     layout=layout, source=embedded.source, failed=embedded.failed)


def write_map_csv(path: str | os.PathLike, paths: list[str], xy: np.ndarray,
                  labels: list[str]) -> None:
    """path,x,y,label: one row per image (written to a temporary file, then renamed)."""
    if not len(paths) == len(xy) == len(labels):
        raise UserError(_("The map has {n} points for {m} images.").format(n=len(xy),
                                                                        m=len(paths)))
    out = Path(path).expanduser()
    tmp = out.with_name(f".{out.name}.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "x", "y", "label"])
        for p, (x, y), label in zip(paths, np.asarray(xy, dtype=np.float64), labels):
            writer.writerow([p, f"{x:.6f}", f"{y:.6f}", label])
    os.replace(tmp, out)
