"""Datasets: scan a folder or CSV into a `DatasetIndex` of (path, label, split) + problems.

Discovery lives in engine.data.layouts, file and dataset checks in engine.data.validation; this
module ties them together, makes the reproducible stratified split (saved as split.json)
and formats the report. Nothing here ever writes into the user's folder.
"""
from __future__ import annotations

import json
import math
import os
import random
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable

from engine.data.imageio import DEFAULT_MAX_PIXELS, DEFAULT_MIN_SIDE, IMAGE_EXTENSIONS
from engine.data.layouts import DESCRIPTIONS, Discovery, discover, readable_name
from engine.data.validation import (SPLITS, DatasetError, Problem, ProgressFn, check_files,
                               dataset_problems, first_copies)
from engine.i18n import _, columns, pad

SPLIT_FORMAT_VERSION = 1


@dataclass(frozen=True)
class ClassInfo:
    folder: str  # folder name (or CSV label): the stable key
    display_name: str  # readable, user-editable; used for zero-shot prompts


@dataclass(frozen=True)
class Sample:
    path: str  # absolute
    label: int  # index into DatasetIndex.classes
    split: str  # "train" | "val" | "test"


@dataclass(frozen=True)
class DatasetIndex:
    root: str  # the dataset as the user chose it: its folder, or the CSV file itself
    layout: str  # "split-folders" | "class-folders" | "stanford-dogs" | "csv"
    layout_description: str
    classes: list[ClassInfo]
    samples: list[Sample]
    problems: list[Problem]
    split_source: str  # "folders" | "automatic" | "csv" | "split.json"
    seed: int | None = None
    val_fraction: float | None = None
    test_fraction: float | None = None
    notes: list[str] = field(default_factory=list)  # plain-language facts (conversions, skips)

    @property
    def folder(self) -> str:
        """The folder relative image paths start from: root, or the folder holding the CSV."""
        if self.layout == "csv" and self.root.lower().endswith(".csv"):
            return os.path.dirname(self.root)
        return self.root  # a folder (or an older split.json, which saved the CSV's folder)

    @property
    def class_names(self) -> list[str]:
        return [c.display_name for c in self.classes]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    def split(self, name: str) -> list[Sample]:
        return [s for s in self.samples if s.split == name]

    def counts(self) -> dict[str, dict[str, int]]:
        counts = {c.folder: dict.fromkeys(SPLITS, 0) for c in self.classes}
        for s in self.samples:
            counts[self.classes[s.label].folder][s.split] += 1
        return counts

    def with_display_names(self, names: dict[str, str]) -> "DatasetIndex":
        """A copy with some display names replaced ({folder: new name}); blanks are ignored."""
        classes = [replace(c, display_name=names[c.folder].strip())
                   if names.get(c.folder, "").strip() else c for c in self.classes]
        return replace(self, classes=classes)

    def to_split_json(self) -> dict:
        """The exact split, JSON-serialisable. "root" is the folder paths are relative to
        (where possible: a CSV's absolute paths outside its folder stay absolute), "source"
        the dataset itself (the folder, or the CSV file)."""
        files: dict[str, list[dict]] = {s: [] for s in SPLITS}
        for s in self.samples:
            files[s.split].append({"path": _relative(s.path, self.folder),
                                   "class": self.classes[s.label].folder})
        return {"format_version": SPLIT_FORMAT_VERSION, "root": self.folder,
                "source": self.root, "layout": self.layout,
                "layout_description": self.layout_description, "split_source": self.split_source,
                "seed": self.seed, "val_fraction": self.val_fraction,
                "test_fraction": self.test_fraction,
                "classes": [{"folder": c.folder, "display_name": c.display_name}
                            for c in self.classes],
                "files": files}

    def save_split(self, path: str | os.PathLike) -> None:
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.to_split_json(), indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)  # never leave a half-written split.json behind


def _relative(path: str, root: str) -> str:
    try:
        return Path(path).relative_to(root).as_posix()
    except ValueError:
        return path  # outside root (a CSV with absolute paths): keep it absolute


def _listed(data: dict) -> list[tuple[str, str, str]]:
    """(split, path as saved, class) of every file a split.json lists."""
    return [(split, item["path"], item["class"])
            for split in SPLITS for item in data["files"].get(split, [])]


def _resolve(saved: str, base: str) -> str:
    """A saved path: absolute ones as they are, relative ones (always '/') under `base`."""
    if os.path.isabs(saved):
        return os.path.normpath(saved)
    return os.path.normpath(os.path.join(base, *saved.split("/")))


