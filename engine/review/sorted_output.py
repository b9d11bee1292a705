"""What sorting an unsorted folder produces, without ever changing that folder.

- A CSV dataset (path,label,split,display_name: the CSV layout the scan reads) of the
  confirmed images, in the app's data folder. The split column is left empty, so the scan
  splits each class automatically and reproducibly (its seed), as for a class-folder set.
- Copies into class folders under another folder (target/<class>/<file>), or moves when
  the user asked for them: plan_class_folders lists every copy or move first, so a move is
  only made after the user saw the list and confirmed it. Nothing is ever overwritten.
"""
from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

from engine.errors import UserError
from engine.i18n import _
from engine.review.decisions import Move, _free, _key

_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


def class_folder(name: str) -> str:
    """A class name as a folder name on every system ('a/b' -> 'a_b'; never empty)."""
    folder = _UNSAFE.sub("_", " ".join(name.split())).strip(" .")
    return folder or "_"


def _check_assignments(assignments: dict[str, str], classes: list[str]) -> None:
    if not assignments:
        raise UserError(_("No image is confirmed yet: confirm some proposals first."))
    unknown = sorted({c for c in assignments.values() if c not in classes})
    if unknown:
        raise UserError(_("'{label}' is not one of the classes ({classes}).").format(
            label=unknown[0], classes=", ".join(classes)))
    folders = [class_folder(c) for c in classes]
    if len({f.casefold() for f in folders}) != len(folders):
        raise UserError(_("Two classes would share a folder name ({folders}): rename one of "
                          "them.").format(folders=", ".join(folders)))


def default_dataset_path(source: str | os.PathLike) -> Path:
    from engine.config import default_data_dir

    stamp = time.strftime("%Y-%m-%d-%H%M%S")
    return default_data_dir() / "datasets" / f"{Path(source).resolve().name}-sorted-{stamp}.csv"


def write_sorted_csv(assignments: dict[str, str], classes: list[str], source: str | os.PathLike,
                     path: str | os.PathLike | None = None) -> Path:
    """The confirmed images ({path: class name}) as a CSV dataset, absolute paths, written
    to a temporary file and renamed (a failure leaves no file). Refuses to write inside the
    source folder."""
    _check_assignments(assignments, classes)
    target = Path(path) if path else default_dataset_path(source)
    _outside(target, source)
    from engine.data.layouts import write_dataset_csv

    return write_dataset_csv(target, ([str(Path(image).resolve()), class_folder(name), "", name]
                                      for image, name in sorted(assignments.items())))


def _outside(target: Path, source: str | os.PathLike) -> None:
    src, dst = Path(source).resolve(), Path(target).resolve()
    if dst == src or src in dst.parents:
        raise UserError(_("{target} is inside the unsorted folder {source}, which is never "
                          "changed: choose a place outside it.").format(target=target,
                                                                       source=source))


def plan_class_folders(assignments: dict[str, str], classes: list[str],
                       source: str | os.PathLike, target: str | os.PathLike,
                       *, move: bool = False) -> list[Move]:
    """Every copy (or move, with `move`) that copying into class folders under `target`
    makes, in path order: target/<class>/<file name>, ' (2)' added where a name is taken."""
    _check_assignments(assignments, classes)
    root = Path(target)
    _outside(root, source)
    taken: set[str] = set()
    moves = []
    reason = _("moved to {label}") if move else _("copied to {label}")
    for image in sorted(assignments):
        name = assignments[image]
        dest = _free(root / class_folder(name) / Path(image).name, taken)
        taken.add(_key(dest))
        moves.append(Move(str(image), str(dest), reason.format(label=name)))
    return moves


def apply_class_folders(moves: list[Move], *, move: bool = False) -> list[Move]:
    """Carry out the planned copies (or, with `move`, the confirmed moves). Never
    overwrites; stops at the first failure with a message saying how many were done."""
    done = []
    for m in moves:
        src, dest = Path(m.source), _free(Path(m.target), set())
        try:
            if not src.is_file():
                raise FileNotFoundError(2, _("it is no longer there"))
            dest.parent.mkdir(parents=True, exist_ok=True)
            if move:
                shutil.move(src, dest)
            else:
                shutil.copy2(src, dest)
        except OSError as exc:
            text = _("Cannot move {path} to {target}: {error}. {done} of {total} were done.") \
                if move else _("Cannot copy {path} to {target}: {error}. {done} of {total} were "
                               "done.")
            raise UserError(text.format(path=src, target=dest, error=exc.strerror or exc,
                                        done=len(done), total=len(moves))) from exc
        done.append(Move(str(src), str(dest), m.reason))
    return done
