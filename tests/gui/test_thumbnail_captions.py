"""Thumbnail captions are drawn once, in the same place, for landscape, portrait and square
images: in the Dataset gallery (one line, the file name) and in the evaluation view's strip
of a confusion cell's images (two lines, confidence and file name). Checked on the pixels
the views paint, and by counting the delegate's drawText calls."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from PIL import Image
from PySide6.QtCore import QRect
from PySide6.QtGui import QImage, QPainter, qGray
from PySide6.QtWidgets import QStyleOptionViewItem

from gui.widgets.class_panels import ClassGallery
from gui.widgets.evaluation_view import EvaluationView
from gui.widgets.thumbnails import ThumbnailLoader

COLOUR = (150, 210, 250)  # light, so dark caption pixels stand out from it and the background
SHAPES = {"wide": (200, 110), "tall": (110, 200), "even": (150, 150)}


@pytest.fixture
def images(tmp_path):
    paths = []
    for i, (name, size) in enumerate(SHAPES.items()):
        path = tmp_path / f"{i}_picture.png"  # captions alike but for one digit
        Image.new("RGB", size, COLOUR).save(path)
        paths.append(str(path))
    return paths


def is_image(rgb: int) -> bool:
    r, g, b = (rgb >> 16) & 255, (rgb >> 8) & 255, rgb & 255
    return max(abs(r - COLOUR[0]), abs(g - COLOUR[1]), abs(b - COLOUR[2])) <= 6


def layout_of(picture: QImage, rect: QRect) -> tuple[int, list[tuple[int, int]]]:
    """(last row of the image, [(first, last) row of each band of text]) inside `rect`,
    rows counted from rect's top. Text = dark pixels."""
    image_rows, text_rows = [], []
    for y in range(rect.top(), rect.bottom() + 1):
        pixels = [picture.pixel(x, y) for x in range(rect.left(), rect.right() + 1)]
        if any(is_image(p) for p in pixels):
            image_rows.append(y - rect.top())
        if any(qGray(p) < 110 for p in pixels):
            text_rows.append(y - rect.top())
    bands: list[tuple[int, int]] = []
    for y in text_rows:
        if bands and y <= bands[-1][1] + 1:
            bands[-1] = (bands[-1][0], y)
        else:
            bands.append((y, y))
    return (max(image_rows) if image_rows else -1), bands


class CountingPainter(QPainter):
    def __init__(self, device) -> None:
        super().__init__(device)
        self.texts: list[str] = []

    def drawText(self, *args):  # noqa: N802 (Qt API)
        self.texts.append(args[-1])
        return super().drawText(*args)


def draw_calls(view, index) -> list[str]:
    """The texts the view's delegate draws for one item (painted into a spare image)."""
    rect = view.visualRect(index)
    target = QImage(rect.size(), QImage.Format.Format_RGB32)
    painter = CountingPainter(target)
    option = QStyleOptionViewItem()
    view.initViewItemOption(option)
    option.rect = QRect(0, 0, rect.width(), rect.height())
    view.itemDelegate().paint(painter, option, index)
    painter.end()
    return painter.texts


def check_captions(view, indexes, lines: int) -> None:
    picture = view.viewport().grab().toImage()
    layouts = []
    for index in indexes:
        bottom, bands = layout_of(picture, view.visualRect(index))
        assert bottom > 0, "the thumbnail is not shown"
        assert len(bands) == lines, f"{index.data()!r}: {len(bands)} caption lines, not {lines}"
        assert all(first > bottom for first, _ in bands), "caption drawn over the image"
        layouts.append(bands)
        calls = draw_calls(view, index)
        assert calls == (index.data() or "").split("\n"), calls
    assert layouts[0] == layouts[1] == layouts[2], f"captions move with the shape: {layouts}"
    # Nothing dark outside the items: no caption spills over or is drawn a second time.
    covered = [view.visualRect(i) for i in indexes]
    stray = [(x, y) for y in range(picture.height()) for x in range(picture.width())
             if qGray(picture.pixel(x, y)) < 110 and not any(r.contains(x, y) for r in covered)]
    assert not stray[:1], f"dark pixels outside the thumbnails, e.g. at {stray[:3]}"


def test_gallery_captions_once_for_every_shape(qtbot, images):
    loader = ThumbnailLoader(96)
    gallery = ClassGallery(loader)
    qtbot.addWidget(gallery)
    gallery.resize(800, 400)
    gallery.show()
    gallery.show_class("shapes", [SimpleNamespace(path=p, split="train") for p in images])
    gallery.grid.grab()  # the first paint asks for the thumbnails
    qtbot.waitUntil(lambda: all(loader.get(p) is not None for p in images), timeout=10_000)
    qtbot.wait(50)
    model = gallery.grid.model()
    check_captions(gallery.grid, [model.index(i, 0) for i in range(3)], lines=1)
    loader.shutdown()


def test_mistake_strip_captions_once_for_every_shape(qtbot, images):
    view = EvaluationView()
    qtbot.addWidget(view)
    view.resize(1100, 700)
    view.show()
    samples = [{"path": p, "true": "cat", "predicted": "dog", "confidence": 0.9 - 0.1 * i}
               for i, p in enumerate(images)]
    view.set_report(SimpleNamespace(
        accuracy=0.0, top5_accuracy=None, confusion=[[0, 3], [0, 0]], class_names=["cat", "dog"],
        per_class=[{"name": n, "precision": 0.0, "recall": 0.0, "f1": 0.0, "support": s}
                   for n, s in (("cat", 3), ("dog", 0))], errors=samples, report_dir="",
        samples=samples))
    view.show_cell(0, 1)
    strip = view.cell_images
    qtbot.waitUntil(lambda: all(view.loader.get(p) is not None for p in images), timeout=10_000)
    qtbot.wait(50)
    check_captions(strip, [strip.model().index(i, 0) for i in range(3)], lines=2)
    view.shutdown()
