"""Why this class? Grad-CAM heat maps over the image, for ViT image towers.

Grad-CAM (Selvaraju et al.) weighs a layer's feature maps by the gradient of the class
score and keeps the positive part. captum's LayerGradCam does the arithmetic; what a ViT
needs is a layer whose output *is* a feature map. The usual choice for ViTs is the first
layer norm of the last encoder block (its patch tokens still carry where things are): for
the time of an explanation that layer norm is wrapped so its patch tokens pass through a
[B, C, H, W] view (`_PatchGrid`) that captum hooks. The wrapper computes exactly what the
layer norm did, so the model's outputs do not change, and it is removed afterwards.

The heat map covers what the model saw: the part of the image its processor keeps (CLIP's
centre square, DINOv2's central crop, SigLIP's whole picture squashed to a square) at the
model's input size. `overlay` blends it over that picture in a blue-to-red colour ramp.
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import torch
from PIL import Image
from torch import nn

from engine.i18n import _


class _PatchGrid(nn.Module):
    """Patch tokens [B, H*W, C] -> feature map [B, C, H, W] (the layer Grad-CAM hooks)."""

    def forward(self, patches: torch.Tensor) -> torch.Tensor:
        b, n, c = patches.shape
        side = math.isqrt(n)
        return patches.transpose(1, 2).reshape(b, c, side, side)


class _GridLayerNorm(nn.Module):
    """A layer norm whose patch tokens go through _PatchGrid and back: same output. The
    first `prefix` tokens (CLS, register tokens; none for SigLIP) pass by the grid."""

    def __init__(self, norm: nn.Module, prefix: int):
        super().__init__()
        self.norm = norm
        self.prefix = prefix
        self.grid = _PatchGrid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.norm(x)
        head, patches = y[:, :self.prefix], y[:, self.prefix:]
        grid = self.grid(patches)
        return torch.cat([head, grid.flatten(2).transpose(1, 2)], dim=1)


@contextlib.contextmanager
def gradcam_layer(vision: nn.Module) -> Iterator[nn.Module]:
    """The _PatchGrid of the last block, installed for the duration of the block."""
    from engine.model.backbones import base_tower, family_of_module

    family = family_of_module(vision)
    blocks = family.blocks(vision)
    if not len(blocks):
        raise ValueError(_("this image tower has no ViT encoder blocks to explain"))
    block = blocks[-1]
    original = getattr(block, family.norm_in_block)
    wrapper = _GridLayerNorm(original, family.token_prefix(base_tower(vision).config))
    setattr(block, family.norm_in_block, wrapper)
    try:
        yield wrapper.grid
    finally:
        setattr(block, family.norm_in_block, original)


@dataclass
class Explanation:
    source: str
    label: str  # the class explained (the predicted one unless asked otherwise)
    probability: float
    heat: np.ndarray  # [S, S] in 0..1 over the model's input
    crop: Image.Image  # the part of the image the model saw, as it saw it (input size)


def explain(predictor, inputs: Sequence, targets: Sequence[int] | None = None,
            batch_size: int = 8) -> list[Explanation]:
    """Grad-CAM of each readable input for its predicted class (or `targets[i]`)."""
    from captum.attr import LayerAttribution, LayerGradCam

    model = predictor.model
    size = predictor.info.image_size
    results: list[Explanation] = []
    for start in range(0, len(inputs), batch_size):
        chunk = list(inputs[start:start + batch_size])
        images = torch.stack([torch.from_numpy(predictor.decode(item)) for item in chunk])
        pixels = predictor.augmenter.eval_batch(images.to(predictor.device))
        with torch.no_grad(), predictor.precision.autocast():
            probs = model(pixels).float().softmax(-1)
        wanted = probs.argmax(-1) if targets is None else \
            torch.tensor(targets[start:start + batch_size], device=probs.device)
        with gradcam_layer(model.vision) as layer, predictor.precision.autocast():
            cam = LayerGradCam(model, layer).attribute(pixels.requires_grad_(True),
                                                       target=wanted.tolist(),
                                                       relu_attributions=True)
        heat = LayerAttribution.interpolate(cam.float().detach(), (size, size),
                                            interpolate_mode="bilinear")[:, 0]
        peak = heat.flatten(1).amax(1).clamp_min(1e-12)[:, None, None]
        heat = (heat / peak).clamp(0, 1).cpu().numpy()
        crops = _crops(predictor, images)
        for i, item in enumerate(chunk):
            k = int(wanted[i])
            results.append(Explanation(str(getattr(item, "filename", "") or item),
                                       predictor.class_names[k], float(probs[i, k]),
                                       heat[i], crops[i]))
    return results


def _crops(predictor, images: torch.Tensor) -> list[Image.Image]:
    """What the model saw, as RGB images at its input size: the decoded pictures are
    already framed by the processor's rules (for runs from before framings, the centre
    of a larger square, which the evaluation crop then resizes)."""
    aug, size = predictor.augmenter, predictor.info.image_size
    r = images.shape[-1]
    side = max(1, round(r * aug.eval_crop))
    off = (r - side) // 2
    crops = images[..., off:off + side, off:off + side]
    return [Image.fromarray(c.permute(1, 2, 0).numpy()).resize((size, size), Image.BILINEAR)
            for c in crops]


# blue -> cyan -> yellow -> red, the usual heat ramp
_RAMP = np.array([(48, 18, 160), (32, 140, 230), (70, 220, 160), (250, 230, 40), (225, 40, 30)],
                 dtype=np.float32)


def colourise(heat: np.ndarray) -> np.ndarray:
    """[H, W] in 0..1 -> [H, W, 3] uint8 on the ramp."""
    t = np.clip(heat, 0, 1) * (len(_RAMP) - 1)
    i = np.minimum(t.astype(int), len(_RAMP) - 2)
    f = (t - i)[..., None]
    return (_RAMP[i] * (1 - f) + _RAMP[i + 1] * f).astype(np.uint8)


def overlay(explanation: Explanation, alpha: float = 0.45, size: int | None = None) -> Image.Image:
    """The crop with the heat map blended over it (more opaque where the heat is high)."""
    crop = explanation.crop.convert("RGB")
    if size:
        crop = crop.resize((size, size), Image.BILINEAR)
    heat = np.asarray(Image.fromarray((explanation.heat * 255).astype(np.uint8))
                      .resize(crop.size, Image.BILINEAR), dtype=np.float32) / 255.0
    colour = colourise(heat).astype(np.float32)
    base = np.asarray(crop, dtype=np.float32)
    weight = (alpha * (0.35 + 0.65 * heat))[..., None]
    return Image.fromarray((base * (1 - weight) + colour * weight).astype(np.uint8))


def overlay_names(labelled: Sequence[tuple[str, str]], folder: str | Path) -> list[str]:
    """The file name of each (source, class) heat map in `folder`: "<source stem>.<class>.png",
    numbered where two would share a name or a file of that name is already there."""
    folder = Path(folder)
    names, used = [], set()
    for source, label in labelled:
        stem = Path(source).stem or "image"
        label = "".join(c if c.isalnum() or c in "-_" else "_" for c in label)
        name, n = f"{stem}.{label}.png", 1
        while name in used or (folder / name).exists():
            n += 1
            name = f"{stem}.{label}.{n}.png"
        used.add(name)
        names.append(name)
    return names


def write_overlays(explanations: Sequence[Explanation], folder: str | Path,
                   size: int = 448, names: Sequence[str] | None = None) -> list[Path]:
    """One PNG per explanation in `folder`, named after its source file and class
    (overlay_names), or `names` when given (one per explanation)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if names is None:
        names = overlay_names([(e.source, e.label) for e in explanations], folder)
    written = []
    for e, name in zip(explanations, names):
        overlay(e, size=size).save(folder / name)
        written.append(folder / name)
    return written
