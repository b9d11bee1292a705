"""The sweep screenshot (`lora-studio --screenshots DIR`): with the demo dataset and model still
set in the Config tab, Run > Sweep… runs a real 4-trial sweep; once it has ended, the table
is sorted by validation accuracy and the dialog is grabbed as 14-sweep."""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt, QTimer

SHOT_SIZE = (1100, 560)
SETTLE_MS = 400
TRIALS = 4


class SweepShots:
    """Runs the sweep from the window; `grab(name, widget)` saves the shot, then `done()`."""

    def __init__(self, window, grab: Callable[..., None], done: Callable[[], None],
                 fail: Callable[[str], None]) -> None:
        self.window, self.grab, self.done, self.fail = window, grab, done, fail

    def start(self) -> None:
        self.window.open_sweep()
        dialog = self.window.sweep_dialog
        dialog.resize(*SHOT_SIZE)
        dialog.trials.setValue(TRIALS)
        dialog.budget.setValue(0)
        dialog.start_button.click()
        if not dialog.is_running():
            self.fail(f"the sweep did not start: {dialog.status.text()}")
            return
        dialog.worker.thread_.finished.connect(lambda: QTimer.singleShot(SETTLE_MS, self._shoot))

    def _shoot(self) -> None:
        dialog = self.window.sweep_dialog
        if dialog.table.source.best() is None:
            self.fail(f"the sweep completed no trial: {dialog.status.text()}")
            return
        dialog.table.sortByColumn(2, Qt.SortOrder.DescendingOrder)  # best first
        self.grab("14-sweep", dialog)
        dialog.close()
        self.done()
