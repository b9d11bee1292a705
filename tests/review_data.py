"""Generated datasets for the data-check tests: classes any image tower tells apart, with
labels flipped on purpose, and a fingerprint to prove a folder was not touched."""
from __future__ import annotations

import hashlib
import random
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

COLOURS = {"red": (200, 40, 40), "green": (40, 170, 60), "blue": (40, 70, 210),
           "yellow": (220, 200, 40)}
FLIPPED = 4  # 10 % of the 40 red images are filed under green


def colour_folder(root: Path, per_class: int = 40, seed: int = 3) -> Path:
    """Class folders of noisy flat colours."""
    rng = random.Random(seed)
    for name, colour in COLOURS.items():
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            noise = np.random.default_rng(rng.randrange(1 << 30)).normal(0, 25, (72, 96, 3))
            pixels = np.clip(np.array(colour) + rng.gauss(0, 1) * 20 + noise, 0, 255)
            Image.fromarray(pixels.astype(np.uint8)).save(root / name / f"{name}_{i:03d}.jpg",
                                                          quality=90)
    return root


def flip_labels(data: Path) -> set[str]:
    """Move FLIPPED red images into the green folder; returns their new paths."""
    moved = sorted((data / "red").glob("*.jpg"))[:FLIPPED]
    for p in moved:
        shutil.move(str(p), str(data / "green" / p.name))
    return {str(data / "green" / p.name) for p in moved}


def fingerprint(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}
