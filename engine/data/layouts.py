"""Dataset discovery: which of the four layouts a folder (or CSV) uses, and its files.

Discovery only lists candidate files with their class and (maybe) split; it never opens
an image. Checking the files is validation's job, splitting is data's.
"""
from __future__ import annotations

import csv
import io
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from engine.data.imageio import IMAGE_EXTENSIONS, KNOWN_UNREADABLE
from engine.data.validation import DatasetError, Problem
from engine.i18n import N_, _

SPLIT_ALIASES = {"train": "train", "training": "train", "val": "val", "valid": "val",
                 "validation": "val", "dev": "val", "test": "test", "testing": "test"}
# Files and folders that operating systems and tools leave behind: never data.
LITTER_FILES = {"thumbs.db", "desktop.ini", "icon\r", "ehthumbs.db"}
LITTER_DIRS = {"__macosx", "@eadir", "$recycle.bin", "system volume information", "__pycache__"}
SYNSET = re.compile(r"^n\d{8}-")  # ImageNet/Stanford Dogs folder prefix: n02085620-Chihuahua
NUMBERED = re.compile(r"^\d+\.")  # CUB-200 style prefix: 001.Black_footed_Albatross

# Stored in English, translated where a Discovery is made (and where a split.json's is shown).
DESCRIPTIONS = {
    "split-folders": N_("train/val/test folders, one sub-folder per class inside each"),
    "class-folders": N_("one sub-folder per class; split automatically into train/val/test"),
    "stanford-dogs": N_("Stanford Dogs (Images/n0xxxxxxx-Breed); split automatically"),
    "csv": N_("CSV file of path,label"),
}
# Kinds of silently skipped files (Discovery.ignored keys), translated in the scan's notes.
HIDDEN_FILES = N_("hidden or system files")
OTHER_FILES = N_("other files next to the class folders")


def readable_name(folder: str) -> str:
    """Folder name -> display name: 'n02099601-golden_retriever' -> 'golden retriever'."""
    name = NUMBERED.sub("", SYNSET.sub("", folder.strip()))
    name = re.sub(r"[_\s]+", " ", name).strip()
    return name or folder


@dataclass(frozen=True)
class Entry:
    path: str  # absolute
    folder: str  # class key (folder name, or CSV label)
    split: str | None  # None: to be split automatically


