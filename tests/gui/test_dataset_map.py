"""The Dataset tab's map, driven like a user: the Map button embeds and lays out every image
in the background (quick layout first, then refined), hovering a dot shows its thumbnail, a
lasso drawn with the mouse selects exactly the dots inside it, decisions on a selection are
saved as a reviewed CSV (the folder untouched), an unsorted folder's embeddings are mapped
through show_points, Cancel stops it, and the window keeps answering while it computes.

The encoder is tests/colour_encoder.py's tiny CLIP, whose embeddings separate the demo
classes, so the map's clusters are the classes."""
from __future__ import annotations

import csv
import gc
import os
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QImage, QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from colour_encoder import make_colour_clip
from engine.demo.dataset import make_demo_dataset
from gui.tabs.dataset_tab import DatasetTab
from snapshots import folder_hash
from test_event_loop_gap import MAX_GAP_S, GapMeter


@pytest.fixture(scope="module")
def colour_clip(tmp_path_factory) -> Path:
    return make_colour_clip(tmp_path_factory.mktemp("colour_clip"))


@pytest.fixture
def tab(qtbot, tmp_path, colour_clip):
    """The Dataset tab showing a 4-class demo folder, checks and maps with the colour CLIP."""
    data = make_demo_dataset(tmp_path / "colours", num_classes=4, per_class=12, seed=3)
    tab = DatasetTab(None)
    tab.resize(1200, 900)
    qtbot.addWidget(tab)
    tab.show()
    tab.model_for_checks = lambda: str(colour_clip)
    with qtbot.waitSignal(tab.dataset_ready, timeout=30_000):
        tab.open_folder(str(data))
    yield tab
    tab.shutdown()


def open_map(qtbot, tab) -> list[tuple[np.ndarray, bool]]:
    """Click Map and wait for the final layout; every layout shown, in order."""
    layouts = []
    tab.map_flow.layout_ready.connect(lambda xy, final: layouts.append((xy, final)))
    with qtbot.waitSignal(tab.map_flow.layout_ready, timeout=120_000,
                          check_params_cb=lambda xy, final: final):
        qtbot.mouseClick(tab.map_button, Qt.MouseButton.LeftButton)
    return layouts


