"""The sweep dialog's table of trials: one row per trial, updated live, sortable by any column
(numbers sort as numbers), the best completed trial in bold on a green band."""
from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from gui.i18n import translate

COLUMNS = ("trial", "state", "accuracy", "lr", "r", "alpha", "last_n", "dropout",
           "augmentation", "minutes")
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
BEST_BACKGROUND = QColor(76, 175, 80, 70)  # readable on light and dark palettes
DASH = "–"


def column_titles() -> list[str]:
    return [translate("SweepTable", "Trial"), translate("SweepTable", "State"),
            translate("SweepTable", "Val accuracy"), translate("SweepTable", "LR"),
            translate("SweepTable", "r"), translate("SweepTable", "alpha"),
            translate("SweepTable", "Last N"), translate("SweepTable", "Dropout"),
            translate("SweepTable", "Augmentation"), translate("SweepTable", "Time")]


def state_text(state: str) -> str:
    return {"running": translate("SweepTable", "running"),
            "complete": translate("SweepTable", "complete"),
            "pruned": translate("SweepTable", "pruned"),
            "failed": translate("SweepTable", "failed"),
            "interrupted": translate("SweepTable", "interrupted")}.get(state, state)


def augmentation_text(changes: dict) -> str:
    if not changes.get("augment"):
        return translate("SweepTable", "off")
    parts = [translate("SweepTable", "crops+flips")]
    if changes.get("color_jitter"):
        parts.append(translate("SweepTable", "jitter {value:.2f}").format(
            value=changes["color_jitter"]))
    if changes.get("mixup"):
        parts.append(translate("SweepTable", "MixUp {value:.2f}").format(value=changes["mixup"]))
    if changes.get("randaugment_ops"):
        parts.append(translate("SweepTable", "RandAugment {ops}×{magnitude}").format(
            ops=changes["randaugment_ops"], magnitude=changes.get("randaugment_magnitude", "")))
    return " · ".join(parts)


class SweepTableModel(QAbstractTableModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list = []  # engine.sweep.events.TrialUpdate, in trial order

    # --- data ------------------------------------------------------------------------------
    def update(self, row) -> None:
        """Add trial `row` or replace its earlier state."""
        for i, old in enumerate(self.rows):
            if old.number == row.number:
                self.rows[i] = row
                self.dataChanged.emit(self.index(0, 0),
                                      self.index(len(self.rows) - 1, len(COLUMNS) - 1))
                return
        self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows))
        self.rows.append(row)
        self.endInsertRows()
        self.dataChanged.emit(self.index(0, 0), self.index(len(self.rows) - 1, len(COLUMNS) - 1))

    def clear(self) -> None:
        self.beginResetModel()
        self.rows = []
        self.endResetModel()

    def best(self):
        """The completed trial with the highest validation accuracy (None before one ends)."""
        done = [r for r in self.rows if r.state == "complete" and r.value is not None]
        return max(done, key=lambda r: r.value, default=None)

    # --- Qt ----------------------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 (Qt API)
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802 (Qt API)
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return column_titles()[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row, column = self.rows[index.row()], COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, column)
        if role == SORT_ROLE:
            value = self._value(row, column)
            return -1.0 if value is None else value
        best = self.best()
        if role == Qt.ItemDataRole.BackgroundRole and best is row:
            return BEST_BACKGROUND
        if role == Qt.ItemDataRole.FontRole and best is row:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and column not in ("state", "augmentation"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and row.note:
            return row.note
        return None

    @staticmethod
    def _value(row, column: str):
        c = row.changes
        return {"trial": row.number, "accuracy": row.value, "lr": c.get("lr", c.get("head_lr")),
                "r": c.get("lora_r"), "alpha": c.get("lora_alpha"),
                "last_n": c.get("lora_last_n_blocks"), "dropout": c.get("lora_dropout"),
                "minutes": row.minutes, "state": row.state,
                "augmentation": augmentation_text(c)}.get(column)

    def _text(self, row, column: str) -> str:
        value = self._value(row, column)
        if column == "state":
            return state_text(row.state)
        if column == "augmentation":
            return value if "lora_r" in row.changes else DASH
        if value is None:
            return DASH
        if column == "trial":
            return f"{value} ★" if self.best() is row else str(value)
        if column == "accuracy":
            return f"{value:.1%}"
        if column == "lr":
            return f"{value:.2e}"
        if column == "last_n":
            return translate("SweepTable", "all") if value == 0 else str(value)
        if column in ("dropout",):
            return f"{value:.2f}"
        if column == "alpha":
            return f"{value:g}"
        if column == "minutes":  # a short trial reads "42 s", not "0.7"
            if value * 60 < 0.5:
                return translate("SweepTable", "< 1 s")
            if value < 1:
                return translate("SweepTable", "{value:.0f} s").format(value=value * 60)
            return translate("SweepTable", "{value:.1f} min").format(value=value)
        return str(value)


class SweepTable(QTableView):
    """The view: sorted through a QSortFilterProxyModel on SORT_ROLE, rows selected whole."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.source = SweepTableModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.source)
        self.proxy.setSortRole(SORT_ROLE)
        self.proxy.setDynamicSortFilter(True)
        self.setModel(self.proxy)
        self.setSortingEnabled(True)
        self.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.verticalHeader().hide()
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COLUMNS.index("augmentation"), QHeaderView.ResizeMode.Stretch)

    def selected_row(self):
        """The selected trial's row (None when nothing is selected)."""
        chosen = self.selectionModel().selectedRows()
        if not chosen:
            return None
        return self.source.rows[self.proxy.mapToSource(chosen[0]).row()]
