"""Offline demo material: a learnable synthetic image folder and a tiny CLIP model.

Both are generated locally (no network): the demo dataset lets anyone try the whole
workflow without data of their own, and the tiny CLIP-architecture model (random
weights, clearly untrained) lets it run without downloading a checkpoint. Tests use
the same builders, so they exercise the exact loading path of a real checkpoint.
"""
from __future__ import annotations

import json
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

DEMO_MODEL_MARKER = "lora_studio_demo_model.json"

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


def make_tiny_clip(folder: str | Path, *, image_size: int = 32, patch_size: int = 8,
                   hidden_size: int = 32, layers: int = 2, heads: int = 2,
                   projection_dim: int = 16, seed: int = 0) -> Path:
    """Save a tiny CLIP (random weights) + tokenizer + processor with `save_pretrained`.

    It has the real CLIP architecture, so it loads through exactly the code path of a
    downloaded checkpoint; it is untrained, and marked as such by DEMO_MODEL_MARKER.
    """
    import torch
    from transformers import CLIPConfig, CLIPModel, CLIPProcessor, CLIPTokenizer

    try:  # transformers 5: the PIL backend, which needs no torchvision
        from transformers import CLIPImageProcessorPil as CLIPImageProcessor
    except ImportError:
        from transformers import CLIPImageProcessor

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    vocab = _char_bpe_vocab()
    vocab_size = len(vocab)
    tokenizer = CLIPTokenizer(vocab=vocab, merges=[])
    text_cfg = dict(vocab_size=vocab_size, hidden_size=hidden_size, intermediate_size=hidden_size * 2,
                    num_hidden_layers=layers, num_attention_heads=heads, max_position_embeddings=77,
                    projection_dim=projection_dim,
                    bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                    pad_token_id=tokenizer.pad_token_id)
    vision_cfg = dict(image_size=image_size, patch_size=patch_size, hidden_size=hidden_size,
                      intermediate_size=hidden_size * 2, num_hidden_layers=layers,
                      num_attention_heads=heads, projection_dim=projection_dim)
    config = CLIPConfig(text_config=text_cfg, vision_config=vision_cfg,
                        projection_dim=projection_dim)
    torch.manual_seed(seed)
    model = CLIPModel(config)
    from engine.model import quiet_transformers

    with quiet_transformers():  # e.g. the note that torchvision is not installed
        image_processor = CLIPImageProcessor(size={"shortest_edge": image_size},
                                             crop_size={"height": image_size, "width": image_size})
        model.save_pretrained(folder)
        CLIPProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(folder)
    (folder / DEMO_MODEL_MARKER).write_text(json.dumps({
        "description": "Tiny CLIP-architecture model with random weights (untrained), "
                       "made by LoRA Studio for offline demos and tests.",
        "image_size": image_size,
    }, indent=2), encoding="utf-8")
    return folder


def is_demo_model(folder: str | Path) -> bool:
    return (Path(folder) / DEMO_MODEL_MARKER).is_file()


def _char_bpe_vocab() -> dict[str, int]:
    """A character-level byte-BPE vocabulary in CLIP's format (no merges needed)."""
    chars = _bytes_to_unicode()
    vocab: dict[str, int] = {}
    for c in chars:
        vocab[c] = len(vocab)
    for c in chars:
        vocab[c + "</w>"] = len(vocab)
    for special in ("<|startoftext|>", "<|endoftext|>"):
        vocab[special] = len(vocab)
    return vocab


def _bytes_to_unicode() -> list[str]:
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for c in cs]


def demo_class_count() -> int:
    return len(DEMO_CLASSES)


__all__ = ["make_demo_dataset", "make_tiny_clip", "is_demo_model", "DEMO_CLASSES",
           "ensure_demo_model", "default_data_dir",
           "DEMO_MODEL_MARKER", "demo_class_count"]


def default_data_dir() -> Path:
    """Per-user folder for LoRA Studio's generated files (demo model, caches)."""
    import os

    env = os.environ.get("LORA_STUDIO_HOME")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share")
    return Path(base) / "lora-studio"


def ensure_demo_model(folder: str | Path | None = None) -> Path:
    """The offline demo model (tiny, random weights, 64 px), created on first use."""
    folder = Path(folder) if folder else default_data_dir() / "demo-model"
    if is_demo_model(folder) and (folder / "config.json").is_file():
        return folder
    return make_tiny_clip(folder, image_size=64, patch_size=16, hidden_size=64, layers=4,
                          heads=4, projection_dim=32, seed=0)
