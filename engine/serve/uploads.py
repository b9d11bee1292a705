"""An uploaded file -> the model's input pixels, or a ServeError (a 4xx answer naming the
problem): an empty upload, an oversized file, a picture too big in pixels (or one whose
header claims so: a decompression bomb), a file that is not a picture, damaged image data.

The header is read before anything is decoded, so a 1 kB PNG claiming 100,000 x 100,000
pixels costs nothing. PIL only warns (DecompressionBombWarning) between its limit and twice
it; here the limit is never above PIL's, so what PIL would warn about is refused as well.
(No warnings filter is changed: filters are process-wide, requests run in threads.)
"""
from __future__ import annotations

import io

from PIL import Image, UnidentifiedImageError

from engine.data.imageio import ImageProblem
from engine.i18n import _


class ServeError(Exception):
    """A request the server refuses: HTTP `status`, a stable `code` for programs, a plain
    `message` for people, and the file it concerns (if one)."""

    def __init__(self, status: int, code: str, message: str, file: str | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.file = status, code, message, file

    def to_dict(self) -> dict:
        error = {"code": self.code, "message": self.message}
        if self.file is not None:
            error["file"] = self.file
        return {"error": error}


def check_size(name: str, size: int, limit: int) -> None:
    if size == 0:
        raise ServeError(400, "empty_upload", _(
            "'{name}' is empty (0 bytes): send the image file's content.").format(name=name), name)
    if size > limit:
        raise ServeError(413, "file_too_large", _(
            "'{name}' is larger than the server's limit of {mb:g} MB: send a smaller image "
            "(or start the server with a higher --max-upload-mb).").format(
            name=name, mb=limit / 1024 / 1024), name)


def check_header(name: str, data: bytes, max_pixels: int) -> None:
    """Refuse a non-picture and a decompression bomb from the header alone."""
    limit = min(max_pixels, Image.MAX_IMAGE_PIXELS or max_pixels)
    try:
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _bomb(name, limit) from None
    except UnidentifiedImageError:
        raise ServeError(415, "not_an_image", _(
            "'{name}' is not a picture (its content is not an image format the server reads: "
            "JPEG, PNG, WebP, BMP, GIF, TIFF).").format(name=name), name) from None
    except Exception as exc:  # a header PIL cannot parse: damaged
        raise ServeError(422, "damaged_image", _(
            "'{name}' cannot be read as an image: {error}").format(name=name, error=exc),
            name) from None
    if width * height > limit:
        raise _bomb(name, limit, f"{width} x {height}")


def _bomb(name: str, max_pixels: int, size: str = "") -> ServeError:
    return ServeError(413, "too_many_pixels", _(
        "'{name}' claims {size} pixels, above the server's limit of {mp:g} megapixels "
        "(possibly a decompression bomb): send a smaller image.").format(
        name=name, size=size or _("more than {mp:g} million").format(mp=max_pixels / 1e6),
        mp=max_pixels / 1e6), name)


def decode_upload(predictor, name: str, data: bytes, config):
    """Checked upload -> uint8 [3, R, R] numpy array as the Predictor decodes files."""
    check_size(name, len(data), config.max_upload_bytes)
    check_header(name, data, config.max_pixels)
    try:
        return predictor.decode(data)
    except ImageProblem as exc:
        raise ServeError(422, "damaged_image", _("'{name}' cannot be used: {reason}").format(
            name=name, reason=exc), name) from None


__all__ = ["ServeError", "check_header", "check_size", "decode_upload"]
