"""The demo model: a tiny CLIP-architecture checkpoint with random weights, made locally.

It lets the app's demo run without downloading a checkpoint (it is clearly marked as
untrained), and lets the tests exercise the exact loading path of a real checkpoint
(save_pretrained to a folder, then from_pretrained).
"""
from __future__ import annotations

import json
from pathlib import Path

from engine.config import default_data_dir

DEMO_MODEL_MARKER = "lora_studio_demo_model.json"


def make_tiny_clip(folder: str | Path, *, image_size: int = 32, patch_size: int = 8,
                   hidden_size: int = 32, layers: int = 2, heads: int = 2,
                   projection_dim: int = 16, seed: int = 0) -> Path:
    """Save a tiny CLIP (random weights) + tokenizer + processor with `save_pretrained`.

    It has the real CLIP architecture, so it loads through exactly the code path of a
    downloaded checkpoint; it is untrained, and marked as such by DEMO_MODEL_MARKER.
    """
    from engine.libraries import ready

    ready()  # transformers' first import happens in one thread at a time (engine/libraries.py)
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
    from engine.model.classifier import quiet_transformers

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


def ensure_demo_model(folder: str | Path | None = None) -> Path:
    """The offline demo model (tiny, random weights, 64 px), created on first use."""
    folder = Path(folder) if folder else default_data_dir() / "demo-model"
    if is_demo_model(folder) and (folder / "config.json").is_file():
        return folder
    return make_tiny_clip(folder, image_size=64, patch_size=16, hidden_size=64, layers=4,
                          heads=4, projection_dim=32, seed=0)
