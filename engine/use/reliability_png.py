"""The reliability diagram as a PNG, drawn with PIL alone (like the confusion matrix).

x: the model's confidence in its top class, in equal-width bins; y: how often it was
right in that bin. A calibrated model's bars follow the diagonal. Outlined grey bars are
the model before temperature scaling, filled blue bars after it.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

from PIL import Image, ImageDraw

from engine.i18n import _
from engine.use.report_png import _INK, _MUTED, _font, needs_wide_font

SIZE = 640
MARGIN = 72
_AFTER = (33, 113, 181)
_BEFORE = (150, 150, 150)
_DIAGONAL = (200, 60, 60)


def draw_reliability(after: Sequence[dict], before: Sequence[dict] | None = None, *,
                     title: str = "", ece_after: float | None = None,
                     ece_before: float | None = None, calibrated: bool = True) -> Image.Image:
    """`after`/`before`: engine.use.calibration.reliability() rows; `calibrated` False: the
    run kept its confidence uncalibrated, and `after` is that."""
    title = title or _("Reliability diagram")
    if not calibrated:
        legend = (_("filled: uncalibrated (ECE {ece:.1%})").format(ece=ece_after)
                  if ece_after is not None else _("filled: uncalibrated"))
    else:
        legend = (_("filled: calibrated (ECE {ece:.1%})").format(ece=ece_after)
                  if ece_after is not None else _("filled: calibrated"))
    if before is not None:
        legend += "   " + (_("outlined: before calibration (ECE {ece:.1%})").format(ece=ece_before)
                           if ece_before is not None else _("outlined: before calibration"))
    x_label, y_label = _("confidence"), _("accuracy")
    wide = needs_wide_font([title, legend, x_label, y_label])
    font, small = _font(16, wide), _font(13, wide)
    img = Image.new("RGB", (SIZE + 2 * MARGIN, SIZE + 2 * MARGIN + 40), "white")
    draw = ImageDraw.Draw(img)
    x0, y0 = MARGIN, MARGIN + 40
    x1, y1 = x0 + SIZE, y0 + SIZE

    def px(conf: float, acc: float) -> tuple[float, float]:
        return x0 + conf * SIZE, y1 - acc * SIZE

    draw.text((x0, 12), title, fill=_INK, font=font)
    draw.text((x0, 36), legend, fill=_MUTED, font=small)
    draw.rectangle([x0, y0, x1, y1], outline=_MUTED)
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        x, y = px(tick, tick)
        draw.line([x, y1, x, y1 + 5], fill=_MUTED)
        draw.text((x - 12, y1 + 8), f"{tick:.0%}", fill=_MUTED, font=small)
        draw.line([x0 - 5, y, x0, y], fill=_MUTED)
        draw.text((x0 - 44, y - 7), f"{tick:.0%}", fill=_MUTED, font=small)
    draw.text((x0 + SIZE // 2 - 60, y1 + 28), x_label, fill=_INK, font=small)
    draw.text((8, y0 - 24), y_label, fill=_INK, font=small)
    for row in after:
        if row["count"]:
            left, _bottom = px(row["lower"], 0)
            right, top = px(row["upper"], row["accuracy"])
            draw.rectangle([left + 1, top, right - 1, y1], fill=_AFTER)
    for row in before or ():
        if row["count"]:
            left, _bottom = px(row["lower"], 0)
            right, top = px(row["upper"], row["accuracy"])
            draw.rectangle([left + 3, top, right - 3, y1], outline=_BEFORE, width=2)
    draw.line([px(0, 0), px(1, 1)], fill=_DIAGONAL, width=2)
    return img


def save_reliability(path: str | Path, after: Sequence[dict], before: Sequence[dict] | None,
                     **labels) -> Path:
    """Draw and write the PNG atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    draw_reliability(after, before, **labels).save(tmp, format="PNG", optimize=True)
    os.replace(tmp, path)
    return path
