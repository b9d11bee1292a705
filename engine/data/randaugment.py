"""RandAugment (Cubuk et al. 2019) as batched tensor operations, on any device.

Each image gets `ops` operations in a row, each picked at random from OPS with a random
sign; `magnitude` (0-30, torchvision's scale: 9 is usual) sets how strong they are. The
operations run on float pixels in 0..255 ([B, 3, H, W]); every image has its own random
choice and strength, but nothing loops over images: each round applies each operation
once, to the images that picked it. Strengths at magnitude m (share m/30 of the maximum):

    rotate <= 30 degrees, shear <= 0.3, translate <= 45 % of the side (torchvision's 150/331)
    brightness / contrast / colour / sharpness: factor 1 +- 0.9 m/30 (blend with black,
        the mean gray, the gray image, a smoothed image)
    posterize: 8 - round(4 m/30) bits; solarize: invert pixels >= 255 (1 - m/30)
    autocontrast: each channel stretched to 0..255; identity: unchanged

Geometric operations sample with an affine grid (bilinear) and fill uncovered pixels gray.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

_LUMA = (0.299, 0.587, 0.114)
FILL = 128.0  # uncovered pixels after rotate/shear/translate (mid gray)


def _gray(x: torch.Tensor) -> torch.Tensor:
    luma = torch.tensor(_LUMA, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    return (x * luma).sum(1, keepdim=True)


def _blend(x: torch.Tensor, other: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """factor * x + (1 - factor) * other, clipped to 0..255 (PIL's ImageEnhance)."""
    f = factor.view(-1, 1, 1, 1)
    return (f * x + (1 - f) * other).clamp_(0, 255)


def brightness(x: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    return _blend(x, torch.zeros_like(x), factor)


def contrast(x: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    return _blend(x, _gray(x).mean((2, 3), keepdim=True), factor)


def colour(x: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    return _blend(x, _gray(x), factor)


def sharpness(x: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """Blend with PIL's SMOOTH-filtered image ([[1,1,1],[1,5,1],[1,1,1]] / 13); the border
    pixels stay as they are, as PIL and torchvision keep them."""
    kernel = torch.ones(3, 1, 3, 3, device=x.device, dtype=x.dtype)
    kernel[:, :, 1, 1] = 5.0
    smooth = x.clone()
    smooth[..., 1:-1, 1:-1] = F.conv2d(x, kernel / 13.0, groups=3)
    return _blend(x, smooth, factor)


def posterize(x: torch.Tensor, bits: torch.Tensor) -> torch.Tensor:
    """Keep the top `bits` bits of each 8-bit value."""
    step = (2.0 ** (8 - bits.to(x.dtype))).view(-1, 1, 1, 1)
    return torch.floor(x.round() / step) * step


def solarize(x: torch.Tensor, threshold: torch.Tensor) -> torch.Tensor:
    """Invert every value at or above `threshold` (0..255)."""
    return torch.where(x >= threshold.view(-1, 1, 1, 1), 255.0 - x, x)


def autocontrast(x: torch.Tensor, _unused: torch.Tensor | None = None) -> torch.Tensor:
    """Stretch each channel of each image to 0..255 (a flat channel stays as it is)."""
    lo = x.amin((2, 3), keepdim=True)
    hi = x.amax((2, 3), keepdim=True)
    span = hi - lo
    scale = torch.where(span > 0, 255.0 / span.clamp(min=1e-6), torch.ones_like(span))
    lo = torch.where(span > 0, lo, torch.zeros_like(lo))
    return ((x - lo) * scale).clamp_(0, 255)


def affine(x: torch.Tensor, matrix: torch.Tensor) -> torch.Tensor:
    """Resample images [B,3,H,W] with per-image 2x3 matrices that map output coordinates to
    input coordinates (grid units, -1..1 across the image, centre 0); gray outside."""
    grid = F.affine_grid(matrix.to(x.dtype), list(x.shape), align_corners=False)
    out = F.grid_sample(x - FILL, grid, mode="bilinear", padding_mode="zeros",
                        align_corners=False)
    return out.add_(FILL)


def rotate(x: torch.Tensor, degrees: torch.Tensor) -> torch.Tensor:
    """Rotate counter-clockwise (as shown on screen) by `degrees` about the centre."""
    t = torch.deg2rad(degrees.to(torch.float32))
    cos, sin = torch.cos(t), torch.sin(t)
    zero = torch.zeros_like(t)
    # output (u, v) samples input R(-t)(u, v); y points down, so this turns the picture
    # counter-clockwise
    matrix = torch.stack([torch.stack([cos, -sin, zero], -1),
                          torch.stack([sin, cos, zero], -1)], 1)
    return affine(x, matrix)


def shear_x(x: torch.Tensor, amount: torch.Tensor) -> torch.Tensor:
    one, zero = torch.ones_like(amount), torch.zeros_like(amount)
    h, w = x.shape[-2:]
    matrix = torch.stack([torch.stack([one, amount * h / w, zero], -1),
                          torch.stack([zero, one, zero], -1)], 1)
    return affine(x, matrix)


def shear_y(x: torch.Tensor, amount: torch.Tensor) -> torch.Tensor:
    one, zero = torch.ones_like(amount), torch.zeros_like(amount)
    h, w = x.shape[-2:]
    matrix = torch.stack([torch.stack([one, zero, zero], -1),
                          torch.stack([amount * w / h, one, zero], -1)], 1)
    return affine(x, matrix)


def translate_x(x: torch.Tensor, share: torch.Tensor) -> torch.Tensor:
    """Shift right by `share` of the width."""
    one, zero = torch.ones_like(share), torch.zeros_like(share)
    matrix = torch.stack([torch.stack([one, zero, -2 * share], -1),
                          torch.stack([zero, one, zero], -1)], 1)
    return affine(x, matrix)


def translate_y(x: torch.Tensor, share: torch.Tensor) -> torch.Tensor:
    """Shift down by `share` of the height."""
    one, zero = torch.ones_like(share), torch.zeros_like(share)
    matrix = torch.stack([torch.stack([one, zero, zero], -1),
                          torch.stack([zero, one, -2 * share], -1)], 1)
    return affine(x, matrix)


def identity(x: torch.Tensor, _unused: torch.Tensor | None = None) -> torch.Tensor:
    return x


# name -> (operation, its argument from the strength s = m/30 and a random sign +-1)
OPS = {
    "identity": (identity, lambda s, sign: s),
    "autocontrast": (autocontrast, lambda s, sign: s),
    "brightness": (brightness, lambda s, sign: 1 + 0.9 * s * sign),
    "contrast": (contrast, lambda s, sign: 1 + 0.9 * s * sign),
    "colour": (colour, lambda s, sign: 1 + 0.9 * s * sign),
    "sharpness": (sharpness, lambda s, sign: 1 + 0.9 * s * sign),
    "posterize": (posterize, lambda s, sign: 8 - torch.round(4 * s)),
    "solarize": (solarize, lambda s, sign: 255 * (1 - s)),
    "rotate": (rotate, lambda s, sign: 30 * s * sign),
    "shear_x": (shear_x, lambda s, sign: 0.3 * s * sign),
    "shear_y": (shear_y, lambda s, sign: 0.3 * s * sign),
    "translate_x": (translate_x, lambda s, sign: 150 / 331 * s * sign),
    "translate_y": (translate_y, lambda s, sign: 150 / 331 * s * sign),
}


class RandAugment:
    def __init__(self, ops: int = 2, magnitude: int = 9):
        if not 0 <= magnitude <= 30:
            raise ValueError(f"magnitude must be within 0..30, got {magnitude}")
        self.ops, self.magnitude = int(ops), int(magnitude)
        self.names = list(OPS)

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Float pixels [B,3,H,W] in 0..255 -> the same, augmented (a new tensor)."""
        if self.ops <= 0:
            return x
        b, dev = x.shape[0], generator.device
        strength = torch.full((b,), self.magnitude / 30.0, device=dev)
        for _round in range(self.ops):
            choice = torch.randint(len(self.names), (b,), generator=generator, device=dev)
            sign = torch.where(torch.rand(b, generator=generator, device=dev) < 0.5, -1.0, 1.0)
            out = x.clone()
            for k, name in enumerate(self.names):
                picked = (choice == k).nonzero().flatten().to(x.device)
                if len(picked) == 0 or name == "identity":
                    continue
                op, argument = OPS[name]
                value = argument(strength, sign).to(x.device)[picked]
                out[picked] = op(x[picked], value)
            x = out
        return x


__all__ = ["OPS", "RandAugment", "affine", "autocontrast", "brightness", "colour", "contrast",
           "posterize", "rotate", "sharpness", "shear_x", "shear_y", "solarize", "translate_x",
           "translate_y"]
