"""Framing: which part of a picture a checkpoint's own image processor keeps, and how it
resizes it, so the engine's pixels are the ones the base model was trained on.

Families frame differently: CLIP resizes the shortest side to 224 and centre-crops 224
(the central square); DINOv2 resizes the shortest side to 256 and centre-crops 224 (the
central 224/256 of the short side); SigLIP resizes the whole picture to a 224 square
without keeping its aspect ratio and without a crop. A Framing holds those settings
(read from the processor by engine.model.backbones.base.Backbone.preprocessing) and
answers, for a picture of a given size, the region of it the processor keeps: resizing
that region to the model's input size with the processor's filter is, up to rounding,
exactly what the processor computes (PIL samples the same source positions with the
same filter support whether it resizes the whole image and crops, or resizes the box).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

CROP = "crop"  # shortest side resized to `resize` (aspect kept), then a centre crop
SQUASH = "squash"  # the whole picture resized to a `resize` square (aspect not kept)
MODES = (CROP, SQUASH)
# PIL's filter numbers (Image.Resampling), the values processors store as `resample`
NEAREST, LANCZOS, BILINEAR, BICUBIC, BOX, HAMMING = 0, 1, 2, 3, 4, 5
FILTERS = (NEAREST, LANCZOS, BILINEAR, BICUBIC, BOX, HAMMING)


@dataclass(frozen=True)
class Framing:
    """How a processor frames a picture: `mode` (CROP or SQUASH), `resize` (the short
    side after resizing, or the square's side), `crop` (the centre crop's side: the
    model's input size; equal to `resize` when there is no crop), `resample` (PIL filter)."""

    mode: str
    resize: int
    crop: int
    resample: int = BICUBIC

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"framing mode must be one of {MODES}, got {self.mode!r}")
        for name in ("resize", "crop", "resample"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError(f"framing {name} must be a whole number, got {value!r}")
        if not 0 < self.crop <= self.resize:
            # a crop larger than the resized picture would pad it with black
            raise ValueError(f"framing crop must be in 1..resize ({self.resize}), got {self.crop}")
        if self.resample not in FILTERS:
            raise ValueError(f"framing resample must be a PIL filter {FILTERS}, "
                             f"got {self.resample}")

    @classmethod
    def clip(cls, size: int) -> "Framing":
        """CLIP's framing at `size`: shortest side to `size`, centre crop, bicubic."""
        return cls(CROP, int(size), int(size), BICUBIC)

    @property
    def input_size(self) -> int:
        """The side of the square the model sees."""
        return self.crop

    def resized_size(self, width: int, height: int) -> tuple[int, int]:
        """(width, height) of the whole picture after the processor's resize, rounded the
        way transformers rounds (the long side is truncated, as in get_resize_output_image_size)."""
        if self.mode == SQUASH:
            return self.resize, self.resize
        if width <= height:
            return self.resize, int(self.resize * height / width)
        return int(self.resize * width / height), self.resize

    def box(self, width: int, height: int) -> tuple[float, float, float, float]:
        """(left, top, right, bottom) in source pixels of the region the processor keeps:
        its integer centre crop of the resized picture, mapped back to the source."""
        new_w, new_h = self.resized_size(width, height)
        left, top = (new_w - self.crop) // 2, (new_h - self.crop) // 2
        sx, sy = width / new_w, height / new_h
        return (left * sx, top * sy, (left + self.crop) * sx, (top + self.crop) * sy)

    def draft_side(self, out: int, oversample: float = 2.0) -> int:
        """The side JPEG draft decoding may shrink a picture to (both sides stay at least
        this long) while the kept region still has `oversample` x `out` source pixels
        across: below that, the DCT's shrinking would show next to the processor's filter.
        CROP keeps crop/resize of the short side; SQUASH keeps each whole side."""
        share = self.crop / self.resize
        return math.ceil(oversample * out / share)

    def to_dict(self) -> dict:
        return {"mode": self.mode, "resize": self.resize, "crop": self.crop,
                "resample": self.resample}

    @classmethod
    def from_dict(cls, data: dict) -> "Framing":
        """Raises ValueError (or KeyError / TypeError) for anything that is not a framing."""
        return cls(str(data["mode"]), data["resize"], data["crop"], data.get("resample", BICUBIC))

    def key(self) -> str:
        """A short stable text for cache keys: two framings never share a decoded image."""
        return f"{self.mode}-{self.resize}-{self.crop}-f{self.resample}"


__all__ = ["Framing", "CROP", "SQUASH", "MODES", "FILTERS", "BICUBIC", "BILINEAR"]
