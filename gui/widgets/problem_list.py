"""ProblemList: everything a scan found wrong, one row per file (path + plain reason).

A one-line summary is always visible; the table opens on demand (and by itself when a
problem blocks training). "Copy list" puts tab-separated text on the clipboard so a user
can paste it into a spreadsheet or an email to whoever owns the data.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QApplication, QHBoxLayout, QHeaderView,
                               QLabel, QPushButton, QStyle, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from gui.engine_texts import engine_again
from gui.errors import on_action
from gui.i18n import dynamic, translate

MAX_ROWS = 5000  # beyond this the table is useless to read; Copy still has them all


@dataclass(frozen=True)
class ProblemRow:
    path: str
    reason: str
    severity: str  # "error" blocks training, "warning" was skipped or is worth a look


def summarize(rows: list[ProblemRow]) -> str:
    """'3 problems: 1 must be fixed before training · 2 skipped or worth a look'."""
    if not rows:
        return translate("ProblemList", "No problems found.")
    errors = sum(r.severity == "error" for r in rows)
    warnings = len(rows) - errors

    def make() -> str:
        parts = []
        if errors:
            parts.append(translate("ProblemList", "{count} must be fixed before training").format(
                count=errors))
        if warnings:
            parts.append(translate("ProblemList", "{count} skipped or worth a look").format(
                count=warnings))
        details, count = " · ".join(parts), f"{len(rows):,}"
        if len(rows) == 1:
            return translate("ProblemList", "{count} problem: {details}").format(
                count=count, details=details)
        return translate("ProblemList", "{count} problems: {details}").format(
            count=count, details=details)

    return dynamic(make)


def as_text(rows: list[ProblemRow]) -> str:
    """Tab-separated lines (severity, path, reason) with a header, for the clipboard."""
    lines = ["severity\tpath\treason"]
    lines += [f"{r.severity}\t{r.path}\t{r.reason}" for r in rows]
    return "\n".join(lines) + "\n"


class ProblemList(QWidget):
    """Signal `expanded_changed(bool)` when the details table opens or closes."""

    expanded_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[ProblemRow] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        bar = QHBoxLayout()
        bar.setSpacing(8)
        self.icon = QLabel()
        self.summary = QLabel(translate("ProblemList", "No problems found."))
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.copy_button = QPushButton(translate("ProblemList", "Copy list"))
        self.copy_button.setToolTip(translate("ProblemList", "Copy every problem (severity, path, "
                                              "reason) as text"))
        self.copy_button.clicked.connect(on_action(self.copy_button, self.copy_to_clipboard))
        self.details_button = QPushButton(translate("ProblemList", "Show details"))
        self.details_button.setCheckable(True)
        self.details_button.toggled.connect(on_action(self.details_button, self.set_expanded))
        bar.addWidget(self.icon)
        bar.addWidget(self.summary, 1)
        bar.addWidget(self.copy_button)
        bar.addWidget(self.details_button)
        layout.addLayout(bar)
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels([translate("ProblemList", "File"),
                                              translate("ProblemList", "What is wrong")])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.resizeSection(0, 360)
        self.table.setVisible(False)
        layout.addWidget(self.table, 1)
        self.set_problems([])

    def rows(self) -> list[ProblemRow]:
        return list(self._rows)

    def set_problems(self, rows: list[ProblemRow]) -> None:
        # Blocking problems first: they are what the user has to act on.
        self._rows = sorted(rows, key=lambda r: (r.severity != "error", r.path))
        self.summary.setText(summarize(self._rows))
        style = self.style()
        blocking = any(r.severity == "error" for r in rows)
        icon = (QStyle.StandardPixmap.SP_MessageBoxCritical if blocking
                else QStyle.StandardPixmap.SP_MessageBoxWarning if rows
                else QStyle.StandardPixmap.SP_DialogApplyButton)
        self.icon.setPixmap(style.standardIcon(icon).pixmap(16, 16))
        self.copy_button.setEnabled(bool(rows))
        self.details_button.setEnabled(bool(rows))
        self._fill_table(style)
        if not rows:
            self.details_button.setChecked(False)
        elif blocking:
            self.details_button.setChecked(True)

    def set_expanded(self, on: bool) -> None:
        on = on and bool(self._rows)
        self.table.setVisible(on)
        self.details_button.setText(translate("ProblemList", "Hide details") if on
                                    else translate("ProblemList", "Show details"))
        if self.details_button.isChecked() != on:
            self.details_button.setChecked(on)
        self.expanded_changed.emit(on)

    def retranslate(self) -> None:
        """The reasons (engine texts) and the "… and N more" row: table items are not re-made
        by the language switch."""
        for row, problem in enumerate(self._rows[:MAX_ROWS]):
            item = self.table.item(row, 1)
            if item is not None:
                reason = engine_again(problem.reason)
                item.setText(reason)
                item.setToolTip(reason)
        more = self.table.item(MAX_ROWS, 0) if len(self._rows) > MAX_ROWS else None
        if more is not None:
            more.setText(self._more_text())

    def _more_text(self) -> str:
        return translate("ProblemList", "… and {count} more (Copy list has them all)").format(
            count=f"{len(self._rows) - MAX_ROWS:,}")

    def copy_to_clipboard(self) -> None:
        QApplication.clipboard().setText(as_text(self._rows))

    def _fill_table(self, style: QStyle) -> None:
        shown = self._rows[:MAX_ROWS]
        self.table.setRowCount(len(shown))
        error_icon = style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical)
        warning_icon = style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        for row, problem in enumerate(shown):
            path_item = QTableWidgetItem(problem.path)
            path_item.setIcon(error_icon if problem.severity == "error" else warning_icon)
            path_item.setToolTip(problem.path)
            reason_item = QTableWidgetItem(problem.reason)
            reason_item.setToolTip(problem.reason)
            self.table.setItem(row, 0, path_item)
            self.table.setItem(row, 1, reason_item)
        if len(self._rows) > MAX_ROWS:
            self.table.setRowCount(MAX_ROWS + 1)
            more = QTableWidgetItem(self._more_text())
            self.table.setItem(MAX_ROWS, 0, more)
