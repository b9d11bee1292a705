"""Heat maps for the evaluation view's confusion-cell images, computed off the GUI thread.

The run's Predictor is loaded once per run in the worker and kept for the next cell;
overlays come back as QImages keyed by path."""
from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from gui.i18n import translate
from gui.scan_worker import FunctionThread, keep_alive

MAX_IMAGES = 48  # a cell's first images get heat maps; a click on another cell starts anew


class CellHeatMaps(QObject):
    ready = Signal(dict)  # path -> QImage
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._predictor = None
        self._run_dir = ""
        self._done: dict[str, object] = {}
        self._thread: FunctionThread | None = None

    def request(self, run_dir: str, paths: list[str]) -> None:
        if run_dir != self._run_dir:
            self._run_dir, self._predictor, self._done = run_dir, None, {}
        cached = {p: self._done[p] for p in paths if p in self._done}
        if cached:
            self.ready.emit(cached)
        wanted = [p for p in paths[:MAX_IMAGES] if p not in self._done]
        if not wanted:
            return
        if self._thread is not None:
            self._thread.cancel()

        def job(progress):
            from engine.use.explain import explain, overlay
            from engine.use.predict import Predictor
            from gui.prediction_worker import HEAT_SIZE
            from gui.widgets.thumbnails import pil_to_qimage

            if self._predictor is None:
                self._predictor = Predictor(run_dir)
            out = {}
            for i, path in enumerate(wanted):
                progress(i, len(wanted))
                for e in explain(self._predictor, [path]):
                    out[path] = pil_to_qimage(overlay(e, size=HEAT_SIZE))
            return out

        doing = translate("CellHeatMaps", "drawing heat maps")  # "… went wrong while {doing}"
        thread = self._thread = keep_alive(FunctionThread(job, doing, self))
        thread.succeeded.connect(self._on_done)
        thread.failed.connect(self.failed)
        thread.start()

    def _on_done(self, images: dict) -> None:
        self._done.update(images)
        self.ready.emit(images)

    def wait(self) -> None:
        if self._thread is not None:
            self._thread.cancel()
            self._thread.wait()
