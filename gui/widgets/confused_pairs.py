"""The evaluation view's "most confused" list: the largest off-diagonal cells of the
confusion matrix, most images first. With 120 classes the matrix's mistakes are specks;
this list names them. A click on a row emits `pair_clicked(true, predicted)`, which the
view handles exactly as a click on that cell of the matrix.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem,
                               QWidget)

from gui.errors import on_action
from gui.i18n import translate

TOP_PAIRS = 25
PAIR_ROLE = Qt.ItemDataRole.UserRole + 2  # (true, predicted) of a row


def top_pairs(confusion, limit: int = TOP_PAIRS) -> list[tuple[int, int, int]]:
    """(true, predicted, count) of the `limit` largest mistake cells, most images first;
    equal counts keep the matrix's reading order (row by row). Empty cells are left out."""
    matrix = np.array(confusion, dtype=int)
    if matrix.size == 0:
        return []
    np.fill_diagonal(matrix, 0)
    order = np.argsort(-matrix, axis=None, kind="stable")[:limit]
    rows, cols = np.unravel_index(order, matrix.shape)
    return [(int(t), int(p), int(matrix[t, p])) for t, p in zip(rows, cols) if matrix[t, p] > 0]


class ConfusedPairs(QTableWidget):
    pair_clicked = Signal(int, int)  # true index, predicted index

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, 3, parent)
        self._hover_text = None
        # The i18n walk re-makes these in another language; retranslate() does the rows.
        self.setHorizontalHeaderLabels([translate("ConfusedPairs", "True class"),
                                        translate("ConfusedPairs", "Predicted as"),
                                        translate("ConfusedPairs", "Images")])
        self.setToolTip(translate("ConfusedPairs", "The mistakes made most often: click one to "
                                  "see its images and find it in the matrix"))
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.verticalHeader().setVisible(False)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # names differ at their ends
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.cellClicked.connect(on_action(self, self._on_cell_clicked,
                                           translate("EvaluationView", "Show a cell's images")))
        self.cellActivated.connect(on_action(self, self._on_cell_clicked,
                                             translate("EvaluationView", "Show a cell's images")))

    def retranslate(self) -> None:
        """Rows' tooltips (built from counts and names) in the new language."""
        for row in range(self.rowCount()):
            text = self._hover_text(*self.pair_at(row))
            for col in range(self.columnCount()):
                self.item(row, col).setToolTip(text)

    def set_pairs(self, confusion, class_names: list[str], hover_text) -> None:
        """List the top pairs of `confusion`; hover_text(true, predicted) is a row's tooltip."""
        pairs = top_pairs(confusion)
        self._hover_text = hover_text
        self.setRowCount(len(pairs))
        for row, (t, p, count) in enumerate(pairs):
            items = (QTableWidgetItem(class_names[t]), QTableWidgetItem(class_names[p]),
                     QTableWidgetItem(str(count)))
            items[2].setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            for col, item in enumerate(items):
                item.setData(PAIR_ROLE, (t, p))
                item.setToolTip(hover_text(t, p))
                self.setItem(row, col, item)

    def pair_at(self, row: int) -> tuple[int, int]:
        return tuple(self.item(row, 0).data(PAIR_ROLE))

    def _on_cell_clicked(self, row: int) -> None:
        if 0 <= row < self.rowCount():
            self.pair_clicked.emit(*self.pair_at(row))