def listed_folder(data: dict) -> str:
    """The folder that holds every image a split.json lists: its root when all paths are
    relative, else the deepest folder above them all (a CSV of absolute paths lists images
    outside its own folder). A moved dataset is found again by naming this folder's new
    place (load_split's `root`, the command line's --data-root)."""
    saved = [path for _split, path, _cls in _listed(data)]
    folders = [os.path.dirname(os.path.normpath(p)) for p in saved if os.path.isabs(p)]
    if not folders:
        return data["root"]
    if len(folders) < len(saved):
        folders.append(data["root"])
    try:
        return os.path.commonpath(folders)
    except ValueError:  # on different drives (Windows): no folder holds them all
        return data["root"]


def missing_listed(data: dict) -> tuple[int, int, str]:
    """(files gone, files listed, listed_folder) of a split.json's `data`: where a moved
    dataset was, and how much of it is no longer there."""
    listed = [path for _split, path, _cls in listed_paths(data)]
    gone = sum(1 for path in listed if not os.path.isfile(path))
    return gone, len(listed), listed_folder(data)


def listed_paths(data: dict, root: str | os.PathLike | None = None) -> list[tuple[str, str, str]]:
    """(split, absolute path, class) of every file a split.json lists, relative and absolute
    paths alike; with `root`, listed_folder(data) is replaced by `root` (the dataset moved)."""
    base = data["root"]
    rows = [(split, _resolve(path, base), cls) for split, path, cls in _listed(data)]
    if not root:
        return rows
    old, new = listed_folder(data), str(Path(root).expanduser().resolve())
    moved = []
    for split, path, cls in rows:
        try:
            inside = os.path.relpath(path, old)
        except ValueError:  # another drive (Windows): not under the old folder
            inside = ""
        ok = inside and not inside.startswith(os.pardir)
        moved.append((split, os.path.normpath(os.path.join(new, inside)) if ok else path, cls))
    return moved


def split_counts(n: int, val_fraction: float, test_fraction: float) -> tuple[int, int, int]:
    """(train, val, test) sizes for one class of n images.

    Rounded shares, but with 3+ images every split with a non-zero fraction gets at least
    one image (so every class can be evaluated) and training always keeps at least one.
    """
    n_val = round(n * val_fraction)
    n_test = round(n * test_fraction)
    if n >= 3:
        n_val = max(n_val, 1 if val_fraction > 0 else 0)
        n_test = max(n_test, 1 if test_fraction > 0 else 0)
    elif n == 2:
        n_val, n_test = (1, 0) if val_fraction > 0 else (0, 1 if test_fraction > 0 else 0)
    else:
        n_val = n_test = 0
    while n_val + n_test > n - 1:  # give back to training, from the larger held-out split
        if n_val >= n_test:
            n_val -= 1
        else:
            n_test -= 1
    return n - n_val - n_test, n_val, n_test


def assign_splits(paths_by_class: dict[str, list[str]], val_fraction: float,
                  test_fraction: float, seed: int) -> dict[str, str]:
    """Stratified split: {path: split}. Same seed and files -> same split.

    Each class is shuffled with its own RNG seeded by (seed, class), so adding a class or
    a file to one class does not reshuffle the others.
    """
    result: dict[str, str] = {}
    for folder in sorted(paths_by_class):
        paths = sorted(paths_by_class[folder])
        random.Random(f"{seed}/{folder}").shuffle(paths)
        n_train, n_val, _n_test = split_counts(len(paths), val_fraction, test_fraction)
        for i, path in enumerate(paths):
            result[path] = "train" if i < n_train else "val" if i < n_train + n_val else "test"
    return result


def _check_fractions(val_fraction: float, test_fraction: float) -> None:
    ok = all(isinstance(f, (int, float)) and not math.isnan(f) and 0 <= f < 1
             for f in (val_fraction, test_fraction))
    if not ok or val_fraction + test_fraction >= 0.9:
        raise DatasetError(_("Validation and test fractions must be between 0 and 1 and leave "
                             "most images for training (got {val} and {test}).").format(
            val=val_fraction, test=test_fraction))


