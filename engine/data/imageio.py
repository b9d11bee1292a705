"""Reading one image file safely: every failure becomes an `ImageProblem` with a plain reason.

Everything that opens a user's image (the scan, the decode cache, prediction, the GUI's
thumbnails) goes through here, so all of them agree on what is readable, how EXIF
rotation is applied and how unusual colour modes become RGB.
"""
from __future__ import annotations

import io
import os
import struct
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from engine.i18n import N_, _

# Files with these suffixes are treated as images; anything else is reported as unsupported.
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".jpe", ".png", ".bmp", ".gif", ".webp",
                              ".tif", ".tiff"})
# Picture formats people often have but PIL cannot read: a specific hint beats "unsupported".
# (Format names; show them with _(): "camera RAW" has a translation.)
KNOWN_UNREADABLE = {".heic": "HEIC", ".heif": "HEIF", ".svg": "SVG", ".psd": "Photoshop",
                    ".cr2": N_("camera RAW"), ".nef": N_("camera RAW"), ".arw": N_("camera RAW"),
                    ".dng": N_("camera RAW"), ".raw": N_("camera RAW"), ".jxl": "JPEG XL"}
# Refuse images above this many pixels before decoding: a 1 kB PNG can claim to be
# 100,000 x 100,000 pixels and would need 30 GB to decode (a "decompression bomb").
DEFAULT_MAX_PIXELS = 50_000_000
# Smaller images carry too little to learn from (and are often icons or tracking pixels).
DEFAULT_MIN_SIDE = 16

# PIL only warns between its own limit and twice it; we refuse by our own `max_pixels`
# check instead, so its warning would be noise on the console.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)

_READ_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error,
                IndexError, TypeError, KeyError, RuntimeError, MemoryError)


class ImageProblem(Exception):
    """The file cannot be used as an image; str(exc) is a plain reason for the user."""


@dataclass(frozen=True)
class ImageFacts:
    """What a cheap check learned about a readable image."""
    width: int
    height: int
    format: str
    mode: str
    rotated: bool  # has an EXIF orientation that will be applied


