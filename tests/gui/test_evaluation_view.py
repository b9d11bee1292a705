"""Evaluation view: a real evaluate_run off the GUI thread on a tiny trained run, the
sortable per-class table, confusion-matrix hover text, and clicking a cell to list its
images with confidences."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from PySide6.QtCore import QPoint, Qt

from gui.widgets.confusion_matrix import row_normalised, tick_plan
from gui.widgets.evaluation_view import EvaluationView, cell_samples


@pytest.fixture
def view(qtbot):
    v = EvaluationView()
    qtbot.addWidget(v)
    v.resize(1200, 700)
    v.show()
    yield v
    v.shutdown()


def synthetic_report(tmp_path):
    names = ["beagle", "pug", "golden retriever"]
    confusion = [[5, 1, 0], [0, 4, 2], [1, 0, 6]]
    samples = []
    for t, row in enumerate(confusion):
        for p, count in enumerate(row):
            for k in range(count):
                samples.append({"path": str(tmp_path / f"{names[t]}_{p}_{k}.jpg"), "true": names[t],
                                "predicted": names[p], "confidence": 0.5 + 0.05 * k})
    per_class = [{"name": "beagle", "precision": 0.83, "recall": 0.83, "f1": 0.83, "support": 6},
                 {"name": "pug", "precision": 0.8, "recall": 0.67, "f1": 0.73, "support": 6},
                 {"name": "golden retriever", "precision": 0.75, "recall": 0.86, "f1": 0.8, "support": 7}]
    return SimpleNamespace(accuracy=15 / 19, top5_accuracy=None, per_class=per_class,
                           confusion=confusion, class_names=names, errors=[], report_dir="",
                           samples=samples)


def _column(view, col):
    return [view.table.item(r, col).text() for r in range(view.table.rowCount())]


def test_table_sorts_by_every_column_numerically(view, tmp_path):
    view.set_report(synthetic_report(tmp_path))
    assert _column(view, 0) == ["beagle", "golden retriever", "pug"]
    view.table.sortByColumn(3, Qt.SortOrder.DescendingOrder)  # F1
    assert _column(view, 0) == ["beagle", "golden retriever", "pug"]
    view.table.sortByColumn(2, Qt.SortOrder.AscendingOrder)  # recall
    assert _column(view, 2) == ["67.0 %", "83.0 %", "86.0 %"]
    view.table.sortByColumn(4, Qt.SortOrder.DescendingOrder)  # images
    assert _column(view, 0)[0] == "golden retriever"
    assert "Accuracy 78.9 %" in view.summary.text() and "4 mistakes" in view.summary.text()


def test_matrix_hover_text_and_clicking_a_cell_lists_its_images(qtbot, view, tmp_path):
    report = synthetic_report(tmp_path)
    view.set_report(report)
    qtbot.wait(50)  # let the view box take its final size
    assert view.matrix.cell_text(1, 2) == ("true: pug\npredicted: golden retriever\n"
                                           "2 images (33 % of pug)")
    scene_pos = view.matrix.scene_pos_of_cell(1, 2)
    assert view.matrix.cell_at(scene_pos) == (1, 2)
    viewport_pos = view.matrix.mapFromScene(scene_pos)
    with qtbot.waitSignal(view.matrix.cell_clicked) as clicked:
        qtbot.mousePress(view.matrix.viewport(), Qt.MouseButton.LeftButton, pos=viewport_pos)
        qtbot.mouseRelease(view.matrix.viewport(), Qt.MouseButton.LeftButton, pos=viewport_pos)
    assert clicked.args == [1, 2]
    assert view.matrix.selected == (1, 2)
    items = [view.cell_images.item(i).text() for i in range(view.cell_images.count())]
    assert len(items) == 2 and items[0].startswith("55 %") and items[1].startswith("50 %")
    assert "2 mistaken images" in view.cell_title.text()
    # A cell outside the matrix is not a cell.
    assert view.matrix.cell_at(view.matrix.mapToScene(QPoint(2, 2))) is None


def test_cell_samples_accepts_names_or_indices(tmp_path):
    report = synthetic_report(tmp_path)
    by_index = SimpleNamespace(**{**vars(report), "samples": [
        {"path": "x.jpg", "true": 0, "predicted": 1, "confidence": 0.9}]})
    assert [s["path"] for s in cell_samples(by_index, 0, 1)] == ["x.jpg"]
    assert len(cell_samples(report, 2, 2)) == 6


def test_label_helpers():
    assert tick_plan(120, cell_px=4.0, label_px=40.0) == 10  # every 10th of 120 names
    assert tick_plan(5, cell_px=80.0, label_px=40.0) == 1
    shares = row_normalised(__import__("numpy").array([[3, 1], [0, 0]]))
    assert shares.tolist() == [[0.75, 0.25], [0.0, 0.0]]


def test_real_evaluation_runs_in_the_background(qtbot, view, trained_run):
    import threading

    main = threading.get_ident()
    seen = []
    import engine.use.evaluate as evaluate_module

    real = evaluate_module.evaluate_run

    def spy(*args, **kwargs):
        seen.append(threading.get_ident())
        return real(*args, **kwargs)

    evaluate_module.evaluate_run = spy
    try:
        with qtbot.waitSignal(view.evaluation_finished, timeout=120_000) as done:
            view.evaluate(str(trained_run), "test")
            assert view.busy.isVisible() and not view.evaluate_button.isEnabled()
    finally:
        evaluate_module.evaluate_run = real
    report = done.args[0]
    assert seen and main not in seen
    n = len(report.class_names)
    assert view.matrix.matrix.shape == (n, n) and view.table.rowCount() == n
    assert sum(map(sum, report.confusion)) == len(report.samples) > 0
    assert view.report_button.isEnabled() and not view.busy.isVisible()
    qtbot.waitUntil(lambda: not view.is_busy() and view.evaluate_button.isEnabled())
    t, p = max(((i, j) for i in range(n) for j in range(n)), key=lambda c: report.confusion[c[0]][c[1]])
    listed = view.show_cell(t, p)
    assert view.cell_images.count() == len(listed) == report.confusion[t][p]
    assert all("%" in view.cell_images.item(i).text() for i in range(view.cell_images.count()))


def test_evaluating_a_broken_run_reports_in_words(qtbot, view, tmp_path):
    with qtbot.waitSignal(view.evaluation_failed, timeout=60_000) as failed:
        view.evaluate(str(tmp_path / "not-a-run"))
    assert "Evaluation failed" in view.summary.text() and failed.args[0]


def test_few_classes_keep_the_plain_matrix(qtbot, view, tmp_path):
    """At 3 classes: every count written, no zoom, no "most confused" tab, no Fit button."""
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    view.set_report(synthetic_report(tmp_path))
    qtbot.wait(50)
    matrix = view.matrix
    assert not matrix.zoomable and not view.fit_button.isVisible()
    assert not view.side_tabs.isTabVisible(view.side_tabs.indexOf(view.pairs))
    assert view.side_tabs.currentWidget() is view.table
    assert matrix.shown_counts() == {(t, p): str(c) for t, row in enumerate(
        [[5, 1, 0], [0, 4, 2], [1, 0, 6]]) for p, c in enumerate(row)}
    assert matrix.shown_labels("left") == {0: "beagle", 1: "pug", 2: "golden retriever"}
    before = matrix.getPlotItem().getViewBox().viewRange()
    centre = matrix.viewport().rect().center()
    QApplication.sendEvent(matrix.viewport(), QWheelEvent(
        QPointF(centre), QPointF(matrix.viewport().mapToGlobal(centre)), QPoint(0, 0),
        QPoint(0, 480), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase, False))
    qtbot.wait(50)
    assert matrix.getPlotItem().getViewBox().viewRange() == before



def test_recall_at_start_shows_beside_the_final_recall_when_measured(view, tmp_path):
    report = synthetic_report(tmp_path)
    view.set_report(report)
    assert view.table.isColumnHidden(5)  # a report from before it was measured
    for row, start in zip(report.per_class, (0.5, 0.0, 0.9)):
        row["start_recall"] = start
    view.set_report(report)
    assert not view.table.isColumnHidden(5)
    assert view.table.horizontalHeaderItem(5).text() == "Recall at start"
    assert _column(view, 0) == ["beagle", "golden retriever", "pug"]
    assert _column(view, 5) == ["50.0 %", "90.0 %", "0.0 %"]
    view.table.sortByColumn(5, Qt.SortOrder.AscendingOrder)
    assert _column(view, 0) == ["pug", "beagle", "golden retriever"]
    view.grab().save(str(tmp_path / "start_recall.png"))
