"""The user's review decisions, kept apart from their folder.

Each flagged image gets keep, relabel (to a class) or exclude. Saving writes a CSV
dataset (path,label,split,display_name: the CSV layout the app reads; absolute paths, the
class names the user gave in the last column) of the whole dataset with the decisions
applied, into the app's data folder; the user trains from it and their folder stays as it
was. Only "apply to folder" changes the folder, and only by the moves that
`plan_moves` lists and the user confirmed: a relabelled image moves to the top of its new
class's folder (sub-folders inside a class are part of that class, so the image cannot stay
in one), in the same split folder for train/val/test layouts; an excluded image goes to
`<dataset>-excluded/`, outside the dataset, under its own relative path. Nothing is ever
overwritten or deleted.
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from engine.errors import UserError
from engine.i18n import _

ACTIONS = ("keep", "relabel", "exclude")
MOVABLE_LAYOUTS = ("class-folders", "split-folders", "stanford-dogs")


@dataclass(frozen=True)
class Decision:
    path: str
    action: str  # keep | relabel | exclude
    label: str = ""  # the class folder to relabel to

    def __post_init__(self):
        if self.action not in ACTIONS:
            raise ValueError(f"unknown review action {self.action!r}")
        if self.action == "relabel" and not self.label:
            raise ValueError("relabel needs the new class")


@dataclass(frozen=True)
class Move:
    source: str
    target: str
    reason: str  # "relabelled to X" | "excluded"


def _folders(index) -> dict[str, str]:
    """display name or folder -> class folder key."""
    keys = {c.folder: c.folder for c in index.classes}
    keys.update({c.display_name: c.folder for c in index.classes})
    return keys


def reviewed_rows(index, decisions: dict[str, Decision]) -> list[tuple[str, str, str]]:
    """(absolute path, class folder, split) of every sample with the decisions applied."""
    folders = _folders(index)
    rows = []
    for s in index.samples:
        d = decisions.get(s.path)
        if d is not None and d.action == "exclude":
            continue
        label = index.classes[s.label].folder
        if d is not None and d.action == "relabel":
            if d.label not in folders:
                raise UserError(_("Cannot relabel {path} to '{label}': the dataset has no "
                                  "such class.").format(path=s.path, label=d.label))
            label = folders[d.label]
        rows.append((str(Path(s.path).resolve()), label, s.split))
    return rows


def write_reviewed_csv(index, decisions: dict[str, Decision], path: str | os.PathLike) -> Path:
    """The dataset with the decisions applied, as a CSV the app trains from, the classes'
    display names (renames) included. Written to a temporary file and renamed: a failure
    leaves no file, neither half-written nor temp."""
    rows = reviewed_rows(index, decisions)  # a bad decision fails before anything is written
    names = {c.folder: c.display_name for c in index.classes}
    from engine.data.layouts import write_dataset_csv

    return write_dataset_csv(path, ((image, label, split, names[label])
                                    for image, label, split in rows))


def _key(path: Path) -> str:
    # case-folded: on Windows and macOS "X.jpg" and "x.jpg" are the same file
    return str(path).casefold()


def _free(target: Path, taken: set[str]) -> Path:
    """`target`, or target with ' (2)', ' (3)'... when a file (or a planned move) has it."""
    candidate, n = target, 1
    while os.path.lexists(candidate) or _key(candidate) in taken:
        n += 1
        candidate = target.with_name(f"{target.stem} ({n}){target.suffix}")
    return candidate


def _classes_base(index, root: Path, src: Path, folder: str) -> Path:
    """The folder holding `src`'s class folder: the dataset folder, its split folder
    (train/, val/...) or Stanford Dogs' Images/. Sub-folders below the class folder are
    part of the class, so the class is found by position, not by the image's parent."""
    try:
        parts = src.relative_to(root).parts
    except ValueError:
        parts = ()
    depth = 1 if index.layout == "split-folders" else 0
    if index.layout == "stanford-dogs" and parts and parts[0] != folder:
        depth = 1  # root/Images/n02085620-Chihuahua/...
    if len(parts) < depth + 2 or parts[depth] != folder:
        raise UserError(_("{path} is not inside its class folder '{folder}' under {root}; "
                          "rescan the folder and check again.").format(
            path=src, folder=folder, root=root))
    return root.joinpath(*parts[:depth])


def plan_moves(index, decisions: dict[str, Decision]) -> list[Move]:
    """What "apply to folder" would do, one move per relabelled or excluded image."""
    if index.layout not in MOVABLE_LAYOUTS:
        raise UserError(_("Apply to folder works for datasets of class folders; this one is a "
                          "CSV list, so save the reviewed CSV and train from it instead."))
    folders = _folders(index)
    names = {c.folder: c.display_name for c in index.classes}
    root = Path(index.root)
    excluded = root.with_name(root.name + "-excluded")
    by_path = {s.path: s for s in index.samples}
    moves, taken = [], set()
    for path, d in sorted(decisions.items()):
        sample = by_path.get(path)
        if sample is None or d.action == "keep":
            continue
        src = Path(path)
        current = index.classes[sample.label].folder
        if d.action == "relabel":
            new = folders.get(d.label)
            if new is None or new == current:
                continue
            base = _classes_base(index, root, src, current)
            target = _free(base / new / src.name, taken)
            reason = _("relabelled to {label}").format(label=names[new])
        else:
            target = _free(excluded / src.relative_to(root), taken)
            reason = _("excluded")
        taken.add(_key(target))
        moves.append(Move(str(src), str(target), reason))
    return moves


def apply_moves(moves: list[Move]) -> list[Move]:
    """Carry out confirmed moves; never overwrites (a target that appeared meanwhile gets a
    new name) and stops at the first failure, returning the moves done."""
    done = []
    for move in moves:
        src, target = Path(move.source), _free(Path(move.target), set())
        if not src.is_file():
            raise UserError(_("{path} is no longer there: {done} of {total} moves were made. "
                              "Rescan the folder and check again.").format(
                path=src, done=len(done), total=len(moves)))
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(src, target)  # a rename; a copy + delete only across file systems
        except OSError as exc:
            raise UserError(_("Cannot move {path} to {target}: {error}. {done} of {total} moves "
                              "were made. Rescan the folder and check again.").format(
                path=src, target=target, error=exc.strerror or exc, done=len(done),
                total=len(moves))) from exc
        done.append(Move(str(src), str(target), move.reason))
    return done
