"""A generated demo video: solid-colour segments that change at known times.

The tests, the bench's "video" section and the packaged app's self-test decode this clip, so
they need no video file of their own; its colours are the demo classes' colours, so a run
trained on the demo dataset names the segments.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

from engine.demo.dataset import DEMO_CLASSES

# (seconds, RGB) per segment: red circle's red, then green square's, then blue triangle's
DEMO_SEGMENTS = tuple((1.0, rgb) for _name, rgb, _shape in DEMO_CLASSES[:3])


def make_demo_video(path: str | os.PathLike, segments: Sequence[tuple[float, tuple]] =
                    DEMO_SEGMENTS, *, fps: int = 10, size: tuple[int, int] = (64, 64),
                    codec: str = "mpeg4", noise: int = 0, seed: int = 0) -> Path:
    """Write a video of `segments` ((seconds, (r, g, b)) each) at `fps` frames per second.

    Frame n shows the segment that holds time n / fps. `noise` adds +-noise grey levels per
    pixel (a moving picture that costs the encoder and decoder what a camera's does)."""
    import av
    import numpy as np

    path = Path(path)
    width, height = size
    rng = np.random.default_rng(seed)
    ends, total = [], 0.0
    for seconds, _rgb in segments:
        total += seconds
        ends.append(total)
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
        count = int(round(total * fps))
        for n in range(count):
            time = n / fps
            rgb = next((c for (_s, c), end in zip(segments, ends) if time < end - 1e-9),
                       segments[-1][1])
            pixels = np.empty((height, width, 3), np.int16)
            pixels[:] = rgb
            if noise:
                pixels += rng.integers(-noise, noise + 1, pixels.shape, dtype=np.int16)
            frame = av.VideoFrame.from_ndarray(pixels.clip(0, 255).astype(np.uint8), "rgb24")
            frame.pts = n
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path
