"""The learning-rate finder's small report: a JSON file with the curve and the suggestion,
and a PNG of the curve drawn with PIL (no plotting library to bundle).

Where it goes (report_paths): next to the config file when one was given (base.yaml ->
base.lr-finder.json / .png), else in the output folder where runs go
(runs/lr-finder-<dataset>.json). It is never a run folder, and it is replaced by the next
test of the same config.
"""
from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path

from PIL import Image, ImageDraw

from engine.i18n import _
from engine.use.report_png import _font, needs_wide_font

WIDTH, HEIGHT, MARGIN = 720, 420, 64
_RAW, _SMOOTH, _MARK, _INK, _GRID = (170, 190, 215), (31, 119, 180), (214, 39, 40), (33, 33, 33), \
    (225, 225, 225)


def report_paths(config_file: str | None, output_dir: str, data_dir: str) -> tuple[Path, Path]:
    """(json, png) paths of the report: see the module docstring."""
    if config_file:
        path = Path(config_file)
        stem = path.parent / f"{path.stem}.lr-finder"
    else:
        name = re.sub(r"[^\w.-]+", "-", Path(data_dir.rstrip("/\\") or "data").stem) or "data"
        stem = Path(output_dir or ".") / f"lr-finder-{name}"
    return stem.with_name(stem.name + ".json"), stem.with_name(stem.name + ".png")


def write_report(result, json_path: Path, png_path: Path, extra: dict | None = None) -> None:
    """Write both files (each replaced atomically: a crash leaves the old one or the new)."""
    json_path.parent.mkdir(parents=True, exist_ok=True)
    data = {**result.to_dict(), **(extra or {})}
    _atomic(json_path, lambda tmp: tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n",
                                                  encoding="utf-8"))
    image = draw_curve(result.lrs, result.losses, result.smoothed, result.suggested_lr,
                       result.field)
    _atomic(png_path, lambda tmp: image.save(tmp, format="PNG"))


def _atomic(path: Path, write) -> None:
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)


def draw_curve(lrs, losses, smoothed, suggested: float | None, field: str) -> Image.Image:
    """Loss against LR (log scale): raw losses light, the smoothed curve dark, the
    suggestion as a red line with its value."""
    title = _("Learning-rate finder: loss against {field}").format(field=field)
    wide = needs_wide_font([title])
    font, small = _font(16, wide), _font(12, wide)
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    draw.text((MARGIN, 16), title, fill=_INK, font=font)
    left, top, right, bottom = MARGIN, 48, WIDTH - 24, HEIGHT - 48
    draw.rectangle((left, top, right, bottom), outline=_INK)
    values = [v for v in list(losses) + list(smoothed) if math.isfinite(v)]
    if not lrs or not values:
        return image
    lo_x, hi_x = math.log10(lrs[0]), math.log10(lrs[-1]) if len(lrs) > 1 else math.log10(lrs[0]) + 1
    shown = [v for v in smoothed if math.isfinite(v)] or values
    spread = max(shown) - min(shown) + 1e-6  # the smoothed curve fills the plot; raw spikes clip
    lo_y = max(min(values), min(shown) - spread * 0.25)
    hi_y = min(max(values), max(shown) + spread * 0.25)

    def xy(lr: float, loss: float) -> tuple[float, float]:
        x = left + (math.log10(lr) - lo_x) / max(hi_x - lo_x, 1e-9) * (right - left)
        y = bottom - (min(max(loss, lo_y), hi_y) - lo_y) / max(hi_y - lo_y, 1e-9) * (bottom - top)
        return x, y

    for decade in range(math.ceil(lo_x), math.floor(hi_x) + 1):
        x, _y = xy(10.0 ** decade, lo_y)
        draw.line((x, top, x, bottom), fill=_GRID)
        draw.text((x - 12, bottom + 6), f"1e{decade}", fill=_INK, font=small)
    for label, y_value in ((f"{hi_y:.2f}", hi_y), (f"{lo_y:.2f}", lo_y)):
        draw.text((8, xy(lrs[0], y_value)[1] - 7), label, fill=_INK, font=small)
    for series, colour, width in ((losses, _RAW, 1), (smoothed, _SMOOTH, 3)):
        points = [xy(a, b) for a, b in zip(lrs, series) if math.isfinite(b)]
        if len(points) > 1:
            draw.line(points, fill=colour, width=width)
    if suggested is not None:
        x, _y = xy(suggested, lo_y)
        draw.line((x, top, x, bottom), fill=_MARK, width=2)
        draw.text((min(x + 6, right - 150), top + 6),
                  _("suggested {lr:.1e}").format(lr=suggested), fill=_MARK, font=font)
    draw.text((right - 180, bottom + 24), _("learning rate (log scale)"), fill=_INK, font=small)
    return image
