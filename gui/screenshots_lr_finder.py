"""The learning-rate finder screenshot (`lora-studio --screenshots DIR`): with the demo
dataset and model still set in the Config tab, "Find learning rate…" is clicked, and once
the curve and its suggestion are shown the finder's window is grabbed as 13-lr-finder."""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QTimer

SHOT_SIZE = (1040, 620)  # as wide as the other shots' minimum (tests/gui/test_app_cli.py)
SETTLE_MS = 400


class LRFinderShots:
    """Runs the finder from the Config tab; `grab(name, widget)` saves the shot, then `done()`."""

    def __init__(self, window, grab: Callable[..., None], done: Callable[[], None],
                 fail: Callable[[str], None]) -> None:
        self.window, self.grab, self.done, self.fail = window, grab, done, fail

    def start(self) -> None:
        tab = self.window.config_tab
        self.window.show_tab(tab)
        tab.finder_buttons["lr"].click()
        dialog = tab.lr_finder
        if dialog is None:
            self.fail(f"the learning-rate finder did not open: {tab.message.text()}")
            return
        dialog.resize(*SHOT_SIZE)
        dialog.work_ended.connect(lambda: QTimer.singleShot(SETTLE_MS, self._shoot))

    def _shoot(self) -> None:
        dialog = self.window.config_tab.lr_finder
        if dialog.result is None or dialog.result.suggested_lr is None:
            self.fail(f"the learning-rate finder suggested nothing: {dialog.status.text()}")
            return
        self.grab("13-lr-finder", dialog)
        dialog.close()
        self.done()
