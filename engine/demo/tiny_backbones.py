"""Tiny random checkpoints of the other backbone families (SigLIP, DINOv2), made the way the
tiny CLIP is: the real architecture from a small config, written with save_pretrained with
its own processor files, so tests load it through exactly the path a downloaded checkpoint
takes. The tiny SigLIP carries SigLIP's own kind of tokenizer, a SentencePiece model
(engine.demo.tokenizers).
"""
from __future__ import annotations

import json
from pathlib import Path

from engine.demo.model import DEMO_MODEL_MARKER
from engine.libraries import ready


def _mark(folder: Path, family: str, image_size: int) -> None:
    (folder / DEMO_MODEL_MARKER).write_text(json.dumps({
        "description": f"Tiny {family} model with random weights (untrained), made by LoRA "
                       "Studio for offline tests.",
        "image_size": image_size,
    }, indent=2), encoding="utf-8")


def make_tiny_siglip(folder: str | Path, *, image_size: int = 32, patch_size: int = 8,
                     hidden_size: int = 32, layers: int = 2, heads: int = 2, seed: int = 0) -> Path:
    """A tiny SiglipModel (image + text towers, attention-pooling head) with its processor and
    the tokenizer SigLIP publishes: a SentencePiece spiece.model read by SiglipTokenizer
    (engine.demo.tokenizers), so it loads exactly as google/siglip-base-patch16-224 does."""
    ready()  # transformers' first import happens in one thread at a time (engine/libraries.py)
    import torch
    from transformers import SiglipConfig, SiglipModel

    from engine.demo.tokenizers import siglip_tokenizer_files, vocab_size
    from engine.model.classifier import quiet_transformers

    try:  # transformers 5: the PIL backend, which needs no torchvision
        from transformers import SiglipImageProcessorPil as SiglipImageProcessor
    except ImportError:
        from transformers import SiglipImageProcessor

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer_files = siglip_tokenizer_files(max_length=24)
    text = dict(vocab_size=vocab_size(tokenizer_files["spiece.model"]), hidden_size=hidden_size,
                intermediate_size=hidden_size * 2, num_hidden_layers=layers,
                num_attention_heads=heads, max_position_embeddings=24,
                projection_size=hidden_size, pad_token_id=1, eos_token_id=1, bos_token_id=1)
    vision = dict(image_size=image_size, patch_size=patch_size, hidden_size=hidden_size,
                  intermediate_size=hidden_size * 2, num_hidden_layers=layers,
                  num_attention_heads=heads)
    torch.manual_seed(seed)
    model = SiglipModel(SiglipConfig(text_config=text, vision_config=vision))
    with torch.no_grad():  # SigLIP's trained values are near these (scale ~ 112, bias ~ -17)
        model.logit_scale.fill_(2.3)
        model.logit_bias.fill_(-10.0)
    with quiet_transformers():
        model.save_pretrained(folder)
        # squash to a square, bicubic, mean/std 0.5: SiglipImageProcessor's published settings
        SiglipImageProcessor(size={"height": image_size, "width": image_size},
                             resample=3).save_pretrained(folder)
    for name, data in tokenizer_files.items():
        (folder / name).write_bytes(data)
    _mark(folder, "SigLIP", image_size)
    return folder


def make_tiny_dinov2(folder: str | Path, *, image_size: int = 32, patch_size: int = 8,
                     hidden_size: int = 32, layers: int = 2, heads: int = 2, seed: int = 0) -> Path:
    """A tiny Dinov2Model (image tower only) with DINOv2's image processor (ImageNet
    mean/std, resize then centre crop)."""
    ready()
    import torch
    from transformers import Dinov2Config, Dinov2Model

    from engine.model.classifier import quiet_transformers

    try:
        from transformers import BitImageProcessorPil as BitImageProcessor
    except ImportError:
        from transformers import BitImageProcessor

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    model = Dinov2Model(Dinov2Config(image_size=image_size, patch_size=patch_size,
                                     hidden_size=hidden_size, intermediate_size=hidden_size * 2,
                                     num_hidden_layers=layers, num_attention_heads=heads))
    with quiet_transformers():
        model.save_pretrained(folder)
        BitImageProcessor(size={"shortest_edge": image_size},
                          crop_size={"height": image_size, "width": image_size},
                          image_mean=[0.485, 0.456, 0.406], image_std=[0.229, 0.224, 0.225]
                          ).save_pretrained(folder)
    _mark(folder, "DINOv2", image_size)
    return folder
