"""Batched tensor augmentation over cached uint8 images, and evaluation preprocessing.

Training: one random resized crop + horizontal flip per image, done for the whole batch
by a single `F.grid_sample` with per-image affine grids (no Python loop over images),
optional colour jitter, then normalisation with the base model's mean/std. All random
numbers come from the caller's torch.Generator, so a seed reproduces a run exactly.
Evaluation: a deterministic centre crop, resized to the model's input size with the
processor's kind of filter. Works on whatever device the input is on.
"""
from __future__ import annotations

import math
import time
from typing import Sequence

import torch
import torch.nn.functional as F

from engine.data.framing import BICUBIC
from engine.data.randaugment import RandAugment

# Luma weights (ITU-R 601), as torchvision uses for grayscale/saturation.
_LUMA = (0.299, 0.587, 0.114)


class Augmenter:
    def __init__(self, image_size: int, mean: Sequence[float], std: Sequence[float], *,
                 augment: bool = True, color_jitter: float = 0.0,
                 scale: tuple[float, float] = (0.5, 1.0),
                 ratio: tuple[float, float] = (3 / 4, 4 / 3), hflip: bool = True,
                 eval_crop: float = 1.0, eval_filter: str = "bilinear",
                 randaugment_ops: int = 0, randaugment_magnitude: int = 9):
        """`scale`: share of the cached square's area a training crop covers; `ratio`: its
        aspect range. `eval_crop`: side of the evaluation centre crop as a share of the
        cached square; 1.0 (default) sees the whole square, which the decode cache has
        already framed as the base model's processor does. `eval_filter`: "bilinear" or
        "bicubic", the antialiased filter that resizes the evaluation crop to the input
        size (bicubic follows a bicubic processor twice as closely; bilinear is faster).
        `randaugment_ops` > 0: that many RandAugment operations per training image
        (engine.data.randaugment), after the crop, before colour jitter; also without
        `augment` (then on the evaluation crop)."""
        if not (0 < scale[0] <= scale[1] <= 1):
            raise ValueError(f"scale must satisfy 0 < min <= max <= 1, got {scale}")
        if not 0 < eval_crop <= 1:
            raise ValueError(f"eval_crop must be in (0, 1], got {eval_crop}")
        if eval_filter not in ("bilinear", "bicubic"):
            raise ValueError(f"eval_filter must be bilinear or bicubic, got {eval_filter!r}")
        self.image_size = int(image_size)
        self.augment = augment
        self.color_jitter = float(color_jitter)
        self.scale = scale
        self.log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
        self.hflip = hflip
        self.eval_crop = eval_crop
        self.eval_filter = eval_filter
        self.randaugment = RandAugment(randaugment_ops, randaugment_magnitude) \
            if randaugment_ops > 0 else None
        # (x / 255 - mean) / std folded into one multiply-add
        std_t = torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1)
        self._mul = 1.0 / (255.0 * std_t)
        self._add = -torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1) / std_t

    @classmethod
    def for_model(cls, info, **kwargs) -> "Augmenter":
        """From engine.model.classifier.BaseModelInfo: its input size, its processor's
        mean/std and filter (runs from before framings keep the bilinear resize they had)."""
        framing = getattr(info, "framing", None)
        if framing is not None and framing.resample == BICUBIC:
            kwargs.setdefault("eval_filter", "bicubic")
        return cls(info.image_size, info.mean, info.std, **kwargs)

    def normalise(self, x: torch.Tensor) -> torch.Tensor:
        """Float pixels in 0..255 -> the model's normalised input (in place when possible)."""
        return x.mul_(self._mul.to(x.device)).add_(self._add.to(x.device))

    def eval_batch(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 [B,3,R,R] -> float32 [B,3,S,S]: deterministic centre crop, normalised."""
        return self.normalise(self._eval_pixels(images))

    def _eval_pixels(self, images: torch.Tensor) -> torch.Tensor:
        """The evaluation crop as float pixels 0..255 (not normalised)."""
        r = images.shape[-1]
        side = max(1, round(r * self.eval_crop))
        off = (r - side) // 2
        x = images[..., off:off + side, off:off + side]
        size = (self.image_size, self.image_size)
        if side != self.image_size and self.eval_filter == "bicubic":
            # rounded and clipped to whole pixel values, as the processor's PIL resize gives
            x = F.interpolate(x.float(), size=size, mode="bicubic", antialias=True,
                              align_corners=False).round_().clamp_(0, 255)
        elif side != self.image_size:
            # antialiased resize; on CPU the uint8 kernel is several times faster than float
            x = x if x.device.type == "cpu" else x.float()
            x = F.interpolate(x, size=size, mode="bilinear", antialias=True, align_corners=False)
        return x.float()

    def crop_params(self, batch: int, generator: torch.Generator) -> torch.Tensor:
        """Per-image crop boxes [B, 4] = (x scale, x centre, y scale, y centre) in grid units.

        grid_sample coordinates run from -1 to 1 across the cached square: a crop of
        half-width w centred at cx covers [cx - w, cx + w]; a negative x scale flips it.
        """
        dev = generator.device
        u = torch.rand(batch, 5, generator=generator, device=dev)
        area = self.scale[0] + (self.scale[1] - self.scale[0]) * u[:, 0]
        aspect = torch.exp(self.log_ratio[0] + (self.log_ratio[1] - self.log_ratio[0]) * u[:, 1])
        # clamping keeps the crop inside the image at the cost of a slightly different
        # aspect for the largest crops (torchvision retries instead; same intent)
        w = torch.sqrt(area * aspect).clamp(max=1.0)
        h = torch.sqrt(area / aspect).clamp(max=1.0)
        cx = (1 - w) * (2 * u[:, 2] - 1)
        cy = (1 - h) * (2 * u[:, 3] - 1)
        if self.hflip:
            w = torch.where(u[:, 4] < 0.5, -w, w)
        return torch.stack([w, cx, h, cy], dim=1)

    def _grid(self, boxes: torch.Tensor) -> torch.Tensor:
        """Sampling grid [B,S,S,2] for axis-aligned crops, built separably (an affine_grid
        would multiply a 3x3 matrix per pixel to get the same numbers)."""
        s = self.image_size
        base = (torch.arange(s, dtype=torch.float32, device=boxes.device) * 2 + 1) / s - 1
        gx = boxes[:, 0:1] * base + boxes[:, 1:2]  # [B, S]
        gy = boxes[:, 2:3] * base + boxes[:, 3:4]
        grid = torch.empty(boxes.shape[0], s, s, 2, device=boxes.device)
        grid[..., 0] = gx[:, None, :]
        grid[..., 1] = gy[:, :, None]
        return grid

    def _colour_and_normalise(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Random brightness, contrast and saturation (factors in [1-j, 1+j] per image) and
        the normalisation, composed into one 3x3 colour matrix + offset per image.

        brightness b, contrast c around the mean gray m, saturation s around each pixel's
        gray: z = c*b*A x + (1-c)*b*m, with A = s*I + (1-s)*1*luma^T (A maps gray to itself).
        """
        j = self.color_jitter
        b, c, s = (1 - j + 2 * j * torch.rand(3, x.shape[0], generator=generator,
                                              device=generator.device)).to(x.device)
        luma = torch.tensor(_LUMA, device=x.device)
        mean_gray = x.mean((2, 3)) @ luma  # [B]
        eye = torch.eye(3, device=x.device)
        a = s.view(-1, 1, 1) * eye + (1 - s).view(-1, 1, 1) * luma.view(1, 1, 3)
        mul, add = self._mul.to(x.device).view(3), self._add.to(x.device).view(3)
        matrix = (c * b).view(-1, 1, 1) * a * mul.view(1, 3, 1)
        offset = ((1 - c) * b * mean_gray).view(-1, 1) * mul + add  # [B, 3]
        out = torch.baddbmm(offset.unsqueeze(-1), matrix, x.flatten(2)).view_as(x)
        # clamp to the normalised images of 0 and 255: what clipping pixels would give
        lo, hi = add.view(1, 3, 1, 1), (255 * mul + add).view(1, 3, 1, 1)
        return torch.clamp(out, lo, hi, out=out)

    def train_batch(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """uint8 [B,3,R,R] -> float32 [B,3,S,S]: random crop/flip (+jitter), normalised."""
        if not self.augment and self.randaugment is None:
            return self.eval_batch(images)
        if self.augment:
            grid = self._grid(self.crop_params(images.shape[0], generator).to(images.device))
            x = F.grid_sample(images.float(), grid, mode="bilinear", padding_mode="border",
                              align_corners=False)
        else:  # RandAugment alone: on the evaluation crop
            x = self._eval_pixels(images)
        if self.randaugment is not None:
            x = self.randaugment(x, generator)
        if self.color_jitter > 0:
            return self._colour_and_normalise(x, generator)
        return self.normalise(x)


def pipeline_throughput(images_uint8: torch.Tensor, augmenter: Augmenter, batch_size: int = 32,
                        seconds: float = 2.0) -> float:
    """Training images/s the input pipeline delivers: batch gather + augmentation.

    Mirrors what the training loop does per step (index the cache with a random batch,
    augment), so it can be compared with the model's images/s.
    """
    gen = torch.Generator().manual_seed(0)
    n = images_uint8.shape[0]

    def step() -> None:
        idx = torch.randint(n, (batch_size,), generator=gen)
        augmenter.train_batch(images_uint8[idx], gen)

    step()  # warm-up: first-call allocations are not the steady state
    done, start = 0, time.perf_counter()
    while True:
        step()
        done += batch_size
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return done / elapsed


__all__ = ["Augmenter", "pipeline_throughput"]