_MAGIC = ((b"\xff\xd8\xff", "JPEG"), (b"\x89PNG\r\n\x1a\n", "PNG"), (b"GIF8", "GIF"),
          (b"BM", "BMP"), (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"), (b"RIFF", "WebP"))


def _magic_kind(source: str | Path | bytes) -> str | None:
    try:
        if isinstance(source, bytes):
            head = source[:8]
        else:
            with open(source, "rb") as fh:
                head = fh.read(8)
    except OSError:
        return None
    return next((kind for magic, kind in _MAGIC if head.startswith(magic)), None)


def _open(source: str | Path | bytes, max_pixels: int) -> Image.Image:
    """Image.open with PIL's exceptions turned into plain reasons; header only, no decode."""
    try:
        if isinstance(source, bytes):
            if not source:
                raise ImageProblem(_("empty file (0 bytes)"))
            img = Image.open(io.BytesIO(source))
        else:
            if os.path.getsize(source) == 0:
                raise ImageProblem(_("empty file (0 bytes)"))
            img = Image.open(source)
    except ImageProblem:
        raise
    except FileNotFoundError:
        raise ImageProblem(_("file not found (moved or deleted?)")) from None
    except PermissionError:
        raise ImageProblem(_("no permission to read this file")) from None
    except IsADirectoryError:
        raise ImageProblem(_("is a folder, not an image")) from None
    except Image.DecompressionBombError:  # PIL's own, higher limit
        raise ImageProblem(_("refused: the image claims more than {mp:g} megapixels (possible "
                             "decompression bomb); resize it or raise the limit").format(
            mp=max_pixels / 1e6)) from None
    except UnidentifiedImageError:
        kind = _magic_kind(source)
        if kind:  # starts like an image but the header is cut off or garbled
            raise ImageProblem(_("damaged or truncated {kind} file (the header cannot be "
                                 "read)").format(kind=kind)) from None
        raise ImageProblem(_("not a picture file (the content is not an image format "
                             "LoRA Studio can read, whatever its name says)")) from None
    except _READ_ERRORS as exc:
        raise ImageProblem(_damage_reason(exc, _("cannot be read: {error}"))) from None
    w, h = img.size
    if w * h > max_pixels:
        img.close()
        raise ImageProblem(_("refused: {w} x {h} pixels is above the limit of {mp:g} megapixels "
                             "(possible decompression bomb); resize it or raise the limit")
                           .format(w=w, h=h, mp=max_pixels / 1e6))
    return img


def _damage_reason(exc: BaseException, template: str) -> str:
    """`template` ("cannot be read: {error}") with the parser's words, or the plain reason
    for the common case of a truncated file."""
    if "truncated" in str(exc).lower():
        return _("file is truncated (incomplete download or copy?)")
    return template.format(error=exc)


def _load(img: Image.Image) -> None:
    try:
        img.load()
    except _READ_ERRORS as exc:
        raise ImageProblem(_damage_reason(exc, _("damaged image data: {error}"))) from None


def _has_rotation(img: Image.Image) -> bool:
    try:
        return img.getexif().get(0x0112, 1) not in (1, 0)
    except Exception:  # malformed EXIF is common and harmless: treat as "no rotation"
        return False


def _jpeg_complete(data: bytes) -> bool:
    """True when an end-of-image marker follows the last start-of-scan marker.

    In JPEG entropy data every 0xFF byte is stuffed (FF 00) or a restart marker, so FF D9
    after the last FF DA only occurs if the file was written to the end; an embedded
    EXIF thumbnail's own markers come before the main image's scan and do not count.
    """
    sos = data.rfind(b"\xff\xda")
    return sos >= 0 and data.find(b"\xff\xd9", sos) >= 0


def check_image(source: str | Path | bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS,
                min_side: int = DEFAULT_MIN_SIDE, decode: bool = True,
                full: bool = False) -> ImageFacts:
    """Check a file is a usable image without decoding it fully.

    The header is always parsed (format, size, pixel cap, minimum size). With `decode`,
    the data is checked to be complete as cheaply as the format allows: a JPEG given as
    bytes by its markers (truncated files are by far the common damage), a PNG by its
    chunk checksums, other formats by decoding. `full` decodes every file (JPEGs at 1/8
    scale): slower, but also catches corrupt data inside a complete-looking file, which
    otherwise surfaces when the decode cache is built.
    """
    img = _open(source, max_pixels)
    try:
        w, h = img.size
        if min(w, h) < min_side:
            raise ImageProblem(_("too small to learn from ({w} x {h} pixels; at least {min} px "
                                 "per side needed)").format(w=w, h=h, min=min_side))
        facts = ImageFacts(w, h, img.format or "", img.mode, _has_rotation(img))
        if not decode:
            return facts
        if img.format == "JPEG" and isinstance(source, bytes) and not full:
            if not _jpeg_complete(source):
                raise ImageProblem(_("file is truncated (incomplete download or copy?)"))
        elif img.format == "PNG" and not full:
            fresh = _open(source, max_pixels)  # verify() must come right after open
            try:
                fresh.verify()
            except _READ_ERRORS as exc:
                raise ImageProblem(_damage_reason(exc, _("damaged image data: {error}"))) from None
            finally:
                fresh.close()
        else:
            if img.format == "JPEG":
                img.draft(img.mode, (min_side, min_side))
            _load(img)
        return facts
    finally:
        img.close()


def _sixteen_bit_to_8(img: Image.Image) -> Image.Image:
    """Scale 16/32-bit grayscale into 0..255 instead of letting PIL clip it to white."""
    arr = np.asarray(img)
    if img.mode == "F":
        scale = 255.0 if float(arr.max(initial=0.0)) <= 1.0 else 1.0
        arr = arr * scale
    elif img.mode.startswith("I;16") or int(arr.max(initial=0)) > 255:
        arr = arr / 257.0
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "L")


def to_rgb(img: Image.Image) -> Image.Image:
    """Any PIL mode -> RGB. Transparent pixels become white (how such images are shown)."""
    if img.mode == "RGB":
        return img
    if img.mode in ("I", "F") or img.mode.startswith("I;16"):
        return _sixteen_bit_to_8(img).convert("RGB")
    has_alpha = img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info
    try:
        if has_alpha:
            rgba = img.convert("RGBA")
            white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            return Image.alpha_composite(white, rgba).convert("RGB")
        return img.convert("RGB")
    except ValueError as exc:
        raise ImageProblem(_("colour mode {mode} cannot be converted to RGB ({error})").format(
            mode=img.mode, error=exc)) from None


def open_image(source: str | Path | bytes, max_pixels: int = DEFAULT_MAX_PIXELS, *,
               draft_size: int | None = None) -> Image.Image:
    """Decode an image fully: RGB, EXIF rotation applied. Raises ImageProblem.

    `draft_size` lets JPEGs decode directly at a reduced scale that still has at least
    that many pixels per side: a 4000 x 3000 photo destined for 256 px then decodes
    at 500 x 375, about 30x less work.
    """
    img = _open(source, max_pixels)
    try:
        if draft_size and img.format == "JPEG":
            img.draft("RGB", (draft_size, draft_size))
        _load(img)
        try:
            ImageOps.exif_transpose(img, in_place=True)
        except Exception:  # a malformed EXIF block must not cost the user the image
            pass
        return to_rgb(img)
    except MemoryError:
        raise ImageProblem(_("not enough memory to decode this image")) from None


__all__ = ["IMAGE_EXTENSIONS", "KNOWN_UNREADABLE", "DEFAULT_MAX_PIXELS", "DEFAULT_MIN_SIDE",
           "ImageProblem", "ImageFacts", "check_image", "open_image", "to_rgb"]
