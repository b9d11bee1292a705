"""Files the live page writes: a snapshot (the frame as PNG + its prediction as JSON
beside it) and a frame added to a dataset's class folder. Never overwrites: a name that
is taken gets "-2", "-3", ... (created exclusively, so two saves cannot race)."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtGui import QImage

from gui.i18n import translate


def default_snapshot_folder() -> Path:
    from engine.config import default_data_dir

    return default_data_dir() / "snapshots"


def frame_stem(source: str, seconds: float, camera: bool) -> str:
    """"clip-0m03.5s" for a video frame, "camera-20261207-141503" for a camera frame."""
    if camera:
        return "camera-" + time.strftime("%Y%m%d-%H%M%S")
    stem = Path(source).stem or "video"
    return f"{stem}-{int(seconds // 60)}m{seconds % 60:04.1f}s"


def png_bytes(image: QImage) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise OSError(translate("LiveSnapshot", "the frame could not be encoded as PNG"))
    return bytes(data.data())


def write_new(folder: Path, stem: str, suffix: str, data: bytes) -> Path:
    """Write `data` to folder/stem<suffix>, or stem-2<suffix>, ...: the first free name."""
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(1, 10_000):
        path = folder / (f"{stem}{suffix}" if n == 1 else f"{stem}-{n}{suffix}")
        try:
            with open(path, "xb") as f:  # exclusive: fails if the name is taken
                f.write(data)
            return path
        except FileExistsError:
            continue
    raise OSError(translate("LiveSnapshot", "no free file name for {stem} in {folder}").format(
        stem=stem, folder=folder))


def save_snapshot(folder: Path, stem: str, image: QImage, info: dict) -> Path:
    """The frame as PNG and, with the same name, its prediction as JSON. Returns the PNG."""
    png = write_new(folder, stem, ".png", png_bytes(image))
    info = {**info, "image": png.name, "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
    sidecar = png.with_suffix(".json")
    try:
        with open(sidecar, "x", encoding="utf-8") as f:
            json.dump(info, f, indent=1, sort_keys=True, ensure_ascii=False)
    except FileExistsError:  # a stray JSON of that name: keep it, write one beside it
        write_new(folder, png.stem + "-prediction", ".json",
                  json.dumps(info, indent=1, sort_keys=True).encode("utf-8"))
    return png


def class_folder(index, label: str) -> Path | None:
    """Where a new image of class `label` goes in a folder dataset (DatasetIndex): its
    class folder (under train/ for a dataset split in folders); None for a CSV dataset."""
    if index.layout not in ("class-folders", "split-folders"):
        return None
    folder = next((c.folder for c in index.classes if label in (c.display_name, c.folder)),
                  label)
    root = Path(index.root)
    return root / "train" / folder if index.layout == "split-folders" else root / folder


def next_free(folder: Path, stem: str, suffix: str = ".png") -> Path:
    """The name write_new would use now (shown to the user before they confirm)."""
    for n in range(1, 10_000):
        path = folder / (f"{stem}{suffix}" if n == 1 else f"{stem}-{n}{suffix}")
        if not os.path.exists(path):
            return path
    return folder / f"{stem}{suffix}"
