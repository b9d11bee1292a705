"""Checking files and the dataset as a whole: bad input becomes a `Problem`, never a crash.

File checks read each file once (to hash it for duplicate detection and to verify it
decodes) on a few threads: PIL and hashlib release the GIL, so this scales with cores.
Dataset checks turn counts into the few errors that block training, each saying what
to do about it.
"""
from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Iterable

from engine.errors import UserError
from engine.i18n import _
from engine.data.imageio import ImageFacts, ImageProblem, check_image

SPLITS = ("train", "val", "test")
MAX_FILE_BYTES = 512 * 1024 * 1024  # no real photo is this big; don't read such a file whole
IMBALANCE_RATIO = 5  # warn when a class has this many times fewer training images than the largest

ProgressFn = Callable[[int, int], None]


@dataclass(frozen=True)
class Problem:
    """Something wrong with one file or with the dataset; `reason` is plain words."""
    path: str
    reason: str
    severity: str = "warning"  # "warning": skipped/suspicious, "error": blocks training


class DatasetError(UserError):
    """The dataset source itself cannot be used (missing, unreadable)."""


@dataclass(frozen=True)
class FileCheck:
    path: str
    digest: str | None = None  # blake2b of the bytes, for duplicate detection
    facts: ImageFacts | None = None
    problem: str | None = None


def check_file(path: str, *, verify: bool, max_pixels: int, min_side: int) -> FileCheck:
    """Read one file once: hash its bytes and check they are a usable image."""
    try:
        size = os.path.getsize(path)
        if size > MAX_FILE_BYTES:
            return FileCheck(path, problem=_("file is {size:.1f} GB, too large for an image")
                             .format(size=size / 2**30))
        with open(path, "rb") as fh:
            data = fh.read()
    except PermissionError:
        return FileCheck(path, problem=_("no permission to read this file"))
    except OSError as exc:  # missing, ELOOP, EIO, a folder named like an image...
        if os.path.islink(path):
            return FileCheck(path, problem=_("broken link or symlink loop"))
        if isinstance(exc, FileNotFoundError):
            return FileCheck(path, problem=_("file not found (moved or deleted?)"))
        return FileCheck(path, problem=_("cannot be read: {error}").format(
            error=exc.strerror or exc))
    digest = hashlib.blake2b(data, digest_size=16).hexdigest()
    try:
        facts = check_image(data, max_pixels=max_pixels, min_side=min_side, decode=verify)
    except ImageProblem as exc:
        return FileCheck(path, digest, problem=str(exc))
    return FileCheck(path, digest, facts)


def check_files(paths: list[str], *, verify: bool, max_pixels: int, min_side: int,
                progress: ProgressFn | None = None, workers: int | None = None) -> list[FileCheck]:
    """check_file over many paths in parallel; results in input order."""
    workers = workers or min(8, 2 * (os.cpu_count() or 1))
    total = len(paths)
    if progress:
        progress(0, total)
    results: list[FileCheck] = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        jobs = pool.map(lambda p: check_file(p, verify=verify, max_pixels=max_pixels,
                                             min_side=min_side), paths)
        try:
            for result in jobs:
                results.append(result)
                if progress:
                    progress(len(results), total)
        except BaseException:  # e.g. a GUI cancelling by raising from `progress`: stop now
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return results


def first_copies(items: Iterable[tuple[str, str, str, str | None]]
                 ) -> tuple[set[str], list[Problem]]:
    """Given (path, digest, class, split) for usable files, keep one file per content.

    Identical files are kept once: the copy in the earliest split (train < val < test,
    unsplit last) and then the first path, so a duplicate never lets the model be
    evaluated on an image it trained on. Returns (kept paths, warnings for the rest).
    """
    order = {s: i for i, s in enumerate(SPLITS)}
    ranked = sorted(items, key=lambda it: (order.get(it[3] or "", 9), it[0]))
    seen: dict[str, tuple[str, str, str | None]] = {}
    kept: set[str] = set()
    problems: list[Problem] = []
    for path, digest, cls, split in ranked:
        if digest not in seen:
            seen[digest] = (path, cls, split)
            kept.add(path)
            continue
        first, first_cls, first_split = seen[digest]
        if first_cls != cls:
            why = _("same image as {first}, which is labelled '{label}': conflicting labels; "
                    "ignored").format(first=first, label=first_cls)
        elif split and first_split and split != first_split:
            why = _("same image as {first} (in {first_split}); removed from {split} so the "
                    "evaluation does not test on a training image").format(
                first=first, first_split=first_split, split=split)
        else:
            why = _("duplicate of {first}; used once").format(first=first)
        problems.append(Problem(path, why))
    return kept, problems


def dataset_problems(counts: dict[str, dict[str, int]], display: dict[str, str],
                     where: dict[str, str], root: str, splits_present: set[str]) -> list[Problem]:
    """Dataset-level checks on per-class split counts ({folder: {split: n}})."""
    problems: list[Problem] = []
    total = sum(sum(c.values()) for c in counts.values())
    if total == 0:
        return [Problem(root, _("no usable images found. Put one sub-folder per class with the "
                                "images inside (for example photos/cats/*.jpg, "
                                "photos/dogs/*.jpg)"), "error")]
    usable = {f: c for f, c in counts.items() if sum(c.values()) > 0}
    if len(usable) < 2:
        names = ", ".join(f"'{display[f]}'" for f in usable)
        problems.append(Problem(root, _("only one class found ({names}); a classifier needs at "
                                        "least 2. Add a sub-folder of images for each other "
                                        "class").format(names=names), "error"))
    for folder, c in counts.items():
        name, n = display[folder], sum(c.values())
        if n < 2:
            if n == 0:
                text = _("class '{name}' is empty; each class needs at least 2 images (20 or "
                         "more works much better). Add images or remove the folder")
            else:
                text = _("class '{name}' has only 1 usable image; each class needs at least 2 "
                         "images (20 or more works much better). Add images or remove the folder")
            problems.append(Problem(where[folder], text.format(name=name), "error"))
        elif c.get("train", 0) == 0:
            problems.append(Problem(where[folder], _("class '{name}' has no training images "
                                                     "(only val/test); add some to train/ or "
                                                     "remove the class").format(name=name),
                                    "error"))
        else:
            for split in ("val", "test"):
                if split in splits_present and c.get(split, 0) == 0:
                    text = (_("class '{name}' has no val images, so its val accuracy cannot be "
                              "measured") if split == "val" else
                            _("class '{name}' has no test images, so its test accuracy cannot be "
                              "measured"))
                    problems.append(Problem(where[folder], text.format(name=name)))
    trains = {f: c.get("train", 0) for f, c in usable.items() if c.get("train", 0) > 0}
    if len(trains) >= 2:
        big = max(trains, key=lambda f: trains[f])
        for folder, n in trains.items():
            if n * IMBALANCE_RATIO <= trains[big]:
                problems.append(Problem(where[folder], _(
                    "class '{name}' has {ratio:.0f}x fewer training images than '{largest}' "
                    "({n} vs {most}); expect lower accuracy on it, or add images").format(
                    name=display[folder], ratio=trains[big] / n, largest=display[big], n=n,
                    most=trains[big])))
    return problems


__all__ = ["SPLITS", "Problem", "DatasetError", "FileCheck", "check_file", "check_files",
           "first_copies", "dataset_problems"]
