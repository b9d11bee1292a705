"""The confusion matrix as a PNG, drawn with PIL alone (no plotting library to bundle).

Rows are true classes, columns predicted classes. A cell's colour is its share of the
row (the true class's recall spread over predictions), on a square-root scale so that a
few confused images out of many still show; counts are printed when the cells are big
enough. Cells shrink and labels are elided with "…" so the picture stays readable from
a handful of classes up to a few hundred.

Pillow's bundled font has Latin letters only: when a text needs Chinese (Japanese, Korean)
glyphs, from the translation or from class names, a system CJK font is used instead.
"""
from __future__ import annotations

import functools
import itertools
import os
import re
import sys
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from PIL import Image, ImageDraw, ImageFont

from engine.i18n import _

# Sequential white -> dark blue ramp (the anchors of ColorBrewer's "Blues").
_RAMP = ((247, 251, 255), (222, 235, 247), (198, 219, 239), (158, 202, 225), (107, 174, 214),
         (66, 146, 198), (33, 113, 181), (8, 81, 156), (8, 48, 107))
_EMPTY_ROW = (232, 232, 232)  # a class without images in this evaluation
_INK = (33, 33, 33)
_MUTED = (110, 110, 110)
_BAR_TICKS = (0.0, 0.02, 0.1, 0.25, 0.5, 1.0)

GRID_TARGET_PX = 1440  # the matrix aims for this width; cells stay between the bounds below
MIN_CELL_PX, MAX_CELL_PX = 8, 56
MAX_LABEL_PX = 220


def colour_for(share: float) -> tuple[int, int, int]:
    """Colour of a cell holding `share` (0..1) of its row; sqrt scale shows small confusions."""
    t = max(0.0, min(1.0, share)) ** 0.5 * (len(_RAMP) - 1)
    i = min(int(t), len(_RAMP) - 2)
    f = t - i
    a, b = _RAMP[i], _RAMP[i + 1]
    return tuple(round(a[k] + (b[k] - a[k]) * f) for k in range(3))


# CJK ideographs, kana, hangul, their punctuation and full-width forms
_WIDE_CHARS = re.compile("[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]")
_WIDE_FONT_FILES = (  # fonts with Simplified Chinese glyphs, where systems install them
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",  # Debian, Ubuntu
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",  # Arch
    "/usr/share/fonts/google-noto-sans-cjk-fonts/NotoSansCJK-Regular.ttc",  # Fedora
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/System/Library/Fonts/PingFang.ttc",  # macOS
    "/System/Library/Fonts/Hiragino Sans GB.ttc",
    "/System/Library/Fonts/STHeiti Light.ttc",
    "/System/Library/Fonts/Supplemental/Arial Unicode.ttf",
    "/Library/Fonts/Arial Unicode.ttf",
)
_WINDOWS_FONTS = ("msyh.ttc", "msyh.ttf", "simhei.ttf", "simsun.ttc", "Deng.ttf")
_SIMPLIFIED = re.compile(r"\bSC\b|GB|YaHei|Simplified")


def needs_wide_font(texts: Iterable[str]) -> bool:
    """True when one of `texts` has CJK characters (Pillow's own font draws them as boxes)."""
    return any(_WIDE_CHARS.search(str(t)) for t in texts)


def _fc_match() -> Iterator[str]:
    """fontconfig's choice for Chinese, where fontconfig exists (most Linux desktops)."""
    import subprocess

    try:
        out = subprocess.run(["fc-match", "-f", "%{file}", ":lang=zh-cn"], capture_output=True,
                             text=True, timeout=5, check=False).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return
    if out:
        yield out


@functools.lru_cache(maxsize=1)
def _wide_font_face() -> tuple[str, int] | None:
    """(file, face index) of a font with Chinese glyphs on this system, or None."""
    candidates = list(_WIDE_FONT_FILES)
    if sys.platform == "win32":
        folder = Path(os.environ.get("WINDIR", "C:/Windows")) / "Fonts"
        candidates = [str(folder / name) for name in _WINDOWS_FONTS] + candidates
    for path in itertools.chain(candidates, _fc_match()):  # fc-match only when none is found
        if not os.path.isfile(path):
            continue
        faces = []  # (index, family) of each face in the file (a .ttc holds several)
        for index in range(8 if path.lower().endswith(".ttc") else 1):
            try:
                faces.append((index, " ".join(ImageFont.truetype(path, 12, index=index).getname())))
            except OSError:
                break
        if faces:  # a collection's Simplified Chinese face, else its first
            return path, next((i for i, family in faces if _SIMPLIFIED.search(family)), faces[0][0])
    return None


def _font(size: int, wide: bool = False):
    """Pillow's bundled font, or with `wide` a system font with CJK glyphs (when there is one)."""
    face = _wide_font_face() if wide else None
    if face is not None:
        try:
            return ImageFont.truetype(face[0], size, index=face[1])
        except OSError:
            pass
    try:
        return ImageFont.load_default(size=size)  # Pillow's bundled TrueType font
    except TypeError:  # very old Pillow without sizes
        return ImageFont.load_default()


def _text_px(font, text: str) -> float:
    return font.getlength(text)


