"""Thumbnails decoded off the GUI thread, newest request first, with a small LRU cache.

Views ask `ThumbnailLoader.get(path)` whenever they paint an item: a cached pixmap comes
back at once; otherwise the path is queued and `None` is returned (paint a placeholder).
Because only visible items are painted, only visible images are ever decoded, which is
what keeps a 20,000-image class responsive. The queue is a stack (last requested =
what the user looks at now) capped in length, and `cancel_pending()` drops it when the
selection changes. Decoding uses engine.data.imageio.open_image, so EXIF rotation and broken
files behave exactly as in training.
"""
from __future__ import annotations

import threading
from collections import OrderedDict

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QImage, QPixmap

MAX_PENDING = 512  # older requests are dropped; a repaint asks again if still visible
CACHE_ENTRIES = 1500  # ~96x96x3 bytes each -> ~40 MB at most


def pil_to_qimage(image) -> QImage:
    """A PIL image as a QImage that owns its pixels (safe to pass between threads)."""
    rgb = image.convert("RGB")
    data = rgb.tobytes("raw", "RGB")
    qimage = QImage(data, rgb.width, rgb.height, 3 * rgb.width, QImage.Format.Format_RGB888)
    return qimage.copy()  # detach from `data`, which Python frees when we return


def decode_thumbnail(path: str, size: int) -> QImage:
    """Decode one image into a QImage no larger than size x size (raises ImageProblem)."""
    from engine.data.imageio import open_image

    # JPEGs decode at reduced scale (DCT scaling): a 12 MP photo costs ~1/30 of a full decode.
    image = open_image(path, draft_size=size)
    image.thumbnail((size, size))
    return pil_to_qimage(image)


class _Emitter(QObject):
    """Carries results from the decode thread; emits are queued to the GUI thread."""

    decoded = Signal(str, int, QImage)
    broken = Signal(str, int, str)


def _decode_loop(loader: "ThumbnailLoader", emitter: _Emitter) -> None:
    """Body of the decode thread: pop the newest request, decode, report, repeat."""
    while True:
        job = loader._next_job()
        if job is None:
            return
        path, size = job
        try:
            image = decode_thumbnail(path, size)
        except Exception as exc:  # noqa: BLE001 - broken files are shown, not fatal
            emitter.broken.emit(path, size, str(exc) or type(exc).__name__)
        else:
            emitter.decoded.emit(path, size, image)


class ThumbnailLoader(QObject):
    """Signals: ready(path) when a thumbnail (or a failure reason) becomes available."""

    ready = Signal(str)

    def __init__(self, size: int = 96, parent: QObject | None = None,
                 cache_entries: int = CACHE_ENTRIES) -> None:
        super().__init__(parent)
        self.size = size
        self._cache: OrderedDict[tuple[str, int], QPixmap] = OrderedDict()
        self._cache_entries = cache_entries
        self._failed: dict[str, str] = {}
        self._pending: OrderedDict[tuple[str, int], None] = OrderedDict()  # end = newest
        self._cond = threading.Condition()
        self._stopping = False
        self.decoded_count = 0  # how many images were actually decoded (tests, stats)
        self._in_flight: set[tuple[str, int]] = set()
        self._emitter = _Emitter()
        self._emitter.decoded.connect(self._on_decoded)
        self._emitter.broken.connect(self._on_broken)
        # A daemon thread: an idle loader never holds up quitting the app.
        self._thread = threading.Thread(target=_decode_loop, args=(self, self._emitter),
                                        name="thumbnails", daemon=True)
        self._thread.start()

    # -- GUI-thread API -------------------------------------------------------------
    def get(self, path: str) -> QPixmap | None:
        """The cached thumbnail, or None after queueing it (ready(path) follows)."""
        key = (path, self.size)
        pixmap = self._cache.get(key)
        if pixmap is not None:
            self._cache.move_to_end(key)
            return pixmap
        if path not in self._failed:
            self._request(key)
        return None

    def failure(self, path: str) -> str | None:
        """Why `path` could not be shown, or None if it has not failed."""
        return self._failed.get(path)

    def pending_count(self) -> int:
        """Requests not delivered yet (queued or being decoded); 0 = everything visible shown."""
        with self._cond:
            return len(self._pending) + len(self._in_flight)

    def cancel_pending(self) -> None:
        """Forget queued requests (the view changed); the current decode still finishes."""
        with self._cond:
            self._pending.clear()

    def shutdown(self) -> None:
        with self._cond:
            self._stopping = True
            self._pending.clear()
            self._cond.notify_all()
        self._thread.join(5)

    # -- internals ------------------------------------------------------------------
    def _request(self, key: tuple[str, int]) -> None:
        with self._cond:
            if key in self._in_flight:
                return
            self._pending[key] = None
            self._pending.move_to_end(key)
            while len(self._pending) > MAX_PENDING:
                self._pending.popitem(last=False)
            self._cond.notify()

    def _next_job(self) -> tuple[str, int] | None:  # called from the decode thread
        with self._cond:
            while not self._pending and not self._stopping:
                self._cond.wait()
            if self._stopping:
                return None
            key, _ = self._pending.popitem(last=True)
            self._in_flight.add(key)
            return key

    def _done(self, key: tuple[str, int]) -> None:
        with self._cond:
            self._in_flight.discard(key)

    @Slot(str, int, QImage)
    def _on_decoded(self, path: str, size: int, image: QImage) -> None:
        self._done((path, size))
        self.decoded_count += 1
        self._cache[(path, size)] = QPixmap.fromImage(image)
        while len(self._cache) > self._cache_entries:
            self._cache.popitem(last=False)
        self.ready.emit(path)

    @Slot(str, int, str)
    def _on_broken(self, path: str, size: int, reason: str) -> None:
        self._done((path, size))
        self._failed[path] = reason
        self.ready.emit(path)
