"""The evaluation view's per-class table: precision, recall, F1, number of images and (for
runs that measured it) the recall before training of every class, sortable by any column
(numbers sort as numbers, not as text)."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem,
                               QWidget)

from gui import format as fmt
from gui.i18n import translate

SORT_ROLE = Qt.ItemDataRole.UserRole


class NumberItem(QTableWidgetItem):
    """Shows formatted text, sorts by the number behind it."""

    def __init__(self, value: float, text: str) -> None:
        super().__init__(text)
        self.setData(SORT_ROLE, float(value))
        self.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def __lt__(self, other: QTableWidgetItem) -> bool:
        mine, theirs = self.data(SORT_ROLE), other.data(SORT_ROLE)
        if mine is None or theirs is None:
            return super().__lt__(other)
        return mine < theirs


class PerClassTable(QTableWidget):
    """One row per class; click a header to sort by that column."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, 6, parent)
        self.setHorizontalHeaderLabels([
            translate("EvaluationView", "Class"), translate("EvaluationView", "Precision"),
            translate("EvaluationView", "Recall"), translate("EvaluationView", "F1"),
            translate("EvaluationView", "Images"), translate("EvaluationView", "Recall at start")])
        self.horizontalHeaderItem(5).setToolTip(translate(
            "EvaluationView", "Recall of the model training started from (zero-shot or initial "
            "head), measured on the same images before the first step: did training, and class "
            "balancing, lift the small classes?"))
        self.setSortingEnabled(True)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.verticalHeader().setVisible(False)
        self.setWordWrap(False)  # one line per class; long names elide
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)

    def fill(self, per_class: list[dict]) -> None:
        self.setSortingEnabled(False)  # otherwise rows move while being filled
        self.setRowCount(len(per_class))
        for row, entry in enumerate(per_class):
            self.setItem(row, 0, QTableWidgetItem(str(entry["name"])))
            for col, key in enumerate(("precision", "recall", "f1"), start=1):
                value = float(entry[key])
                self.setItem(row, col, NumberItem(value, fmt.percent(value)))
            support = int(entry["support"])
            self.setItem(row, 4, NumberItem(support, str(support)))
            start = entry.get("start_recall")  # engine.use.evaluate: runs that measured it
            self.setItem(row, 5, NumberItem(start, fmt.percent(start)) if start is not None
                         else QTableWidgetItem(""))
        self.setColumnHidden(5, not any("start_recall" in e for e in per_class))
        self.setSortingEnabled(True)
        self.sortByColumn(0, Qt.SortOrder.AscendingOrder)
