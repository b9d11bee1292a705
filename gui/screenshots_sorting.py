"""The screenshots of the sorting view and the map (`lora-studio --screenshots DIR`): the
demo dataset's images copied, flattened under camera-like names, into a temporary
"unsorted" folder; the demo run just trained proposes their classes (the demo model's
untrained base would only guess), a few are confirmed from the "Ask me" order, and the
view is grabbed as 10-sorting; then the sorting's Map shows the same images as dots,
coloured by class, with one class selected (11-map).

A session file is written first, the way the class-names dialog would leave it, so no
dialog waits for an answer.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QTimer

SETTLE_MS = 800


class SortingShots:
    """Drives the Dataset tab through the sorting view and its map; `grab(name)` saves a
    shot, `done()` is called after the last one, `fail(message)` on any failure."""

    def __init__(self, window, run_dir: str, grab: Callable[[str], None],
                 done: Callable[[], None], fail: Callable[[str], None]) -> None:
        self.window, self.run_dir = window, run_dir
        self.grab, self.done, self.fail = grab, done, fail
        self.folder = tempfile.TemporaryDirectory(prefix="lora-studio-unsorted-")

    def start(self) -> None:
        from engine.review.sorting_session import SortingSession, write_session

        tab = self.window.dataset_tab
        index = tab.index
        if index is None:
            self.fail("the demo dataset is not open")
            return
        folder = Path(self.folder.name) / "phone photos"
        folder.mkdir()
        for n, sample in enumerate(sorted(index.samples, key=lambda s: s.path)):
            shutil.copy(sample.path, folder / f"IMG_{(n * 37) % 9973:04d}.jpg")
        self.classes = [c.display_name for c in index.classes]
        write_session(SortingSession(folder=str(folder.resolve()), classes=self.classes,
                                     model=tab.model_for_checks(), run=self.run_dir))
        self.window.show_tab(tab)
        view = tab.sorting
        view.flow.ready.connect(lambda _: QTimer.singleShot(SETTLE_MS, self._confirm))
        view.flow.message.connect(lambda text: str(text).startswith("⚠") and self.fail(
            str(text)))
        view.open(str(folder))

    def _confirm(self) -> None:
        """Accept the first proposals of the "Ask me" order, then show the first class."""
        from engine.review.decisions import Decision

        view = self.window.dataset_tab.sorting
        page = view.page
        if page.result is None or getattr(self, "_confirmed", False):
            return
        self._confirmed = True
        r = page.result
        page.apply_decisions([Decision(r.paths[i], "relabel", self.classes[int(r.best[i])])
                              for i in r.ask[:6]])
        page.groups.setCurrentRow(0)
        if page.model.rowCount() > 1:
            page.grid.setCurrentIndex(page.model.index(1))
        self.window.grab()  # the first paint asks for the thumbnails
        QTimer.singleShot(SETTLE_MS, self._shoot_sorting)

    def _shoot_sorting(self) -> None:
        self.grab("10-sorting")
        tab = self.window.dataset_tab
        tab.map_flow.layout_ready.connect(self._on_layout)
        tab.sorting.map_button.click()

    def _on_layout(self, _xy, final: bool) -> None:
        if not final or getattr(self, "_mapped", False):
            return
        self._mapped = True
        import numpy as np

        page = self.window.dataset_tab.map_page
        codes = page.base_codes
        page.map.set_selection(codes == (np.bincount(codes[codes >= 0]).argmax()))
        page.map.fit()
        self.window.grab()
        QTimer.singleShot(SETTLE_MS, self._shoot_map)

    def _shoot_map(self) -> None:
        self.grab("11-map")
        self.window.dataset_tab.map_page.back_button.click()
        self.folder.cleanup()
        self.done()
