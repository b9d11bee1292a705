"""Regenerate icon.png / icon.ico / icon.icns from icon.svg (the only hand-made source).

    QT_QPA_PLATFORM=offscreen .venv/bin/python resources/make_icons.py

Qt renders the SVG (QtSvg ships with PySide6-Essentials); Pillow writes the Windows
.ico and macOS .icns containers, so the same icon serves every platform's build.
"""
from __future__ import annotations

import os
from pathlib import Path

HERE = Path(__file__).resolve().parent
ICO_SIZES = [(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)]


def render_png(svg: Path, png: Path, size: int = 512) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 (QPainter needs it)
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"{svg} is not a valid SVG for Qt")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    if not image.save(str(png)):
        raise SystemExit(f"could not write {png}")


def main() -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PIL import Image

    png = HERE / "icon.png"
    render_png(HERE / "icon.svg", png)
    with Image.open(png) as image:
        image.save(HERE / "icon.ico", sizes=ICO_SIZES)
        image.save(HERE / "icon.icns")
    print("wrote", ", ".join(p.name for p in sorted(HERE.glob("icon.*"))))


if __name__ == "__main__":
    main()
