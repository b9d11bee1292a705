"""The evaluation view at 120 classes (a synthetic report of realistic names and counts, shown
at 1280x800): the "most confused" list names the largest mistake cells in order and a click
on one lists that cell's images exactly as a click on the matrix does; the matrix zooms and
pans (wheel, drag, Fit) to readable cells, and hovering a cell names both classes in full."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication, QToolTip

from gui.screenshots import many_class_report
from gui.widgets.confusion_matrix import READABLE_CELL_PX
from gui.widgets.evaluation_view import EvaluationView


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return many_class_report(tmp_path_factory.mktemp("many-classes"))


@pytest.fixture
def view(qtbot, report):
    v = EvaluationView()
    qtbot.addWidget(v)
    v.resize(1280, 800)
    v.show()
    qtbot.waitExposed(v)
    v.set_report(report)
    qtbot.wait(50)  # the view box takes its size, labels follow
    yield v
    v.shutdown()


def largest_mistakes(confusion, limit):
    """The off-diagonal cells with images, most images first, then in reading order."""
    cells = [(count, t, p) for t, row in enumerate(confusion) for p, count in enumerate(row)
             if t != p and count]
    return [(t, p, count) for count, t, p in sorted(cells, key=lambda c: (-c[0], c[1], c[2]))][:limit]


def listed_pairs(view, names):
    table = view.pairs
    return [(names.index(table.item(r, 0).text()), names.index(table.item(r, 1).text()),
             int(table.item(r, 2).text())) for r in range(table.rowCount())]


def strip_texts(view):
    return [view.cell_images.item(i).text() for i in range(view.cell_images.count())]


def viewport_pos(matrix, true, predicted) -> QPoint:
    return matrix.mapFromScene(matrix.scene_pos_of_cell(true, predicted))


def click_matrix_cell(qtbot, matrix, true, predicted) -> None:
    pos = viewport_pos(matrix, true, predicted)
    qtbot.mousePress(matrix.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    qtbot.mouseRelease(matrix.viewport(), Qt.MouseButton.LeftButton, pos=pos)


def wheel(matrix, pos: QPoint, notches: int) -> None:
    event = QWheelEvent(QPointF(pos), QPointF(matrix.viewport().mapToGlobal(pos)), QPoint(0, 0),
                        QPoint(0, 120 * notches), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(matrix.viewport(), event)


def mouse(matrix, kind, pos: QPoint, button, buttons) -> None:
    event = QMouseEvent(kind, QPointF(pos), QPointF(matrix.viewport().mapToGlobal(pos)), button,
                        buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(matrix.viewport(), event)


def test_the_report_is_realistic(report):
    names = report.class_names
    assert len(names) == 120 and all(len(n) == len("Breed_Name_Number_000") for n in names)
    assert sum(map(sum, report.confusion)) == len(report.samples) == 1200
    assert 0.75 < report.accuracy < 0.95


def test_most_confused_lists_the_largest_mistakes_in_order(view, report):
    names = report.class_names
    assert view.matrix.zoomable and view.side_tabs.currentWidget() is view.pairs
    assert view.pairs.isVisible() and view.fit_button.isVisible()
    listed = listed_pairs(view, names)
    assert len(listed) == 25
    assert listed == largest_mistakes(report.confusion, 25)
    assert listed[0][2] > listed[-1][2]  # the look-alikes lead, single mistakes trail
    t, p, count = listed[0]
    hover = view.pairs.item(0, 1).toolTip()
    assert names[t] in hover and names[p] in hover and f"{count} images" in hover


def test_a_pair_click_shows_its_images_like_a_matrix_click_and_zooms_to_it(qtbot, view, report):
    names = report.class_names
    t, p, count = listed_pairs(view, names)[2]
    fit_px = view.matrix.cell_px()
    assert fit_px < 6  # the whole matrix: 120 cells of a few pixels
    rect = view.pairs.visualItemRect(view.pairs.item(2, 1))
    qtbot.mouseClick(view.pairs.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.wait(50)
    assert view.matrix.selected == (t, p)
    from_pair = (view.cell_title.text(), strip_texts(view))
    assert len(from_pair[1]) == count and names[t] in from_pair[0] and names[p] in from_pair[0]
    # Zoomed onto the cell: readable cells, full names on the axis, counts written in.
    matrix = view.matrix
    assert matrix.cell_px() >= READABLE_CELL_PX
    rows, cols = matrix.visible_cells()
    assert t in rows and p in cols
    assert matrix.shown_labels("left")[t] == names[t]
    assert matrix.shown_counts()[(t, p)] == str(count)
    # The same cell clicked in the matrix lists the same images, the same way.
    view.show_cell(t, t)
    assert strip_texts(view) != from_pair[1]
    with qtbot.waitSignal(matrix.cell_clicked) as clicked:
        click_matrix_cell(qtbot, matrix, t, p)
    assert clicked.args == [t, p]
    assert (view.cell_title.text(), strip_texts(view)) == from_pair


def test_the_wheel_zooms_a_drag_pans_and_fit_shows_everything(qtbot, view):
    matrix = view.matrix
    fit_px = matrix.cell_px()
    centre = matrix.viewport().rect().center()
    wheel(matrix, centre, 3)
    qtbot.wait(50)
    zoomed = matrix.cell_px()
    assert zoomed > 2 * fit_px
    wheel(matrix, centre, 8)
    qtbot.wait(50)
    assert matrix.cell_px() >= READABLE_CELL_PX
    cols_before = matrix.visible_cells()[1]
    # Drag to the left by 10 cells: columns further right come into view.
    shift = int(10 * matrix.cell_px())
    start, end = centre, centre - QPoint(shift, 0)
    mouse(matrix, QEvent.Type.MouseButtonPress, start, Qt.MouseButton.LeftButton,
          Qt.MouseButton.LeftButton)
    for k in range(1, 11):
        mouse(matrix, QEvent.Type.MouseMove, start - QPoint(shift * k // 10, 0),
              Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton)
    mouse(matrix, QEvent.Type.MouseButtonRelease, end, Qt.MouseButton.LeftButton,
          Qt.MouseButton.NoButton)
    qtbot.wait(50)
    cols_after = matrix.visible_cells()[1]
    assert cols_after.start >= cols_before.start + 8
    assert matrix.selected is None  # a drag is not a click
    qtbot.mouseClick(view.fit_button, Qt.MouseButton.LeftButton)
    qtbot.wait(50)
    assert matrix.cell_px() == pytest.approx(fit_px, rel=0.01)
    assert matrix.visible_cells() == (range(0, 120), range(0, 120))


def test_hovering_a_cell_names_both_classes_in_full(qtbot, view, report):
    names = report.class_names
    t, p, count = listed_pairs(view, names)[0]
    view.matrix.zoom_to_cell(t, p)
    qtbot.wait(50)
    pos = viewport_pos(view.matrix, t, p)
    mouse(view.matrix, QEvent.Type.MouseMove, pos, Qt.MouseButton.NoButton,
          Qt.MouseButton.NoButton)
    qtbot.waitUntil(QToolTip.isVisible, timeout=2000)
    text = QToolTip.text()
    assert f"true: {names[t]}" in text and f"predicted: {names[p]}" in text
    assert f"{count} images" in text