def _notes(disc: Discovery, facts: Iterable, auto: int, seed: int, val: float, test: float) -> list[str]:
    notes = [_("Ignored {n} {kind}.").format(n=n, kind=_(kind))
             for kind, n in sorted(disc.ignored.items()) if n]
    facts = list(facts)
    rotated = sum(1 for f in facts if f.rotated)
    if rotated:
        notes.append(_("{n} image(s) carry an EXIF rotation; it is applied.").format(n=rotated))
    modes = Counter(f.mode for f in facts if f.mode != "RGB")
    if modes:
        listed = ", ".join(f"{n} {m}" for m, n in sorted(modes.items()))
        notes.append(_("Converted to RGB (grayscale, CMYK, transparent, palette or 16-bit): "
                       "{listed}.").format(listed=listed))
    if auto:
        notes.append(_("{n} image(s) split automatically per class with seed {seed}: {val:.0%} "
                       "validation, {test:.0%} test.").format(n=auto, seed=seed, val=val,
                                                              test=test))
    return notes


def _finish(disc: Discovery, kept: list[tuple[str, str, str]], problems: list[Problem],
            **extra) -> DatasetIndex:
    """Build the index from (path, class, split) rows and add the dataset-level checks."""
    classes, problems = _classes(disc), problems + _name_clashes(disc)
    label = {c.folder: i for i, c in enumerate(classes)}
    order = {s: i for i, s in enumerate(SPLITS)}
    rows = sorted(kept, key=lambda r: (order[r[2]], label[r[1]], r[0]))
    samples = [Sample(p, label[f], s) for p, f, s in rows]
    index = DatasetIndex(disc.root, disc.layout, disc.description, classes, samples,
                         problems, **extra)
    present = {s.split for s in samples}
    display = {c.folder: c.display_name for c in classes}
    where = {f: disc.where.get(f, disc.root) for f in display}
    blocking = dataset_problems(index.counts(), display, where, disc.root, present)
    return replace(index, problems=problems + blocking)


def _given_names(disc: Discovery) -> dict[str, str]:
    """The display names the dataset gives (a CSV's column), except any that another class
    already goes by: class names must stay unique."""
    taken: dict[str, int] = Counter(disc.names.get(f) or readable_name(f) for f in disc.classes)
    return {f: name for f, name in disc.names.items() if taken[name] == 1}


def _classes(disc: Discovery) -> list[ClassInfo]:
    given = _given_names(disc)
    return [ClassInfo(f, given.get(f) or readable_name(f)) for f in disc.classes]


def _name_clashes(disc: Discovery) -> list[Problem]:
    given = _given_names(disc)
    return [Problem(disc.where.get(f, disc.root), _(
        "display name '{name}' of class '{label}' is used by another class too; the class "
        "keeps the name '{kept}'").format(name=name, label=f, kept=readable_name(f)))
        for f, name in sorted(disc.names.items()) if f in disc.where and f not in given]


def scan_dataset(source: str | os.PathLike, *, val_fraction: float = 0.15,
                 test_fraction: float = 0.15, seed: int = 42, verify: bool = True,
                 max_pixels: int = DEFAULT_MAX_PIXELS, min_side: int = DEFAULT_MIN_SIDE,
                 progress: ProgressFn | None = None) -> DatasetIndex:
    """Scan a dataset folder (any of the four layouts) or a CSV of path,label.

    Bad files never raise: they become problems (severity "warning", file skipped);
    what blocks training becomes an "error" problem. Raises DatasetError only when the
    source itself is missing or unreadable, or the fractions make no sense.
    """
    _check_fractions(val_fraction, test_fraction)
    disc = discover(source)
    checks = check_files([e.path for e in disc.entries], verify=verify, max_pixels=max_pixels,
                         min_side=min_side, progress=progress)
    problems = list(disc.problems)
    usable = []
    for entry, check in zip(disc.entries, checks):
        if check.problem:
            problems.append(Problem(entry.path, check.problem))
        else:
            usable.append((entry, check))
    kept_paths, dup_problems = first_copies(
        (e.path, c.digest, e.folder, e.split) for e, c in usable)
    problems.extend(dup_problems)
    usable = [(e, c) for e, c in usable if e.path in kept_paths]
    unsplit: dict[str, list[str]] = {}
    for e, _check in usable:
        if e.split is None:
            unsplit.setdefault(e.folder, []).append(e.path)
    auto = assign_splits(unsplit, val_fraction, test_fraction, seed)
    kept = [(e.path, e.folder, e.split or auto[e.path]) for e, _check in usable]
    notes = _notes(disc, (c.facts for _entry, c in usable), len(auto), seed, val_fraction,
                   test_fraction)
    return _finish(disc, kept, problems, split_source=disc.split_source, seed=seed,
                   val_fraction=val_fraction if auto else None,
                   test_fraction=test_fraction if auto else None, notes=notes)


