"""The live-video screenshot (`lora-studio --screenshots DIR`): a short clip made from the
demo dataset's images (a few seconds per class, in a temporary folder) plays in the
Prediction tab's live page with the demo run; mid-play, with the bars and the frames/s
readout up, the window is grabbed as 12-live-video."""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QTimer

CLIP_SIZE = (480, 360)
SECONDS_PER_IMAGE = 1.0
FPS = 15


def write_clip(images: list[str], path: Path, size=CLIP_SIZE) -> Path:
    """A video showing each image for SECONDS_PER_IMAGE, letterboxed to `size`."""
    import av
    from PIL import Image, ImageOps

    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=FPS)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        n = 0
        for image_path in images:
            with Image.open(image_path) as image:
                picture = ImageOps.pad(image.convert("RGB"), size, color=(24, 24, 24))
            for _ in range(int(SECONDS_PER_IMAGE * FPS)):
                frame = av.VideoFrame.from_image(picture)
                frame.pts = n
                n += 1
                container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


class LiveShots:
    """Plays the clip in the live page; `grab(name)` saves a shot, then `done()`."""

    def __init__(self, window, grab: Callable[[str], None], done: Callable[[], None],
                 fail: Callable[[str], None]) -> None:
        self.window, self.grab, self.done, self.fail = window, grab, done, fail
        self.folder = tempfile.TemporaryDirectory(prefix="lora-studio-clip-")
        self._results = 0

    def start(self) -> None:
        index = self.window.dataset_tab.index
        if index is None:
            self.fail("the demo dataset is not open")
            return
        by_class: dict[int, list[str]] = {}
        for sample in sorted(index.samples, key=lambda s: s.path):
            by_class.setdefault(sample.label, []).append(sample.path)
        images = [paths[i] for i in range(2) for paths in by_class.values() if len(paths) > i]
        clip = write_clip(images, Path(self.folder.name) / "shelf-camera.mp4")
        tab = self.window.prediction_tab
        self.window.show_tab(tab)
        tab.live.result_shown.connect(self._on_result)
        tab.live.open_video(str(clip))
        if not tab.live.running:
            self.fail(f"the clip did not play: {tab.message.text()}")

    def _on_result(self, _result) -> None:
        self._results += 1
        if self._results == 1:  # let the frames/s readout settle over a second of play
            QTimer.singleShot(1500, self._shoot)

    def _shoot(self) -> None:
        self.grab("12-live-video")
        live = self.window.prediction_tab.live
        live.result_shown.disconnect(self._on_result)
        live.back()
        self.folder.cleanup()
        self.done()
