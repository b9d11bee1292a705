"""The demo dataset: a learnable, generated image folder (coloured shapes on noise).

It lets anyone try the whole workflow without data of their own; the tests, the bench and
the packaged app's self-test draw their images with the same code.
"""
from __future__ import annotations

import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

# Each class differs in colour, shape and texture, so even a random-weight encoder
# plus LoRA can learn them; noise and random placement keep it from being trivial.
DEMO_CLASSES = (
    ("red_circle", (215, 40, 40), "circle"),
    ("green_square", (40, 170, 60), "square"),
    ("blue_triangle", (40, 80, 220), "triangle"),
    ("yellow_stripes", (230, 200, 30), "stripes"),
    ("purple_ring", (140, 50, 170), "ring"),
    ("orange_cross", (240, 130, 20), "cross"),
)


def _draw_sample(rng: random.Random, colour: tuple[int, int, int], shape: str,
                 size: tuple[int, int]) -> Image.Image:
    w, h = size
    bg = tuple(rng.randint(90, 170) for _ in range(3))
    img = Image.new("RGB", size, bg)
    draw = ImageDraw.Draw(img)
    jitter = lambda c: tuple(max(0, min(255, v + rng.randint(-25, 25))) for v in c)  # noqa: E731
    fill = jitter(colour)
    r = int(min(w, h) * rng.uniform(0.25, 0.4))
    cx, cy = rng.randint(r, w - r), rng.randint(r, h - r)
    if shape == "circle":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
    elif shape == "square":
        draw.rectangle([cx - r, cy - r, cx + r, cy + r], fill=fill)
    elif shape == "triangle":
        draw.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=fill)
    elif shape == "stripes":
        step = max(3, r // 3)
        for x in range(0, w, 2 * step):
            draw.rectangle([x, 0, x + step - 1, h], fill=fill)
    elif shape == "ring":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=fill, width=max(2, r // 3))
    elif shape == "cross":
        t = max(2, r // 3)
        draw.rectangle([cx - r, cy - t, cx + r, cy + t], fill=fill)
        draw.rectangle([cx - t, cy - r, cx + t, cy + r], fill=fill)
    # sensor-like noise
    noise = Image.effect_noise(size, rng.uniform(10, 30)).convert("RGB")
    img = Image.blend(img, noise, 0.12)
    if rng.random() < 0.3:
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.0)))
    return img


def make_demo_dataset(root: str | Path, *, num_classes: int = 4, per_class: int = 30,
                      size: tuple[int, int] = (96, 72), seed: int = 0,
                      splits: dict[str, int] | None = None) -> Path:
    """Write a learnable labelled JPEG folder.

    Without `splits` the layout is `root/<class>/*.jpg` (split automatically later);
    with e.g. `splits={"train": 20, "val": 5, "test": 5}` it is `root/<split>/<class>/*.jpg`.
    """
    if not 2 <= num_classes <= len(DEMO_CLASSES):
        raise ValueError(f"num_classes must be between 2 and {len(DEMO_CLASSES)}")
    root = Path(root)
    rng = random.Random(seed)
    plan = splits or {"": per_class}
    for name, colour, shape in DEMO_CLASSES[:num_classes]:
        for split, count in plan.items():
            folder = root / split / name if split else root / name
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(count):
                img = _draw_sample(rng, colour, shape, size)
                img.save(folder / f"{name}_{split or 'img'}_{i:04d}.jpg", quality=90)
    return root


def demo_class_count() -> int:
    return len(DEMO_CLASSES)