def load_split(split_json: str | os.PathLike | dict, root: str | os.PathLike | None = None
               ) -> DatasetIndex:
    """Rebuild the exact split saved by DatasetIndex.save_split (files are not re-verified).

    `root` is the new place of the folder holding the listed images (listed_folder: the
    dataset was moved); relative and absolute paths are found there alike. Listed files
    that are gone become problems, so an evaluation never silently runs on fewer files.
    """
    data = split_json
    if not isinstance(data, dict):
        try:
            data = json.loads(Path(split_json).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise DatasetError(_("Cannot read the split file {path}: {error}").format(
                path=split_json, error=exc)) from None
    try:
        source = data.get("source") or data["root"]  # older files: the folder only
        if root and source == data["root"]:  # a moved folder dataset is its new folder
            source = str(Path(root).expanduser().resolve())
        disc = Discovery(source, data["layout"],  # saved in the language of its scan: translate
                         _(data.get("layout_description") or DESCRIPTIONS.get(data["layout"], "")))
        disc.classes = [c["folder"] for c in data["classes"]]
        names = {c["folder"]: c["display_name"] for c in data["classes"]}
        problems, kept = [], []
        for split, path, cls in listed_paths(data, root):
            if not os.path.isfile(path):
                problems.append(Problem(path, _("listed in split.json but missing now")))
            elif cls in names:
                kept.append((path, cls, split))
            else:
                problems.append(Problem(path, _("class '{name}' is not in the split file's "
                                                "class list; skipped").format(name=cls)))
    except (KeyError, TypeError, AttributeError) as exc:
        raise DatasetError(_("The split file is not a LoRA Studio split.json (missing "
                             "{what}).").format(what=exc)) from None
    index = _finish(disc, kept, problems, split_source="split.json", seed=data.get("seed"),
                    val_fraction=data.get("val_fraction"), test_fraction=data.get("test_fraction"))
    return index.with_display_names(names)


def format_report(index: DatasetIndex, max_problems: int = 200) -> str:
    """A human-readable summary of a scan, for the CLI."""
    counts = index.counts()
    totals = {s: sum(c[s] for c in counts.values()) for s in SPLITS}
    lines = [_("Dataset: {root}").format(root=index.root),
             _("Layout:  {layout} ({description})").format(layout=index.layout,
                                                          description=index.layout_description),
             _("{classes} classes, {images} images (train {train} / val {val} / test {test})")
             .format(classes=len(index.classes), images=len(index.samples), **totals), ""]
    head = (_("class"), _("train"), _("val"), _("test"), _("folder"))
    width = max([columns(c.display_name) for c in index.classes] + [columns(head[0]), 5])
    lines.append(f"  {pad(head[0], width)}  {pad(head[1], 6, True)} {pad(head[2], 6, True)} "
                 f"{pad(head[3], 6, True)}  {head[4]}")
    for c in index.classes:
        n = counts[c.folder]
        lines.append(f"  {pad(c.display_name, width)}  {n['train']:>6} {n['val']:>6} "
                     f"{n['test']:>6}  {c.folder}")
    if index.notes:
        lines += ["", _("Notes:")] + [f"  {note}" for note in index.notes]
    if index.problems:
        ordered = sorted(index.problems, key=lambda p: (p.severity != "error", p.path))
        lines += ["", _("Problems ({errors} errors, {warnings} warnings):").format(
            errors=len(index.errors), warnings=len(index.problems) - len(index.errors))]
        lines += [f"  {pad(_severity(p.severity), 7)}  {p.path}: {p.reason}"
                  for p in ordered[:max_problems]]
        if len(ordered) > max_problems:
            lines.append(_("  ... and {n} more").format(n=len(ordered) - max_problems))
    lines.append("")
    lines.append(_("Not ready to train: fix the errors above.") if index.errors
                 else _("Ready to train."))
    return "\n".join(lines)




def _severity(severity: str) -> str:
    """A Problem's severity ("error" | "warning") as the report shows it."""
    return _("error") if severity == "error" else _("warning") if severity == "warning" \
        else severity


__all__ = ["scan_dataset", "load_split", "format_report", "DatasetIndex", "Sample", "ClassInfo",
           "Problem", "DatasetError", "IMAGE_EXTENSIONS", "split_counts", "assign_splits",
           "readable_name", "SPLITS"]
