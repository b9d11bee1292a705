"""The camera source of the live page: Qt Multimedia's QCamera -> QMediaCaptureSession ->
QVideoSink, each frame converted to a QImage and handed to `feed`.

Qt Multimedia is imported only here, when the user first picks "Camera" (about 10-20 ms
and its FFmpeg plugin), so the window starts as fast as before. `feed` is the one door
into the live pipeline: the sink's frames go through it, and so do the tests' frames.
"""
from __future__ import annotations

import sys
import time
from typing import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from gui.i18n import translate
from gui.live_worker import LiveFrame

MAX_SIDE = 960  # frames larger than this are scaled down once, before display and model


def multimedia():
    """The QtMultimedia module, or a plain reason why it cannot be used (a str)."""
    try:
        from PySide6 import QtMultimedia
    except ImportError as exc:  # e.g. a Linux without libpulse
        return translate("LiveCamera", "Camera support could not be loaded ({error}). Install "
                         "the system's audio and video libraries (on Linux: PulseAudio's "
                         "libpulse0), or choose a video file instead.").format(error=exc)
    return QtMultimedia


def cameras() -> list[tuple[str, bytes]]:
    """(description, id) of each camera; [] when there is none (or no camera support)."""
    mm = multimedia()
    if isinstance(mm, str):
        return []
    return [(d.description(), bytes(d.id().data())) for d in mm.QMediaDevices.videoInputs()]


def no_camera_text() -> str:
    return translate("LiveCamera", "No camera found. Connect a camera (and check that no other "
                     "app holds it), then choose Camera again; or choose a video file.")


def permission_problem(on_granted: Callable[[], None]) -> str:
    """"" when the camera may be used; else why not. Only macOS (and iOS) ask: the first
    time, the system's question is shown and `on_granted` runs once it is allowed."""
    if sys.platform != "darwin":
        return ""
    from PySide6.QtCore import QCameraPermission, QCoreApplication, Qt

    app = QCoreApplication.instance()
    permission = QCameraPermission()
    status = app.checkPermission(permission)
    if status == Qt.PermissionStatus.Granted:
        return ""
    if status == Qt.PermissionStatus.Undetermined:
        app.requestPermission(permission, lambda p: p.status() == Qt.PermissionStatus.Granted
                              and on_granted())
        return translate("LiveCamera", "macOS asks whether LoRA Studio may use the camera: "
                         "allow it, and the camera starts.")
    return translate("LiveCamera", "macOS does not let LoRA Studio use the camera. Allow it in "
                     "System Settings › Privacy & Security › Camera, then press Start again.")


class CameraSource(QObject):
    """One camera running. Signals: frame(LiveFrame) for each frame fed (GUI thread),
    failed(str) with a plain message (camera in use, unplugged, ...)."""

    frame = Signal(object)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._camera = self._session = self._sink = None
        self._start = time.perf_counter()
        self._count = 0
        self.name = ""

    @property
    def active(self) -> bool:
        return self._camera is not None

    def start(self, camera_id: bytes) -> str:
        """Start the camera with this id; "" when it started, else a plain message."""
        mm = multimedia()
        if isinstance(mm, str):
            return mm
        devices = {bytes(d.id().data()): d for d in mm.QMediaDevices.videoInputs()}
        device = devices.get(camera_id) or next(iter(devices.values()), None)
        if device is None:
            return no_camera_text()
        self.stop()
        self.name = device.description()
        self._camera = mm.QCamera(device)
        self._session = mm.QMediaCaptureSession()
        self._sink = mm.QVideoSink()
        self._session.setCamera(self._camera)
        self._session.setVideoSink(self._sink)
        self._sink.videoFrameChanged.connect(self.on_video_frame)
        self._camera.errorOccurred.connect(self._on_error)
        self._start, self._count = time.perf_counter(), 0
        self._camera.start()
        return ""

    def stop(self) -> None:
        if self._camera is not None:
            self._camera.stop()
            self._session.setVideoSink(None)
            self._camera.deleteLater()
            self._sink.deleteLater()
            self._session.deleteLater()
        self._camera = self._session = self._sink = None

    def on_video_frame(self, video_frame) -> None:
        """QVideoSink.videoFrameChanged: the frame as a QImage, into `feed`."""
        if video_frame.isValid():
            self.feed(video_frame.toImage())

    def feed(self, image: QImage) -> None:
        """One camera frame (GUI thread): scaled to MAX_SIDE at most, then emitted."""
        if image.isNull():
            return
        if max(image.width(), image.height()) > MAX_SIDE:
            from PySide6.QtCore import Qt

            image = image.scaled(MAX_SIDE, MAX_SIDE, Qt.AspectRatioMode.KeepAspectRatio,
                                 Qt.TransformationMode.FastTransformation)
        image = image.convertToFormat(QImage.Format.Format_RGB888)
        self._count += 1
        self.frame.emit(LiveFrame(self._count - 1, time.perf_counter() - self._start, image,
                                  image))

    def _on_error(self, _error, text: str) -> None:
        name = self.name
        self.stop()
        self.failed.emit(translate(
            "LiveCamera", "The camera “{name}” stopped with an error: {error}. It may be in "
            "use by another app, or unplugged: close the other app or reconnect the camera, "
            "then press Start again.").format(name=name, error=text))
