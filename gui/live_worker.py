"""Live prediction off the GUI thread: a one-slot mailbox, the thread that classifies what
it holds, and the thread that decodes a video file at the video's own pace.

A camera delivers 30 frames/s, a CPU classifies perhaps 10: a queue would fall further
behind every second. So the mailbox holds ONE frame: a frame arriving while another is
waiting replaces it (the waiting one is dropped and counted) and the classifier always
takes the newest. Showing a frame never waits for its prediction: each source also
leaves its newest frame in a `Latest` slot, which the page paints on a timer.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

from PySide6.QtCore import QThread, Signal
from PySide6.QtGui import QImage

from gui.i18n import translate
from gui.scan_worker import describe_error
from gui.widgets.thumbnails import pil_to_qimage


@dataclass
class LiveFrame:
    index: int  # frame number in its source
    time: float  # seconds into the video (or since the camera started)
    image: object  # what the classifier reads: a PIL image or a QImage
    shown: QImage  # what the page paints


@dataclass
class LiveResult:
    frame: LiveFrame
    prediction: object  # engine.use.predict.Prediction
    seconds: float  # how long the model took


def qimage_to_pil(image: QImage):
    """A QImage as a PIL RGB image (a copy: safe to keep after the QImage goes)."""
    from PIL import Image

    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    data = bytes(rgb.constBits())
    return Image.frombuffer("RGB", (rgb.width(), rgb.height()), data, "raw", "RGB",
                            rgb.bytesPerLine(), 1).copy()


class Mailbox:
    """One waiting frame at most; put() replaces it, take() waits for one."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item: LiveFrame | None = None
        self._closed = False
        self.offered = 0  # frames put in
        self.dropped = 0  # frames replaced before the classifier took them

    def put(self, item: LiveFrame) -> None:
        with self._cond:
            if self._closed:
                return
            self.offered += 1
            if self._item is not None:
                self.dropped += 1
            self._item = item
            self._cond.notify()

    def waiting(self) -> int:
        """How many frames wait to be classified: 0 or 1, never more."""
        return 0 if self._item is None else 1

    def take(self, timeout: float) -> LiveFrame | None:
        with self._cond:
            if self._item is None and not self._closed:
                self._cond.wait(timeout)
            item, self._item = self._item, None
            return item

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._item = None
            self._cond.notify_all()


class Latest:
    """The newest frame to show, and a serial number that tells the page when it changed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.frame: LiveFrame | None = None
        self.serial = 0

    def set(self, frame: LiveFrame) -> None:
        with self._lock:
            self.frame, self.serial = frame, self.serial + 1

    def get(self) -> tuple[int, LiveFrame | None]:
        with self._lock:
            return self.serial, self.frame


class Rate:
    """Events per second over the last `window` seconds."""

    def __init__(self, window: float = 2.0) -> None:
        self.window = window
        self._times: deque[float] = deque()

    def tick(self, now: float | None = None) -> None:
        self._times.append(time.perf_counter() if now is None else now)

    def per_second(self, now: float | None = None) -> float:
        now = time.perf_counter() if now is None else now
        while self._times and self._times[0] < now - self.window:
            self._times.popleft()
        if len(self._times) < 2:
            return 0.0
        return (len(self._times) - 1) / max(1e-6, self._times[-1] - self._times[0])


class ClassifierThread(QThread):
    """Takes the newest frame from the mailbox, classifies it, emits the result; again."""

    classified = Signal(object)  # LiveResult
    failed = Signal(str)

    def __init__(self, mailbox: Mailbox, predictor, top_k: int = 5,
                 lock: threading.Lock | None = None) -> None:
        super().__init__()
        self.setObjectName("live-classifier")
        self.mailbox, self.predictor, self.top_k = mailbox, predictor, top_k
        self.lock = lock or threading.Lock()  # shared with whoever else uses the predictor
        self.count = 0  # frames classified
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()
        self.mailbox.close()

    def run(self) -> None:
        while not self._stop.is_set():
            frame = self.mailbox.take(0.1)
            if frame is None:
                continue
            try:
                image = frame.image
                if isinstance(image, QImage):
                    image = qimage_to_pil(image)
                with self.lock:
                    start = time.perf_counter()
                    prediction = self.predictor.predict([image], top_k=self.top_k,
                                                        batch_size=1)[0]
                    seconds = time.perf_counter() - start
            except BaseException as exc:  # noqa: BLE001 - shown to the user
                self.failed.emit(describe_error(exc, translate("LiveWorker",
                                                               "classifying a frame")))
                return
            self.count += 1
            self.classified.emit(LiveResult(frame, prediction, seconds))


class VideoThread(QThread):
    """Decodes a video file (engine.use.video) from `start` seconds, paced to real time:
    each frame is shown when its time comes, frames already late are skipped (decoded,
    not shown). Every frame shown also goes to the mailbox."""

    ended = Signal()
    failed = Signal(str)

    def __init__(self, path: str, start: float, mailbox: Mailbox, latest: Latest) -> None:
        super().__init__()
        self.setObjectName("live-video")
        self.path, self.start_at = path, max(0.0, start)
        self.mailbox, self.latest = mailbox, latest
        self.decoded = 0  # frames decoded
        self.shown = 0  # of them, shown and offered to the classifier
        self._stop = threading.Event()
        self._playing = threading.Event()
        self._playing.set()

    def stop(self) -> None:
        self._stop.set()
        self._playing.set()  # a paused thread wakes up to end

    def pause(self, paused: bool) -> None:
        (self._playing.clear if paused else self._playing.set)()

    @property
    def paused(self) -> bool:
        return not self._playing.is_set()

    def run(self) -> None:
        try:
            if self._play():
                self.ended.emit()
        except BaseException as exc:  # noqa: BLE001 - shown to the user
            self.failed.emit(describe_error(exc, translate("LiveWorker", "playing {path}")
                                            .format(path=self.path)))

    def _play(self) -> bool:
        """True at the end of the video, False when stopped."""
        from engine.use.video import open_video

        with open_video(self.path) as reader:
            period = 1.0 / reader.fps if reader.fps and reader.fps > 0 else 1 / 25
            clock = time.perf_counter() - self.start_at  # clock + frame.time = when it is due
            last_shown = 0.0
            for frame in reader.frames(start=self.start_at):
                if not self._playing.is_set():
                    paused_at = time.perf_counter()
                    self._playing.wait()
                    clock += time.perf_counter() - paused_at
                if self._stop.is_set():
                    return False
                self.decoded += 1
                now = time.perf_counter()
                due = clock + frame.time
                # Late by a frame or more: skip it, but show one at least every 0.1 s so a
                # decoder slower than real time still moves the picture.
                if now > due + period and now - last_shown < 0.1:
                    continue
                if due > now and self._stop.wait(due - now):
                    return False
                last_shown = time.perf_counter()
                live = LiveFrame(frame.index, frame.time, frame.image, pil_to_qimage(frame.image))
                self.shown += 1
                self.latest.set(live)
                self.mailbox.put(live)
        return not self._stop.is_set()
