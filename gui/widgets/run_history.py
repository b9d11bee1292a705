"""Earlier runs (engine.runs.list_runs), checkable to overlay their curves for comparison.

The list follows the runs folder: it is read again when a run starts or ends, when the
folder changes on disk (a run added or deleted elsewhere) and when the Config tab points at
another folder. Long names are shortened in the middle, where run names differ least (the
date at their end stays readable); the tooltip has the whole name.
"""
from __future__ import annotations

import os

from PySide6.QtCore import QT_TRANSLATE_NOOP, QFileSystemWatcher, Qt, QTimer, Signal
from PySide6.QtWidgets import (QLabel, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout,
                               QWidget)

from gui import format as fmt
from gui.errors import on_action
from gui.i18n import dynamic, translate

PATH_ROLE = Qt.ItemDataRole.UserRole
PROBLEM_ROLE = Qt.ItemDataRole.UserRole + 1  # why a damaged run cannot be opened ('' if fine)
# A run's status (an engine id) as the list shows it.
STATUS_TEXT = {
    "completed": QT_TRANSLATE_NOOP("RunHistory", "completed"),
    "stopped": QT_TRANSLATE_NOOP("RunHistory", "stopped"),
    "failed": QT_TRANSLATE_NOOP("RunHistory", "failed"),
    "interrupted": QT_TRANSLATE_NOOP("RunHistory", "interrupted"),
    "running": QT_TRANSLATE_NOOP("RunHistory", "running"),
}


class RunHistory(QWidget):
    comparison_toggled = Signal(str, bool)  # run_dir, shown
    open_requested = Signal(str)  # run_dir (double-click)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.root = ""
        self.current = ""  # the run being trained or just ended: not an earlier one
        self.title = QLabel(translate("RunHistory", "Earlier runs — tick to compare"))
        self.list = QListWidget()
        self.list.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        # no sideways scrolling: a long name is shortened in its middle instead of cut off
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setMinimumWidth(180)
        self.list.setToolTip(translate("RunHistory", "Tick a run to overlay its validation curves; "
                                       "double-click to open it."))
        self.problem = QLabel()  # the selected damaged run: what is wrong, what to do
        self.problem.setWordWrap(True)
        self.problem.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problem.setVisible(False)
        self.refresh_button = QPushButton(translate("RunHistory", "Refresh"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.problem)
        layout.addWidget(self.refresh_button)
        self.list.itemChanged.connect(self._on_list_item_changed)
        self.list.itemDoubleClicked.connect(on_action(
            self.list, self._on_list_item_double_clicked, translate("RunHistory", "Open a run")))
        self.list.currentItemChanged.connect(self._on_list_current_item_changed)
        self.refresh_button.clicked.connect(on_action(self.refresh_button, lambda: self.refresh()))
        # A folder changes in bursts (a run writes several files): read it once they settle.
        self._changed = QTimer(self, singleShot=True, interval=300)
        self._changed.timeout.connect(self._on_folder_settled)
        self.watcher = QFileSystemWatcher(self)
        self.watcher.directoryChanged.connect(lambda _path: self._changed.start())

    def set_current(self, run_dir: str) -> None:
        """The run the Training tab shows as its own (left out of the list); re-reads it."""
        self.current = run_dir
        self.refresh()

    def refresh(self, root: str | None = None, exclude: str | None = None) -> None:
        """Re-read the runs folder (`root`, else the last one); ticked runs stay ticked.
        `exclude`: the run shown as the current one, left out until another takes its place."""
        from engine.runs import list_runs

        if root is not None:
            self.root = root
        if exclude is not None:
            self.current = exclude
        self._watch()
        exclude = self.current
        ticked = set(self.checked())
        self.list.blockSignals(True)
        self.list.clear()
        for run in list_runs(self.root, damaged=True) if self.root else []:
            if run.path == exclude:
                continue
            self.list.addItem(_item(run, run.path in ticked))
        self.list.blockSignals(False)
        self._show_problem(self.list.currentItem())
        if not self.list.count():
            self.title.setText(translate("RunHistory", "Earlier runs appear here."))
        else:
            self.title.setText(translate("RunHistory", "Earlier runs — tick to compare"))

    def _watch(self) -> None:
        """Watch the runs folder (only it: a run's own files do not change the list)."""
        watched = self.watcher.directories()
        if watched and watched != [self.root]:
            self.watcher.removePaths(watched)
        if self.root and os.path.isdir(self.root) and self.root not in self.watcher.directories():
            self.watcher.addPath(self.root)

    def _on_folder_settled(self) -> None:
        try:
            self.refresh()
        except OSError:
            pass  # the folder is going away or not readable now; Refresh says why

    def checked(self) -> list[str]:
        return [self.list.item(i).data(PATH_ROLE) for i in range(self.list.count())
                if self.list.item(i).checkState() == Qt.CheckState.Checked]

    def set_checked(self, run_dir: str, checked: bool = True) -> bool:
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(PATH_ROLE) == run_dir and not item.data(PROBLEM_ROLE):
                item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
                return True
        return False

    def _show_problem(self, item: QListWidgetItem | None) -> None:
        problem = item.data(PROBLEM_ROLE) if item is not None else ""
        self.problem.setText(problem or "")
        self.problem.setVisible(bool(problem))

    def _on_list_current_item_changed(self, current, _previous) -> None:
        self._show_problem(current)

    def _on_list_item_double_clicked(self, item: QListWidgetItem) -> None:
        if item.data(PROBLEM_ROLE):
            self._show_problem(item)  # nothing to open: say why instead
        else:
            self.open_requested.emit(item.data(PATH_ROLE))

    def _on_list_item_changed(self, item: QListWidgetItem) -> None:
        self.comparison_toggled.emit(item.data(PATH_ROLE),
                                     item.checkState() == Qt.CheckState.Checked)


def _item(run, ticked: bool) -> QListWidgetItem:
    """A list row: name, status and best accuracy; ticking compares its curves. A damaged
    run reads "damaged", cannot be ticked, and carries its problem (tooltip and PROBLEM_ROLE)."""
    if run.problem:
        item = QListWidgetItem(translate("RunHistory", "{name}\ndamaged: cannot be opened").format(
            name=run.name))
        item.setData(PATH_ROLE, run.path)
        item.setData(PROBLEM_ROLE, run.problem)
        item.setToolTip(f"{run.name}\n{run.problem}")
        item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsUserCheckable)
        return item
    item = QListWidgetItem(dynamic(lambda: _run_text(run)))
    item.setData(PATH_ROLE, run.path)
    item.setData(PROBLEM_ROLE, "")
    item.setToolTip(translate("RunHistory", "{name}\n{path}\nmodel: {model}\nclasses: "
                              "{classes}").format(name=run.name, path=run.path,
                                                  model=run.model_ref,
                                                  classes=", ".join(run.class_names)))
    item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
    item.setCheckState(Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked)
    return item


def _run_text(run) -> str:
    """Name, then status and best validation accuracy, in the current language."""
    status = translate("RunHistory", STATUS_TEXT[run.status]) if run.status in STATUS_TEXT \
        else run.status
    if run.best_val_accuracy is None:
        return f"{run.name}\n{status}"
    return translate("RunHistory", "{name}\n{status} · val {accuracy}").format(
        name=run.name, status=status, accuracy=fmt.percent(run.best_val_accuracy))