@dataclass
class Discovery:
    root: str  # the dataset: its folder, or the CSV file itself
    layout: str
    description: str
    classes: list[str] = field(default_factory=list)  # every class key found, even empty ones
    where: dict[str, str] = field(default_factory=dict)  # class key -> a path to show the user
    entries: list[Entry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    ignored: Counter = field(default_factory=Counter)  # silently skipped OS litter, by kind
    names: dict[str, str] = field(default_factory=dict)  # class key -> display name (a CSV's)

    @property
    def split_source(self) -> str:
        if self.layout == "csv":
            return "csv" if any(e.split for e in self.entries) else "automatic"
        return "folders" if self.layout == "split-folders" else "automatic"


def _is_litter(name: str, is_dir: bool) -> bool:
    low = name.lower()
    return name.startswith(".") or (low in LITTER_DIRS if is_dir else low in LITTER_FILES)


def _subdirs(folder: Path, disc: Discovery) -> list[Path]:
    try:
        children = sorted(folder.iterdir(), key=lambda p: p.name)
    except OSError as exc:
        raise DatasetError(_("Cannot read the folder {folder}: {error}").format(
            folder=folder, error=exc.strerror or exc)) from None
    dirs = []
    for child in children:
        if _is_litter(child.name, child.is_dir()):
            disc.ignored[HIDDEN_FILES] += 1
        elif child.is_dir():
            dirs.append(child)
    return dirs


def _walk_images(top: Path, disc: Discovery) -> list[str]:
    """Image files under `top`, recursively; links followed, loops detected and reported.

    A link back to the dataset folder (or to the split folder above) counts as a loop too,
    otherwise a class folder could swallow the whole dataset.
    """
    found: list[str] = []
    visited: set[str] = {os.path.realpath(disc.root), os.path.realpath(top.parent)}
    for dirpath, dirnames, filenames in os.walk(top, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in visited:
            disc.problems.append(Problem(dirpath, _("folder link leads back to a folder already "
                                                    "scanned (symlink loop or duplicate link); "
                                                    "skipped")))
            dirnames[:] = []
            continue
        visited.add(real)
        keep = [d for d in dirnames if not _is_litter(d, True)]
        disc.ignored[HIDDEN_FILES] += len(dirnames) - len(keep)
        dirnames[:] = sorted(keep)
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            ext = os.path.splitext(name)[1].lower()
            if _is_litter(name, False):
                disc.ignored[HIDDEN_FILES] += 1
            elif ext in IMAGE_EXTENSIONS:
                found.append(path)
            elif ext in KNOWN_UNREADABLE:
                disc.problems.append(Problem(path, _("{kind} pictures cannot be read; convert it "
                                                     "to JPEG or PNG").format(
                    kind=_(KNOWN_UNREADABLE[ext]))))
            else:
                disc.problems.append(Problem(path, _("not a supported image type ('{ext}'); "
                                                     "ignored").format(
                    ext=ext or _("no extension"))))
    return found


def _loose_files(folder: Path, disc: Discovery, hint: str) -> None:
    """Images lying next to class folders belong to no class: say so."""
    for child in sorted(folder.iterdir(), key=lambda p: p.name):
        if child.is_file() and not _is_litter(child.name, False):
            if child.suffix.lower() in IMAGE_EXTENSIONS:
                disc.problems.append(Problem(str(child), _("image is not inside a class folder; "
                                                           "ignored ({hint})").format(hint=hint)))
            else:
                disc.ignored[OTHER_FILES] += 1


def _add_class_folders(disc: Discovery, folders: list[Path], split: str | None) -> None:
    for folder in folders:
        if folder.name not in disc.where:
            disc.classes.append(folder.name)
            disc.where[folder.name] = str(folder)
        disc.entries.extend(Entry(p, folder.name, split) for p in _walk_images(folder, disc))


def _split_dirs(dirs: list[Path]) -> dict[Path, str]:
    """Split folders, if this is the split layout: a train folder is required, so a class
    that happens to be called "test" next to other classes stays a class."""
    found = {d: SPLIT_ALIASES[d.name.lower()] for d in dirs if d.name.lower() in SPLIT_ALIASES}
    return found if "train" in found.values() else {}


def _synset_dirs(dirs: list[Path]) -> bool:
    return bool(dirs) and all(SYNSET.match(d.name) for d in dirs)


def discover_folder(root: Path) -> Discovery:
    probe = Discovery(str(root), "", "")
    scratch = Discovery(str(root), "", "")  # a look inside Images/ must not count litter twice
    dirs = _subdirs(root, probe)
    splits = _split_dirs(dirs)
    images_dir = next((d for d in dirs if d.name.lower() == "images"), None)
    if splits:
        disc = Discovery(str(root), "split-folders", _(DESCRIPTIONS["split-folders"]))
        for d in dirs:
            if d not in splits:
                disc.problems.append(Problem(str(d), _("folder ignored: with train/val/test "
                                                       "folders, class folders must be inside "
                                                       "them")))
        for d, split in sorted(splits.items(), key=lambda kv: kv[0].name):
            _loose_files(d, disc, _("put it in {folder}/<class>/").format(folder=d.name))
            _add_class_folders(disc, _subdirs(d, disc), split)
        disc.classes.sort(key=lambda c: (c.lower(), c))
    elif _synset_dirs(dirs) or (images_dir and _synset_dirs(_subdirs(images_dir, scratch))):
        disc = Discovery(str(root), "stanford-dogs", _(DESCRIPTIONS["stanford-dogs"]))
        base = root if _synset_dirs(dirs) else images_dir
        _add_class_folders(disc, _subdirs(base, disc), None)
    else:
        disc = Discovery(str(root), "class-folders", _(DESCRIPTIONS["class-folders"]))
        _add_class_folders(disc, dirs, None)
        disc.classes.sort(key=lambda c: (c.lower(), c))
    _loose_files(root, disc, _("put each image in a sub-folder named after its class"))
    disc.ignored.update(probe.ignored)
    return disc


def _delimiter(text: str) -> str:
    """',' unless another delimiter appears on every one of the first lines (Europe: ';').
    csv.Sniffer guesses wrong on two-column files, so count instead."""
    lines = [ln for ln in text.splitlines()[:50] if ln.strip() and not ln.startswith("#")][:20]
    best, best_count = ",", 0
    for d in (",", ";", "\t"):
        count = min((ln.count(d) for ln in lines), default=0)
        if count > best_count:
            best, best_count = d, count
    return best


def _read_csv_rows(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")  # old spreadsheet exports; every byte decodes
    rows = list(csv.reader(io.StringIO(text), delimiter=_delimiter(text)))
    return [[c.strip() for c in r] for r in rows]


_HEADER = {"path": ("path", "file", "filename", "file_name", "filepath", "image", "image_path"),
           "label": ("label", "class", "category", "class_name", "breed"),
           "split": ("split", "subset", "set", "fold"),
           "display_name": ("display_name", "display name")}


def _columns(first: list[str]) -> tuple[dict[str, int], bool]:
    low = [c.lower() for c in first]
    cols = {key: next((i for i, c in enumerate(low) if c in names), -1)
            for key, names in _HEADER.items()}
    if cols["path"] >= 0 and cols["label"] >= 0:
        return cols, True
    return {"path": 0, "label": 1, "split": 2, "display_name": 3}, False


def discover_csv(path: Path) -> Discovery:
    """A CSV of path,label[,split[,display_name]]: the dataset is the file (its root), and
    relative paths are relative to its folder; absolute ones stay absolute.

    The optional display_name column carries the class names the user chose (the reviewed
    CSV writes it): in the file itself rather than a sidecar, so the names travel wherever
    the CSV is copied and a spreadsheet shows and edits them. The first name given for a
    class counts."""
    disc = Discovery(str(path), "csv", _(DESCRIPTIONS["csv"]))
    try:
        rows = _read_csv_rows(path)
    except OSError as exc:
        raise DatasetError(_("Cannot read {path}: {error}").format(
            path=path, error=exc.strerror or exc)) from None
    rows_numbered = [(n, r) for n, r in enumerate(rows, 1) if any(r) and not r[0].startswith("#")]
    if not rows_numbered:
        return disc
    cols, has_header = _columns(rows_numbered[0][1])
    seen: dict[str, int] = {}  # image path -> first row listing it
    for n, row in rows_numbered[1:] if has_header else rows_numbered:
        cell = lambda key: row[cols[key]] if 0 <= cols[key] < len(row) else ""  # noqa: E731
        where = _("{file} row {row}").format(file=path.name, row=n)
        rel, label, split_text = cell("path"), cell("label"), cell("split")
        name = " ".join(cell("display_name").split())
        if not rel or not label:
            disc.problems.append(Problem(str(path), _("{where}: needs both a path and a label; "
                                                      "skipped").format(where=where)))
            continue
        image = Path(os.path.normpath(os.path.join(path.parent, rel)))  # absolute rel stays
        if not image.exists() and "\\" in rel and os.sep == "/":  # written on Windows
            image = Path(os.path.normpath(os.path.join(path.parent, rel.replace("\\", "/"))))
        split = SPLIT_ALIASES.get(split_text.lower()) if split_text else None
        if split_text and split is None:
            disc.problems.append(Problem(str(image), _(
                "{where}: split '{split}' is not train, val or test; this row is split "
                "automatically").format(where=where, split=split_text)))
        if image.suffix.lower() not in IMAGE_EXTENSIONS:
            disc.problems.append(Problem(str(image), _(
                "{where}: not a supported image type ('{ext}'); skipped").format(
                where=where, ext=image.suffix or _("no extension"))))
            continue
        if str(image) in seen:
            disc.problems.append(Problem(str(image), _(
                "{where}: same file as row {row}; skipped").format(
                where=where, row=seen[str(image)])))
            continue
        seen[str(image)] = n
        if label not in disc.where:
            disc.classes.append(label)
            disc.where[label] = str(path)
        if name and disc.names.setdefault(label, name) != name:
            disc.problems.append(Problem(str(image), _(
                "{where}: display name '{name}' differs from '{first}' given earlier for class "
                "'{label}'; the first one is used").format(where=where, name=name,
                                                           first=disc.names[label], label=label)))
        disc.entries.append(Entry(str(image), label, split))
    disc.classes.sort(key=lambda c: (c.lower(), c))
    return disc


def discover(source: str | os.PathLike) -> Discovery:
    """Recognise the layout of `source` (folder or .csv) and list its candidate files."""
    path = Path(source).expanduser()
    if not path.exists():
        raise DatasetError(_("{path} does not exist. Choose a folder of images (one sub-folder "
                             "per class) or a CSV file of path,label.").format(path=path))
    if path.is_file():
        if path.suffix.lower() != ".csv":
            raise DatasetError(_("{path} is a file, not a folder. Choose the folder that holds "
                                 "the class folders, or a .csv file of path,label.").format(
                path=path))
        return discover_csv(path.resolve())
    if not os.access(path, os.R_OK | os.X_OK):
        raise DatasetError(_("No permission to read the folder {path}.").format(path=path))
    root = path.resolve()
    disc = discover_folder(root)
    csvs = sorted(root.glob("*.csv"))
    if not disc.entries and len(csvs) == 1:  # a folder holding just images + one labels CSV
        return discover_csv(csvs[0])
    return disc


__all__ = ["discover", "discover_folder", "discover_csv", "readable_name", "Discovery", "Entry",
           "SPLIT_ALIASES", "DESCRIPTIONS"]


CSV_COLUMNS = ("path", "label", "split", "display_name")  # what discover_csv reads


def write_dataset_csv(path: str | os.PathLike, rows) -> Path:
    """A CSV dataset of `rows` (path, label, split, display_name) at `path`, written to a
    temporary file and renamed: a failure leaves no file, neither half-written nor temp."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(CSV_COLUMNS)
            writer.writerows(rows)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
