"""The window has a minimum size, and at 1024x680 and 1024x700 every tab fits: the layouts
need no more room than that, and no button, label or field is squeezed below the room its
text needs or pushed out of its tab. Checked fresh, and after a run with its summary card,
a 120-class evaluation and a full status bar (an explicit minimum size stops Qt from growing
the window to its contents, so squeezing is what would show)."""
from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize
from PySide6.QtWidgets import (QAbstractButton, QAbstractScrollArea, QAbstractSpinBox,
                               QApplication, QComboBox, QLabel, QLineEdit, QWidget)

from engine.events import RunFinished
from gui.screenshots import many_class_report
from gui.status_bar import ElidingLabel

SIZES = ((1024, 680), (1024, 700))


def in_scroll_area(widget: QWidget, root: QWidget) -> bool:
    parent = widget.parentWidget()
    while parent is not None and parent is not root:
        if isinstance(parent.parentWidget(), QAbstractScrollArea) and \
                parent is parent.parentWidget().viewport():
            return True
        parent = parent.parentWidget()
    return False


def squeezed(root: QWidget) -> list[str]:
    """Visible controls of `root` smaller than their minimum size hint or outside `root`."""
    problems = []
    area = QRect(QPoint(0, 0), root.size())
    for w in root.findChildren(QWidget):
        if not w.isVisibleTo(root) or in_scroll_area(w, root):
            continue
        if not isinstance(w, (QAbstractButton, QComboBox, QLineEdit, QLabel)) or \
                isinstance(w.parentWidget(), (QAbstractSpinBox, QComboBox)):
            continue  # (a spin box's or combo box's own line edit is sized by its owner)
        if isinstance(w, ElidingLabel) or (isinstance(w, QLabel) and w.wordWrap()):
            continue  # they give way by design (ellipsis, more lines)
        name = f"{type(w).__name__} {getattr(w, 'text', lambda: '')()!r}"
        hint = w.minimumSizeHint()
        if w.width() < hint.width() or w.height() < hint.height():
            problems.append(f"{name}: {w.width()}x{w.height()} < {hint.width()}x{hint.height()}")
        place = QRect(w.mapTo(root, QPoint(0, 0)), w.size())
        if not area.contains(place):
            problems.append(f"{name} at {place.getRect()} outside {area.getRect()}")
    return problems


def check_every_tab(qtbot, window) -> None:
    for size in SIZES:
        window.resize(*size)
        for tab in window.all_tabs:
            window.show_tab(tab)
            QApplication.processEvents()
            qtbot.wait(20)
            assert window.size() == QSize(*size)
            need = window.minimumSizeHint()
            assert need.width() <= size[0] and need.height() <= size[1], f"needs {need}"
            assert not squeezed(tab), f"{type(tab).__name__} at {size}: {squeezed(tab)}"
        assert not squeezed(window.statusBar())


def test_the_window_cannot_shrink_below_its_minimum(qtbot, main_window):
    assert main_window.minimumSize() == QSize(1024, 680)
    main_window.resize(640, 480)
    QApplication.processEvents()
    assert main_window.width() >= 1024 and main_window.height() >= 680


def test_every_tab_fits_the_minimum_size_fresh(qtbot, main_window):
    check_every_tab(qtbot, main_window)


def test_every_tab_fits_after_a_run_and_a_120_class_evaluation(qtbot, main_window, tmp_path,
                                                               learnable_dir):
    with qtbot.waitSignal(main_window.dataset_tab.dataset_ready, timeout=30_000):
        main_window.dataset_tab.open_folder(str(learnable_dir))
    training = main_window.training_tab
    training.summary.show_result(RunFinished(
        status="completed", run_dir=str(tmp_path / "runs" / "dogs-2026-11-29-1412"),
        best_val_accuracy=0.912, best_epoch=7, test_accuracy=0.897, elapsed_s=754.0),
        zero_shot=0.61)
    training.summary.show()
    status = main_window.status
    status.hardware.setText("NVIDIA GeForce RTX 4090 · bf16 · 16 threads")
    status.set_run("dogs-2026-11-29-1412")
    status.set_progress("completed · best val 91.2 %")
    status.set_note("Demo: finished. Drop your own images on the Prediction tab, or start "
                    "with your own folder.")
    view = training.evaluation
    training.pages.setCurrentWidget(view)
    view.set_report(many_class_report(tmp_path / "images"))
    check_every_tab(qtbot, main_window)
    main_window.show_tab(training)
    qtbot.wait(50)
    box = view.matrix.getPlotItem().getViewBox()
    assert min(box.width(), box.height()) >= 200  # the matrix keeps room to zoom into
    assert view.pairs.isVisible() and view.cell_images.isVisible()
