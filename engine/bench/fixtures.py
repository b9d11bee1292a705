"""Benchmark material, generated locally and cached under bench_out/ for the next run.

- CLIP checkpoints with random weights but real architecture sizes, written with
  save_pretrained, so they load through the same code path as a downloaded checkpoint
  (the headline one is ViT-B/32-shaped: vision 768 x 12 layers, patch 32, 224 px;
  text 512 x 12 layers; projection 512) with a tiny character-level tokenizer.
- Folders of learnable JPEGs at a typical photo size (500 x 375), drawn by engine.demo.dataset.
- Growth sets (1k ... 20k images): CSV files over distinct JPEG files made from the base
  images by inserting a unique JPEG comment (same pixels, same decode cost, different
  bytes, so neither the duplicate check nor the decode cache can take a shortcut).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

FIXTURE_VERSION = 1  # bump when generated files would change


@dataclass(frozen=True)
class ModelSpec:
    name: str
    description: str
    image_size: int
    patch_size: int
    hidden: int
    layers: int
    heads: int
    text_hidden: int
    text_layers: int
    text_heads: int
    projection: int

    def intermediate(self, hidden: int) -> int:
        return 4 * hidden  # CLIP's MLP ratio


MODELS = {
    "vit-b32": ModelSpec("vit-b32", "ViT-B/32-shaped CLIP (random weights)", 224, 32, 768, 12,
                         12, 512, 12, 8, 512),
    "vit-b16": ModelSpec("vit-b16", "ViT-B/16-shaped CLIP (random weights)", 224, 16, 768, 12,
                         12, 512, 12, 8, 512),
    "vit-b32-2l": ModelSpec("vit-b32-2l", "ViT-B/32 width, 2 of its 12 blocks (quick mode)",
                            224, 32, 768, 2, 12, 512, 2, 8, 512),
    "small-224": ModelSpec("small-224", "small CLIP at 224 px (2 blocks of width 64)", 224, 32,
                           64, 2, 2, 64, 2, 2, 32),
    "small-64": ModelSpec("small-64", "small CLIP at 64 px (12 blocks of width 96)", 64, 16, 96,
                          12, 4, 64, 2, 2, 64),
    "tiny": ModelSpec("tiny", "tiny CLIP at 32 px (2 blocks of width 32)", 32, 8, 32, 2, 2, 32,
                      2, 2, 16),
}


@dataclass(frozen=True)
class DataSpec:
    name: str
    classes: int
    train: int  # images per class
    val: int
    test: int
    width: int = 500
    height: int = 375
    seed: int = 7

    @property
    def total(self) -> int:
        return self.classes * (self.train + self.val + self.test)


DATASETS = {
    "photos-1000": DataSpec("photos-1000", 5, 200, 16, 16),
    "photos-260": DataSpec("photos-260", 5, 52, 8, 8),
    "photos-16": DataSpec("photos-16", 4, 4, 2, 2, width=160, height=120),
}


def _marker_matches(marker: Path, expected: dict) -> bool:
    try:
        return json.loads(marker.read_text("utf-8")) == expected
    except (OSError, ValueError):
        return False


def _claim(folder: Path, marker: Path) -> None:
    """Clear a fixture folder for regeneration, but only one the bench made (has a marker)."""
    if folder.exists() and not marker.exists():
        raise FileExistsError(f"{folder} exists but was not made by the bench: move it away or "
                              "choose another --output folder")
    _remove_tree(folder)


def _write_marker(marker: Path, content: dict) -> None:
    marker.write_text(json.dumps(content, indent=2, sort_keys=True), "utf-8")


def ensure_model(root: str | Path, name: str) -> Path:
    """The checkpoint folder of MODELS[name] under root/models/, created on first use."""
    spec = MODELS[name]
    folder = Path(root) / "models" / name
    marker = folder / "bench_model.json"
    expected = {"version": FIXTURE_VERSION, **asdict(spec)}
    if _marker_matches(marker, expected) and (folder / "config.json").is_file():
        return folder
    _claim(folder, marker)
    _save_clip(folder, spec)
    _write_marker(marker, expected)
    return folder


def _save_clip(folder: Path, spec: ModelSpec) -> None:
    import torch
    from transformers import (CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor,
                              CLIPTokenizer)

    from engine.demo.model import _char_bpe_vocab

    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = CLIPTokenizer(vocab=_char_bpe_vocab(), merges=[])
    text_cfg = dict(vocab_size=len(tokenizer.get_vocab()), hidden_size=spec.text_hidden,
                    intermediate_size=spec.intermediate(spec.text_hidden),
                    num_hidden_layers=spec.text_layers, num_attention_heads=spec.text_heads,
                    max_position_embeddings=77, projection_dim=spec.projection,
                    bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                    pad_token_id=tokenizer.pad_token_id)
    # projection_dim must sit in the vision sub-config too (see design.md, pitfalls)
    vision_cfg = dict(image_size=spec.image_size, patch_size=spec.patch_size,
                      hidden_size=spec.hidden, intermediate_size=spec.intermediate(spec.hidden),
                      num_hidden_layers=spec.layers, num_attention_heads=spec.heads,
                      projection_dim=spec.projection)
    config = CLIPConfig(text_config=text_cfg, vision_config=vision_cfg,
                        projection_dim=spec.projection)
    torch.manual_seed(0)
    CLIPModel(config).save_pretrained(folder)
    image_processor = CLIPImageProcessor(
        size={"shortest_edge": spec.image_size},
        crop_size={"height": spec.image_size, "width": spec.image_size})
    CLIPProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(folder)


def ensure_dataset(root: str | Path, name: str) -> Path:
    """root/data/<name>/{train,val,test}/<class>/*.jpg of learnable JPEGs (DATASETS[name])."""
    from engine.demo.dataset import make_demo_dataset

    spec = DATASETS[name]
    folder = Path(root) / "data" / name
    marker = folder.with_suffix(".json")  # beside the folder: scans must not see it
    expected = {"version": FIXTURE_VERSION, **asdict(spec)}
    if _marker_matches(marker, expected) and folder.is_dir():
        return folder
    _claim(folder, marker)
    make_demo_dataset(folder, num_classes=spec.classes, size=(spec.width, spec.height),
                      seed=spec.seed,
                      splits={"train": spec.train, "val": spec.val, "test": spec.test})
    _write_marker(marker, expected)
    return folder


def split_files(dataset: Path, split: str) -> list[tuple[str, str]]:
    """[(path, class folder)] of one split of a split-folder dataset, sorted."""
    return [(str(p), p.parent.name) for p in sorted((dataset.resolve() / split).glob("*/*.jpg"))]


