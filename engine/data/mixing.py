"""MixUp and CutMix: whole-batch tensor operations on the device the batch lives on.

Each image is mixed with its partner in the reversed batch (timm's "batch" mode: one
share `lam` per batch, partner = x.flip(0)), and so is its label, as a probability vector:

    MixUp : x = lam * a + (1 - lam) * b           target = lam * y_a + (1 - lam) * y_b
    CutMix: a box of b pasted into a (same box for the whole batch); lam = 1 - box area /
            image area (the share of a that is left), target as for MixUp

lam is drawn from Beta(alpha, alpha). Whether a batch is mixed (probability `prob`), which
of the two mixes it (50/50 when both are on), lam and the box all come from the caller's
torch.Generator, so a seed reproduces them exactly.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from engine.i18n import _


@dataclass(frozen=True)
class Mix:
    """What was done to one batch: kind "" (not mixed), "mixup" or "cutmix"; lam; the CutMix
    box (y0, y1, x0, x1) in pixels."""

    kind: str = ""
    lam: float = 1.0
    box: tuple[int, int, int, int] = (0, 0, 0, 0)


class Mixer:
    def __init__(self, mixup: float = 0.0, cutmix: float = 0.0, prob: float = 1.0):
        self.mixup, self.cutmix, self.prob = float(mixup), float(cutmix), float(prob)

    @classmethod
    def from_config(cls, config) -> "Mixer":
        return cls(config.mixup, config.cutmix, config.mix_prob)

    @property
    def active(self) -> bool:
        return (self.mixup > 0 or self.cutmix > 0) and self.prob > 0

    def draw(self, height: int, width: int, generator: torch.Generator) -> Mix:
        """The mix of one batch of images of height x width."""
        if not self.active:
            return Mix()
        seed = int(torch.randint(2 ** 62, (1,), generator=generator,
                                 device=generator.device).item())
        rng = np.random.default_rng(seed)
        if rng.random() >= self.prob:
            return Mix()
        use_cutmix = self.cutmix > 0 and (self.mixup <= 0 or rng.random() < 0.5)
        if not use_cutmix:
            return Mix("mixup", float(rng.beta(self.mixup, self.mixup)))
        lam = float(rng.beta(self.cutmix, self.cutmix))
        # timm's rand_bbox: a box of side sqrt(1 - lam) centred anywhere, clipped to the image
        ratio = np.sqrt(1.0 - lam)
        cut_h, cut_w = int(height * ratio), int(width * ratio)
        cy, cx = int(rng.integers(0, height)), int(rng.integers(0, width))
        y0, y1 = int(np.clip(cy - cut_h // 2, 0, height)), int(np.clip(cy + cut_h // 2, 0, height))
        x0, x1 = int(np.clip(cx - cut_w // 2, 0, width)), int(np.clip(cx + cut_w // 2, 0, width))
        lam = 1.0 - (y1 - y0) * (x1 - x0) / float(height * width)  # the box actually pasted
        return Mix("cutmix", lam, (y0, y1, x0, x1))

    def __call__(self, x: torch.Tensor, labels: torch.Tensor, num_classes: int,
                 generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor | None, Mix]:
        """(images, soft targets [B, C] or None when the batch is not mixed, the Mix) for
        images [B, C, H, W] and integer labels [B]; `x` is changed in place when mixed."""
        mix = self.draw(x.shape[-2], x.shape[-1], generator)
        if not mix.kind:
            return x, None, mix
        return apply_mix(x, labels, num_classes, mix), \
            mix_targets(labels, num_classes, mix.lam), mix


def apply_mix(x: torch.Tensor, labels: torch.Tensor, num_classes: int, mix: Mix) -> torch.Tensor:
    """The images of batch `x` mixed with the reversed batch as `mix` says (in place)."""
    other = x.flip(0)  # a copy: x is written below
    if mix.kind == "mixup":
        return x.mul_(mix.lam).add_(other, alpha=1.0 - mix.lam)
    y0, y1, x0, x1 = mix.box
    x[..., y0:y1, x0:x1] = other[..., y0:y1, x0:x1]
    return x


def mix_targets(labels: torch.Tensor, num_classes: int, lam: float) -> torch.Tensor:
    """lam * one_hot(labels) + (1 - lam) * one_hot(labels of the reversed batch)."""
    one_hot = F.one_hot(labels.long(), num_classes).float()
    return lam * one_hot + (1.0 - lam) * one_hot.flip(0)


def unused_augmentation(config, cached: str) -> str:
    """The log line saying that MixUp/CutMix/RandAugment have no effect on this run's cached
    inputs (`cached`: what is cached, in words; "" when the images are augmented each step),
    or "" when none of them is on or they all apply."""
    names = [name for name, on in (("MixUp", config.mixup > 0), ("CutMix", config.cutmix > 0),
                                   ("RandAugment", config.randaugment_ops > 0)) if on]
    if not names or not cached:
        return ""
    return _("{names} not applied: this run trains on {cached}, computed once per image, so "
             "there are no images to augment at each step. Use LoRA with "
             "cache_frozen_blocks off to apply them.").format(names=", ".join(names),
                                                               cached=cached)


__all__ = ["Mix", "Mixer", "apply_mix", "mix_targets", "unused_augmentation"]
