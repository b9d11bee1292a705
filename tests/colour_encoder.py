"""A tiny CLIP whose image embeddings separate the demo classes, for the sorting tests.

The random-weight tiny CLIP (engine.demo.model.make_tiny_clip) embeds the demo images
barely better than chance, so this one is rewired by hand, then saved with save_pretrained
and loaded the real way: each patch embeds as its mean colour plus a constant channel, the
first block's MLP turns on one channel per demo colour where a patch has that colour, and
the second block averages the patches into the class token (uniform attention). So an
image's embedding holds how much of each demo colour it shows.
"""
from __future__ import annotations

from pathlib import Path

import torch

CONSTANT = 10.0  # the constant channel: keeps a patch's colour size through the layer norms
GAIN, THRESHOLD = 10.0, 0.9  # a colour channel fires where the patch's colour is that colour


def make_colour_clip(folder: str | Path) -> Path:
    from transformers import CLIPModel, CLIPProcessor

    from engine.demo.dataset import DEMO_CLASSES
    from engine.demo.model import make_tiny_clip

    folder = make_tiny_clip(folder, patch_size=4, hidden_size=32, layers=2)
    model = CLIPModel.from_pretrained(folder)
    proc = CLIPProcessor.from_pretrained(folder).image_processor
    mean, std = torch.tensor(proc.image_mean), torch.tensor(proc.image_std)
    vision = model.vision_model
    emb, (first, second) = vision.embeddings, vision.encoder.layers
    hidden = emb.patch_embedding.weight.shape[0]
    with torch.no_grad():
        w = emb.patch_embedding.weight  # [H, 3, p, p]: channel k < 3 = mean of colour k
        w.zero_()
        for k in range(6):
            w[k, k % 3] = (1 if k < 3 else -1) / w[0, 0].numel()
        emb.position_embedding.weight.zero_()
        emb.position_embedding.weight[:, 6] = CONSTANT
        emb.class_embedding.zero_()
        first.self_attn.out_proj.weight.zero_()  # block 1: no mixing, the colour detectors
        first.self_attn.out_proj.bias.zero_()
        fc1, fc2 = first.mlp.fc1, first.mlp.fc2
        fc1.weight.zero_(), fc1.bias.zero_(), fc2.weight.zero_(), fc2.bias.zero_()
        sigma = (CONSTANT ** 2 / hidden) ** 0.5  # a token's spread after the layer norm
        for k, (_name, rgb, _shape) in enumerate(DEMO_CLASSES):
            ref = (torch.tensor(rgb) / 255 - mean) / std
            fc1.weight[k, :3] = GAIN * sigma * ref / ref.norm()
            fc1.bias[k] = -GAIN * THRESHOLD
            fc2.weight[8 + k, k] = 1.0
        a = second.self_attn  # block 2: the class token takes the mean of every token
        for lin in (a.q_proj, a.k_proj):
            lin.weight.zero_(), lin.bias.zero_()
        for lin in (a.v_proj, a.out_proj):
            lin.weight.copy_(torch.eye(hidden)), lin.bias.zero_()
        second.mlp.fc2.weight.zero_(), second.mlp.fc2.bias.zero_()
    model.save_pretrained(folder)
    return Path(folder)


def unsorted_copy(labelled: Path, folder: Path) -> tuple[dict[str, str], list[str]]:
    """The class folders of `labelled` copied, flattened, into `folder` under names that say
    nothing ("IMG_0037.jpg"): ({copied path: true class}, classes)."""
    import shutil

    folder.mkdir(parents=True, exist_ok=True)
    classes = sorted(p.name for p in Path(labelled).iterdir() if p.is_dir())
    truth, n = {}, 0
    for cls in classes:
        for src in sorted((Path(labelled) / cls).glob("*.jpg")):
            target = folder / f"IMG_{(n * 37) % 1000:04d}.jpg"
            shutil.copy(src, target)
            truth[str(target)] = cls
            n += 1
    return truth, classes