def with_comment(jpeg: bytes, text: str) -> bytes:
    """The same JPEG with a COM segment right after SOI: identical pixels, distinct bytes."""
    if jpeg[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG")
    payload = text.encode("ascii")
    return jpeg[:2] + b"\xff\xfe" + (len(payload) + 2).to_bytes(2, "big") + payload + jpeg[2:]


def ensure_growth(root: str | Path, base: Path, sizes: list[int],
                  val_images: int = 64) -> dict[int, Path]:
    """CSV files (path,label,split) with `size` distinct training JPEGs each.

    The training files of the largest size are written once (the smaller sizes list a
    prefix of them); all sizes share the same `val_images` validation images.
    """
    folder = (Path(root) / "data" / f"growth-{base.name}").resolve()  # CSV rows: absolute
    biggest = max(sizes)
    marker = folder / "growth.json"
    expected = {"version": FIXTURE_VERSION, "base": str(base), "files": biggest,
                "val": val_images, "sizes": sorted(sizes)}
    csvs = {n: folder / f"growth-{n}.csv" for n in sizes}
    if _marker_matches(marker, expected) and all(p.is_file() for p in csvs.values()):
        return csvs
    _claim(folder, marker)
    sources = split_files(base, "train")
    rows: list[tuple[str, str]] = []
    for i in range(biggest):  # round-robin over the base images keeps the classes balanced
        src, label = sources[i % len(sources)]
        target = folder / "images" / label / f"g{i:06d}.jpg"
        if i < len(sources):
            target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(with_comment(Path(src).read_bytes(), f"lora-studio bench {i}"))
        rows.append((str(target), label))
    val = split_files(base, "val")[:val_images]
    for n, path in csvs.items():
        lines = ["path,label,split"] + [f"{p},{c},train" for p, c in rows[:n]] + \
                [f"{p},{c},val" for p, c in val]
        path.write_text("\n".join(lines) + "\n", "utf-8")
    _write_marker(marker, expected)
    return csvs


def _remove_tree(folder: Path) -> None:
    import shutil

    if folder.exists():
        shutil.rmtree(folder)


def fresh_dir(path: str | Path) -> Path:
    """An empty folder at `path` (removed first if it exists)."""
    path = Path(path)
    _remove_tree(path)
    path.mkdir(parents=True, exist_ok=True)
    return path


def folder_bytes(folder: str | Path) -> int:
    return sum(f.stat().st_size for f in Path(folder).rglob("*") if f.is_file())


__all__ = ["MODELS", "DATASETS", "ModelSpec", "DataSpec", "ensure_model", "ensure_dataset",
           "ensure_growth", "split_files", "with_comment", "fresh_dir", "folder_bytes"]