def same_cluster_share(xy: np.ndarray, labels: np.ndarray, k: int = 3) -> float:
    d = ((xy[:, None] - xy[None]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    return float((labels[np.argsort(d, 1)[:, :k]] == labels[:, None]).mean())


def drag(widget, points: list[QPoint], modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    """A left-button drag through `points` (QTest's mouseMove carries no buttons)."""
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton

    def send(kind, pos, button, buttons):
        event = QMouseEvent(kind, QPointF(pos), QPointF(widget.mapToGlobal(pos)), button,
                            buttons, modifiers)
        QApplication.sendEvent(widget, event)

    send(QEvent.Type.MouseButtonPress, points[0], left, left)
    for p in points[1:]:
        QTest.qWait(12)  # pyqtgraph drops moves that come faster than 100 per second
        send(QEvent.Type.MouseMove, p, none, left)
    send(QEvent.Type.MouseButtonRelease, points[-1], left, none)
    QApplication.processEvents()


def hover(widget, pos: QPoint) -> None:
    """The mouse moves to `pos` with no button held (sent to the widget itself: QTest's
    mouseMove lands off by the window frame on the offscreen platform)."""
    event = QMouseEvent(QEvent.Type.MouseMove, QPointF(pos), QPointF(widget.mapToGlobal(pos)),
                        Qt.MouseButton.NoButton, Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def viewport_pos(plot, x: float, y: float) -> QPoint:
    plot.getViewBox().updateMatrix()
    scene = plot.getViewBox().mapViewToScene(QPointF(x, y))
    return plot.mapFromScene(scene)


def test_map_shows_every_image_quick_layout_first_and_is_kept_for_the_session(qtbot, tab):
    layouts = open_map(qtbot, tab)
    page = tab.map_page
    assert tab.pages.currentWidget() is page and not tab.busy.isVisible()
    paths = sorted(s.path for s in tab.index.samples)
    assert sorted(page.map.paths) == paths and len(paths) == 48
    assert not layouts[0][1] and layouts[-1][1] and len(layouts) >= 3  # quick, ..., refined
    xy = page.map.xy
    assert xy.shape == (48, 2) and np.isfinite(xy).all() and np.abs(xy).max() <= 1 + 1e-6
    labels = np.asarray(page.map.codes)
    assert sorted(set(labels.tolist())) == [0, 1, 2, 3]
    assert same_cluster_share(xy, labels) > 0.9  # the classes are clusters on the map
    legend = [page.legend.item(i).text() for i in range(page.legend.count())]
    assert legend == [f"{c.display_name}  (12)" for c in tab.index.classes]
    # back, and again: from the session's cache, no second computation
    qtbot.mouseClick(page.back_button, Qt.MouseButton.LeftButton)
    assert tab.pages.currentIndex() == 1
    thread = tab.map_flow.thread
    with qtbot.waitSignal(tab.map_flow.layout_ready, timeout=1000):
        qtbot.mouseClick(tab.map_button, Qt.MouseButton.LeftButton)
    assert tab.map_flow.thread is thread and tab.pages.currentWidget() is page
    np.testing.assert_allclose(page.map.xy, xy)


def test_hovering_a_dot_shows_its_thumbnail_name_and_label(qtbot, tab):
    from gui.widgets.dataset_map import THUMB
    from gui.widgets.thumbnails import decode_thumbnail

    open_map(qtbot, tab)
    page = tab.map_page
    view = page.map.plot.viewport()
    names = {c.folder: c.display_name for c in tab.index.classes}
    for row in (0, 29):
        path = page.map.paths[row]
        pos = viewport_pos(page.map.plot, *page.map.xy[row])
        hover(view, pos)
        card = page.map.card
        qtbot.waitUntil(lambda: card.isVisible() and card.image.pixmap() is not None
                        and not card.image.pixmap().isNull(), timeout=10_000)
        if page.map.dot_near(page.map.plot.mapToScene(pos)) != row:
            continue  # another dot lies exactly there: the nearest one is shown
        assert card.name.text() == os.path.basename(path)
        assert card.label.text() == names[Path(path).parent.name]
        want = decode_thumbnail(path, THUMB).convertToFormat(QImage.Format.Format_RGB32)
        assert card.image.pixmap().toImage().convertToFormat(QImage.Format.Format_RGB32) == want
    hover(view, QPoint(2, 2))  # a corner far from the dots
    qtbot.waitUntil(lambda: not page.map.card.isVisible(), timeout=2000)


def test_a_lasso_drawn_with_the_mouse_selects_exactly_the_dots_inside(qtbot, tab):
    page = tab.map_page
    tab.pages.setCurrentWidget(page)
    grid = np.array([(-0.85 + 0.2 * i, -0.85 + 0.2 * j) for i in range(10) for j in range(10)])
    paths = [f"/nowhere/{i:03d}.jpg" for i in range(100)]
    page.map.set_points(paths, np.zeros(100, int), ["one"], xy=grid)
    qtbot.wait(50)
    # an L: a lasso selects it, a rectangle through the same corners could not
    outline = [(-0.95, -0.95), (0.5, -0.95), (0.5, 0.0), (0.0, 0.0), (0.0, 0.5), (-0.95, 0.5)]
    steps = []
    for (ax, ay), (bx, by) in zip(outline, outline[1:] + outline[:1]):
        steps += [viewport_pos(page.map.plot, ax + (bx - ax) * t / 8, ay + (by - ay) * t / 8)
                  for t in range(8)]
    x, y = grid[:, 0], grid[:, 1]
    inside = ((x < 0.5) & (y < 0)) | ((x < 0) & (y < 0.5))
    drag(page.map.plot.viewport(), steps + steps[:1], Qt.KeyboardModifier.ShiftModifier)
    assert page.map.selected_paths() == [p for p, i in zip(paths, inside) if i]
    assert page.grid.paths() == page.map.selected_paths()
    assert "45 selected" in page.selection_label.text()
    # the Lasso button does the same without Shift; a plain drag is a rectangle
    qtbot.mouseClick(page.lasso_button, Qt.MouseButton.LeftButton)
    drag(page.map.plot.viewport(), steps + steps[:1])
    assert len(page.map.selected_paths()) == inside.sum()
    qtbot.mouseClick(page.lasso_button, Qt.MouseButton.LeftButton)
    drag(page.map.plot.viewport(), [viewport_pos(page.map.plot, -0.95, -0.95),
                                    viewport_pos(page.map.plot, -0.3, -0.6),
                                    viewport_pos(page.map.plot, 0.05, 0.05)])
    assert len(page.map.selected_paths()) == 25  # 5 x 5 dots of the rectangle


def test_relabel_and_exclude_a_selection_saves_exactly_those_decisions(qtbot, tab, tmp_path):
    data = Path(tab.index.root)
    before = folder_hash(data)
    open_map(qtbot, tab)
    page = tab.map_page
    classes = [c.folder for c in tab.index.classes]
    original = {s.path: classes[s.label] for s in tab.index.samples}
    row = page.map.paths.index(sorted(page.map.paths)[0])  # a dot clicked: it alone
    click = viewport_pos(page.map.plot, *page.map.xy[row])
    with qtbot.waitSignal(page.image_selected, timeout=2000) as chosen:
        drag(page.map.plot.viewport(), [click])  # pressed and released in place: a click
    assert page.map.selected_paths() == [chosen.args[0]]
    picked = chosen.args[0]  # the dot nearest the click (another may lie on top of it)
    target = next(c for c in classes if c != original[picked])
    page.class_box.setCurrentIndex(classes.index(target))
    qtbot.mouseClick(page.relabel_button, Qt.MouseButton.LeftButton)
    # the legend's last class selects its 12 images: excluded together
    last = page.legend.item(3)
    page.legend.itemClicked.emit(last)
    excluded = set(page.map.selected_paths())
    assert len(excluded) == 12 and picked not in excluded
    qtbot.mouseClick(page.exclude_button, Qt.MouseButton.LeftButton)
    assert "excluded  (12)" in [page.legend.item(i).text() for i in range(page.legend.count())]
    with qtbot.waitSignal(tab.dataset_ready, timeout=30_000) as opened:
        qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    reviewed = opened.args[0]
    assert reviewed.layout == "csv" and Path(reviewed.root).is_relative_to(tmp_path / "home")
    with open(reviewed.root, newline="", encoding="utf-8") as fh:
        rows = {r["path"]: r["label"] for r in csv.DictReader(fh)}
    want = {str(Path(p).resolve()): label for p, label in original.items() if p not in excluded}
    want[str(Path(picked).resolve())] = target
    assert rows == want
    assert folder_hash(data) == before
    assert "unchanged" in tab.banner.text()


@pytest.fixture
def page(qtbot, tab):
    tab.pages.setCurrentWidget(tab.map_page)
    return tab.map_page


def test_an_unsorted_folder_is_mapped_from_its_embeddings(qtbot, tab, page, tmp_path,
                                                          colour_clip):
    from engine.review.map_points import UNSORTED, map_points

    folder = tmp_path / "dump"
    folder.mkdir()
    for i, path in enumerate(sorted(Path(tab.index.root).rglob("*.jpg"))):
        os.link(path, folder / f"IMG_{i:04d}.jpg")
    points = map_points(folder, model_ref=str(colour_clip))
    assert points.layout == UNSORTED
    names = [c.folder for c in tab.index.classes]
    truth = {f"IMG_{i:04d}.jpg": p.parent.name
             for i, p in enumerate(sorted(Path(tab.index.root).rglob("*.jpg")))}
    proposed = [truth[Path(p).name] if i % 4 else "" for i, p in enumerate(points.paths)]
    with qtbot.waitSignal(tab.map_flow.layout_ready, timeout=120_000,
                          check_params_cb=lambda xy, final: final):
        page.show_points(points.paths, points.vectors, proposed, names)
    assert page.map.paths == points.paths and page.map.xy.shape == (48, 2)
    assert np.isfinite(page.map.xy).all() and not page.save_button.isVisible()
    legend = [page.legend.item(i).text() for i in range(page.legend.count())]
    assert legend[-1] == "no label  (12)" and len(legend) == 5
    assert same_cluster_share(page.map.xy, np.array([names.index(truth[Path(p).name])
                                                     for p in points.paths])) > 0.9


def random_vectors(n: int = 3000, dims: int = 512):
    return np.random.default_rng(1).normal(size=(n, dims)).astype(np.float32)


def test_cancel_stops_the_layout(qtbot, tab, page):
    paths = [f"/nowhere/{i}.jpg" for i in range(3000)]
    finals = []
    tab.map_flow.layout_ready.connect(lambda xy, final: final and finals.append(xy))
    with qtbot.waitSignal(tab.map_flow.layout_ready, timeout=60_000):
        page.show_points(paths, random_vectors(), [""] * 3000, ["a", "b"])
    qtbot.waitUntil(lambda: tab.busy.isVisible() and tab.busy.cancel_button.isEnabled(),
                    timeout=5000)
    with qtbot.waitSignal(tab.map_flow.idle, timeout=60_000):
        qtbot.mouseClick(tab.busy.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.wait(100)
    assert not finals and not tab.map_flow.cache and not tab.busy.isVisible()
    assert page.map.xy.shape == (3000, 2)  # the quick layout stays on screen


def test_the_window_keeps_answering_while_the_map_is_refined(qtbot, tab, page):
    paths = [f"/nowhere/{i}.jpg" for i in range(3000)]
    vectors = random_vectors()
    from engine.libraries import ready
    from engine.review.map import quick_layout

    ready()  # the libraries' first import belongs to the app's warm-up at start, not the map
    quick_layout(vectors[:10])
    meter = GapMeter()
    qtbot.wait(200)
    layouts = []
    tab.map_flow.layout_ready.connect(lambda xy, final: layouts.append(final))
    # the objects of the hundreds of tests before this one (pytest keeps them) are not the
    # app's: a full garbage collection over them could stall any thread for 100+ ms
    gc.collect()
    gc.freeze()
    try:
        meter.start()
        started = time.perf_counter()
        with qtbot.waitSignal(tab.map_flow.layout_ready, timeout=300_000,
                              check_params_cb=lambda xy, final: final):
            page.show_points(paths, vectors, [""] * 3000, ["a", "b"])
        meter.stop()
    finally:
        gc.unfreeze()
    assert len(layouts) >= 5 and meter.ticks > 10
    assert meter.longest < MAX_GAP_S, (
        f"the window stalled for {meter.longest * 1000:.0f} ms while the map was computed "
        f"({time.perf_counter() - started:.1f} s)")


def test_the_last_data_checks_findings_are_marked_on_the_map(qtbot, tab):
    import shutil

    first, second = (Path(tab.index.root) / c.folder for c in tab.index.classes[:2])
    for path in sorted(first.glob("*.jpg"))[:3]:  # three images filed under the wrong class
        shutil.move(str(path), str(second / path.name))
    with qtbot.waitSignal(tab.dataset_ready, timeout=30_000):
        qtbot.mouseClick(tab.rescan_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(tab.review_flow.report_ready, timeout=120_000):
        qtbot.mouseClick(tab.check_button, Qt.MouseButton.LeftButton)
    report = tab.review_page.report
    assert report.issues and report.duplicates  # the generated folder has both to mark
    qtbot.mouseClick(tab.review_page.back_button, Qt.MouseButton.LeftButton)
    open_map(qtbot, tab)
    page = tab.map_page
    duplicates = {p for d in report.duplicates for p in (d["first"], d["second"])}
    mistakes = {i["path"] for i in report.issues}
    assert {p for p, k in page.map.marks.items() if k == "mistake"} == mistakes
    assert {p for p, k in page.map.marks.items() if k == "duplicate"} == duplicates - mistakes
    assert len(page.map.pairs) == len(report.duplicates)
    legend = [page.legend.item(i).text() for i in range(page.legend.count())]
    assert f"likely label mistake  ({len(mistakes)})" in legend
    assert f"near-duplicate  ({len(duplicates - mistakes)})" in legend
    # the legend's mark row selects the marked images
    row = next(i for i in range(page.legend.count())
               if page.legend.item(i).text().startswith(("likely", "near")))
    page.legend.itemClicked.emit(page.legend.item(row))
    kind = "mistake" if page.legend.item(row).text().startswith("likely") else "duplicate"
    assert set(page.map.selected_paths()) == {p for p, k in page.map.marks.items() if k == kind}