def elide(text: str, font, max_px: float) -> str:
    """`text` cut to fit `max_px`, ending with "…" when shortened."""
    if _text_px(font, text) <= max_px:
        return text
    lo, hi = 0, len(text)
    while lo < hi:  # longest prefix that fits together with the ellipsis
        mid = (lo + hi + 1) // 2
        if _text_px(font, text[:mid].rstrip() + "…") <= max_px:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + "…"


def _rotated_text(text: str, font, fill) -> Image.Image:
    """Text rotated 90° counter-clockwise (reads bottom to top), on a transparent tile."""
    left, top, right, bottom = font.getbbox(text)
    tile = Image.new("RGBA", (max(1, right) + 2, max(1, bottom) + 2), (0, 0, 0, 0))
    ImageDraw.Draw(tile).text((1, 1), text, font=font, fill=fill)
    return tile.rotate(90, expand=True)


def _layout(n: int) -> tuple[int, int]:
    cell = max(MIN_CELL_PX, min(MAX_CELL_PX, GRID_TARGET_PX // max(1, n)))
    label_size = max(8, min(14, cell - 2))
    return cell, label_size


def draw_confusion_matrix(confusion: Sequence[Sequence[int]], class_names: Sequence[str], *,
                          title: str = "") -> Image.Image:
    """Render `confusion[true][predicted]` counts as an RGB image."""
    n = len(class_names)
    if n == 0 or len(confusion) != n or any(len(row) != n for row in confusion):
        raise ValueError(f"confusion must be {n}x{n} for {n} class names")
    cell, label_size = _layout(n)
    predicted, true, of_row = _("Predicted class"), _("True class"), _("of row")
    wide = needs_wide_font([title, predicted, true, of_row, *map(str, class_names)])
    label_font, small, big = _font(label_size, wide), _font(12, wide), _font(18, wide)
    labels = [elide(str(name), label_font, MAX_LABEL_PX) for name in class_names]
    label_px = int(max(_text_px(label_font, t) for t in labels)) + 8
    grid = cell * n
    margin, title_h, axis_h, bar_w = 16, (34 if title else 8), 22, 90

    x0 = margin + axis_h + label_px  # grid's top-left corner
    y0 = margin + title_h
    width = max(x0 + grid + bar_w + margin, margin * 2 + int(_text_px(big, title)))
    height = y0 + grid + label_px + axis_h + margin
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    if title:
        draw.text((margin, margin), title, font=big, fill=_INK)

    count_font = _font(max(8, min(14, cell // 3)))
    gap = 1 if cell >= 14 else 0
    for i, row in enumerate(confusion):
        total = sum(row)
        for j, count in enumerate(row):
            share = count / total if total else 0.0
            fill = colour_for(share) if total else _EMPTY_ROW
            box = (x0 + j * cell, y0 + i * cell, x0 + (j + 1) * cell - 1 - gap,
                   y0 + (i + 1) * cell - 1 - gap)
            draw.rectangle(box, fill=fill)
            text = str(count)
            if count and cell >= 22 and _text_px(count_font, text) <= cell - 4:
                ink = "white" if share > 0.3 else _INK
                draw.text(((box[0] + box[2]) / 2, (box[1] + box[3]) / 2), text, font=count_font,
                          fill=ink, anchor="mm")

    for i, text in enumerate(labels):  # true classes, right-aligned left of the rows
        y = y0 + i * cell + cell / 2
        draw.text((x0 - 6, y), text, font=label_font, fill=_INK, anchor="rm")
        tile = _rotated_text(text, label_font, _INK)  # predicted classes, under the columns
        x = x0 + i * cell + (cell - tile.width) // 2
        img.paste(tile, (x, y0 + grid + 6), tile)

    draw.text((x0 + grid / 2, height - margin - axis_h / 2), predicted, font=small,
              fill=_MUTED, anchor="mm")
    axis = _rotated_text(true, small, _MUTED)
    img.paste(axis, (margin, y0 + (grid - axis.height) // 2), axis)
    _draw_colour_bar(draw, x0 + grid + 20, y0, min(grid, 320), small, of_row)
    return img


def _draw_colour_bar(draw: ImageDraw.ImageDraw, x: int, y: int, h: int, font,
                     caption: str) -> None:
    """Vertical legend: share of the true class, 100 % at the top, on the same sqrt scale."""
    w = 14
    for k in range(h):
        share = (1 - k / max(1, h - 1)) ** 2  # invert the sqrt scale: pixel -> share
        draw.line([(x, y + k), (x + w - 1, y + k)], fill=colour_for(share))
    draw.rectangle((x, y, x + w - 1, y + h - 1), outline=_MUTED)
    for share in _BAR_TICKS:
        ty = y + round((1 - share ** 0.5) * (h - 1))
        draw.line([(x + w, ty), (x + w + 3, ty)], fill=_MUTED)
        draw.text((x + w + 6, ty), f"{share:.0%}", font=font, fill=_MUTED, anchor="lm")
    draw.text((x, y + h + 8), caption, font=font, fill=_MUTED)


def save_confusion_matrix(confusion: Sequence[Sequence[int]], class_names: Sequence[str],
                          path: str | Path, *, title: str = "") -> Path:
    """Draw and write the PNG atomically (a reader never sees half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    draw_confusion_matrix(confusion, class_names, title=title).save(tmp, format="PNG",
                                                                    optimize=True)
    os.replace(tmp, path)
    return path
