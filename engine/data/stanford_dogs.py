"""Prepare a train/val/test folder of N Stanford Dogs breeds from the official images.tar.

What the tutorial's preparation script does (choose breeds, split, verify), but from a
local copy of the archive, reproducibly (seed), and safely: the archive is checked
before anything is written, and an entry with an absolute path, '..', or a link is
refused (a crafted tar could otherwise write outside the output folder). Files are
written under names we build ourselves; tarfile.extract is never used.
"""
from __future__ import annotations

import json
import os
import random
import re
import shutil
import tarfile
from pathlib import Path, PurePosixPath
from typing import Callable

from engine.data.index import assign_splits, scan_dataset
from engine.errors import UserError
from engine.i18n import _
from engine.data.imageio import IMAGE_EXTENSIONS
from engine.data.layouts import SYNSET, readable_name
from engine.data.validation import SPLITS

_BREED_DIR = re.compile(r"^n\d{8}-[^/]+$")


def _unsafe_reason(member: tarfile.TarInfo) -> str | None:
    name = member.name.replace("\\", "/")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return _("absolute path")
    if ".." in PurePosixPath(name).parts:
        return _("'..' in the path")
    if member.issym() or member.islnk():
        return _("a link")
    if not (member.isfile() or member.isdir()):
        return _("a device or special file")
    return None


def _breed_images(members: list[tarfile.TarInfo]) -> dict[str, list[tarfile.TarInfo]]:
    """{'n02085620-Chihuahua': [members]} for Images/<breed>/<file> entries."""
    breeds: dict[str, list[tarfile.TarInfo]] = {}
    for m in members:
        parts = [p for p in PurePosixPath(m.name).parts if p not in ("", ".")]
        if (m.isfile() and len(parts) == 3 and parts[0].lower() == "images"
                and _BREED_DIR.match(parts[1])
                and PurePosixPath(parts[2]).suffix.lower() in IMAGE_EXTENSIONS):
            breeds.setdefault(parts[1], []).append(m)
    return breeds


def _choose(breeds: list[str], num_classes: int, wanted: list[str] | None, seed: int) -> list[str]:
    if wanted:
        def key(s: str) -> str:
            return readable_name(s).lower()
        by_key = {key(b): b for b in breeds} | {b.lower(): b for b in breeds}
        missing = [w for w in wanted if key(w) not in by_key and w.lower() not in by_key]
        if missing:
            examples = ", ".join(readable_name(b) for b in breeds[:8])
            raise UserError(_("Breed(s) not in the archive: {missing}. Examples of names that "
                              "work: {examples}.").format(missing=", ".join(missing),
                                                          examples=examples))
        return sorted({by_key.get(w.lower()) or by_key[key(w)] for w in wanted})
    if not 2 <= num_classes <= len(breeds):
        raise UserError(_("--classes must be between 2 and {n} (the archive has {n} breeds); "
                          "got {got}.").format(n=len(breeds), got=num_classes))
    return sorted(random.Random(seed).sample(breeds, num_classes))


def _open_archive(archive: Path) -> tarfile.TarFile:
    if not archive.is_file():
        raise UserError(_("{archive} not found. Download images.tar from the Stanford Dogs page "
                          "(http://vision.stanford.edu/aditya86/ImageNetDogs/) and pass its "
                          "path.").format(archive=archive))
    try:
        return tarfile.open(archive, "r:*")
    except tarfile.ReadError:  # its message lists every compression tried, on many lines
        raise UserError(_("{archive} is not a tar archive: give the Stanford Dogs images.tar "
                          "as downloaded.").format(archive=archive)) from None
    except (tarfile.TarError, OSError) as exc:
        raise UserError(_("{archive} is not a readable tar archive ({error}).").format(
            archive=archive, error=" ".join(str(exc).split()))) from None


def prepare_stanford_dogs(archive: str | os.PathLike, *, num_classes: int = 10,
                          output: str | os.PathLike, seed: int = 42,
                          val_fraction: float = 0.15, test_fraction: float = 0.15,
                          breeds: list[str] | None = None,
                          log: Callable[[str], None] = print) -> str:
    """Write output/{train,val,test}/<Breed_Name>/*.jpg; returns a one-paragraph summary."""
    archive, output = Path(archive).expanduser(), Path(output).expanduser()
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise UserError(_("{output} already exists and is not empty; choose a new folder.")
                        .format(output=output))
    with _open_archive(archive) as tar:
        try:
            members = tar.getmembers()
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise UserError(_("{archive} is damaged or incomplete ({error}).").format(
                archive=archive, error=exc)) from None
        unsafe = [(m.name, r) for m in members if (r := _unsafe_reason(m))]
        if unsafe:
            name, reason = unsafe[0]
            if len(unsafe) == 1:
                text = _("Refusing {archive}: entry '{name}' is unsafe ({reason}); {n} such entry "
                         "in all. Nothing was extracted. Use the official images.tar.")
            else:
                text = _("Refusing {archive}: entry '{name}' is unsafe ({reason}); {n} such "
                         "entries in all. Nothing was extracted. Use the official images.tar.")
            raise UserError(text.format(archive=archive, name=name, reason=reason,
                                        n=len(unsafe)))
        by_breed = _breed_images(members)
        if not by_breed:
            raise UserError(_("{archive} has no Images/n0xxxxxxx-Breed/ folders: is it the "
                              "Stanford Dogs images.tar?").format(archive=archive))
        chosen = _choose(sorted(by_breed), num_classes, breeds, seed)
        log(_("Chosen {n} breeds: {breeds}").format(
            n=len(chosen), breeds=", ".join(readable_name(b) for b in chosen)))
        split = assign_splits({b: [m.name for m in by_breed[b]] for b in chosen},
                              val_fraction, test_fraction, seed)
        partial = output.with_name(output.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        total = sum(len(by_breed[b]) for b in chosen)
        done = 0
        for breed in chosen:
            folder = SYNSET.sub("", breed)  # n02085620-Chihuahua -> Chihuahua
            for m in by_breed[breed]:
                dest = partial / split[m.name] / folder / PurePosixPath(m.name).name
                dest.parent.mkdir(parents=True, exist_ok=True)
                src = tar.extractfile(m)
                if src is None:
                    continue
                with src, open(dest, "wb") as fh:
                    shutil.copyfileobj(src, fh)
                done += 1
            log(_("  {breed}: {n} images ({done}/{total})").format(
                breed=readable_name(breed), n=len(by_breed[breed]), done=done, total=total))
    for name in SPLITS:  # every split folder exists, even if a fraction is 0
        (partial / name).mkdir(parents=True, exist_ok=True)
    (partial / "stanford_dogs.json").write_text(json.dumps(
        {"archive": archive.name, "seed": seed, "val_fraction": val_fraction,
         "test_fraction": test_fraction, "breeds": chosen}, indent=2), encoding="utf-8")
    if output.exists():
        output.rmdir()  # known empty (checked above)
    os.replace(partial, output)  # a crash mid-way never leaves a folder that looks complete
    log(_("Verifying the images..."))
    index = scan_dataset(output)
    counts = {s: len(index.split(s)) for s in SPLITS}
    summary = _("Prepared {n} breeds in {output} from {archive} (seed {seed}): {train} train / "
                "{val} val / {test} test images.").format(
        n=len(index.classes), output=output, archive=archive.name, seed=seed, **counts)
    if index.problems:
        summary += " " + _("{n} problem(s) found; run `python -m engine scan {output}`.").format(
            n=len(index.problems), output=output)
    return summary


__all__ = ["prepare_stanford_dogs"]
