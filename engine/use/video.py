"""Video files -> timestamped RGB frames, for `predict` on a video and the GUI's video source.

The decoder is PyAV (FFmpeg's libraries as a Python package). Why not Qt Multimedia: the
engine never imports Qt, so the command line cannot use it; PyAV decodes headless and
deterministically (the same frames and timestamps on every run and machine), and the same
reader serves the Prediction tab's "Video file…" source, so the window and the command line
see the same frames.

Times come from each frame's presentation timestamp and the stream's time base (counted
from the stream's first timestamp), not from frame counts, so variable frame rate videos
sample at the right moments. Frames come upright: a phone stores a portrait video's pictures
sideways with a rotation in its display matrix, which the reader applies (as video players
do), so the classifier sees what the user saw. A frame that fails to decode in the middle
of a stream is skipped and counted (`VideoReader.skipped`); a file that cannot be opened at
all raises a UserError with a plain message.
"""
from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

from PIL import Image

from engine.errors import UserError
from engine.i18n import _

VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg",
                            ".wmv", ".flv", ".ts", ".mts", ".m2ts", ".3gp", ".ogv"})
DEFAULT_EVERY = 1.0  # seconds between classified frames when the user names no interval
_EPSILON = 1e-6  # timestamps are rationals; a frame at 0.4999999 s counts as at 0.5 s
_UNITS = {"": 1.0, "s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0, "seconds": 1.0,
          "ms": 0.001, "min": 60.0}


def is_video(path: str | os.PathLike) -> bool:
    """Whether `path` is named like a video file (by its suffix; the file is not read)."""
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def parse_every(text: str | float) -> float:
    """"0.5s", "0.5", "500ms", "2 fps", "1min" -> seconds between sampled frames (> 0)."""
    raw = str(text).strip().lower()
    match = re.fullmatch(r"([0-9]*\.?[0-9]+(?:e[-+]?[0-9]+)?)\s*([a-z]*)", raw)
    if match and (match.group(2) in _UNITS or match.group(2) == "fps"):
        value = float(match.group(1))
        if match.group(2) == "fps":
            value = 1.0 / value if value > 0 else 0.0
        else:
            value *= _UNITS[match.group(2)]
        if math.isfinite(value) and value > 0:
            return value
    raise UserError(_("'{text}' is not a time between frames: write a positive number of "
                      "seconds such as 0.5s, milliseconds such as 500ms, or frames per second "
                      "such as 2fps.").format(text=text))


@dataclass(frozen=True)
class VideoFrame:
    index: int  # the frame's number in the stream, 0 first (after a seek: time x fps)
    time: float  # seconds from the start of the video
    image: Image.Image  # RGB


def open_video(path: str | os.PathLike) -> "VideoReader":
    """Open a video file for reading its frames; a plain UserError when it cannot be."""
    import av

    path = Path(path).expanduser()
    name = path.name
    if not path.is_file():
        if path.is_dir():
            raise UserError(_("'{path}' is a folder, not a video file.").format(path=path))
        raise UserError(_("Video file not found: '{path}' (moved or deleted?).").format(path=path))
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except av.error.PermissionError:
        raise UserError(_("Cannot read '{name}': permission denied.").format(name=name)) from None
    except (av.error.FFmpegError, OSError, ValueError):
        raise UserError(_("'{name}' is not a video this app can read: it is damaged, or not a "
                          "video at all. Open it in a video player to check, or convert it "
                          "to MP4.").format(name=name)) from None
    if not container.streams.video:
        container.close()
        raise UserError(_("'{name}' holds no video picture: it may be a sound file, or an "
                          "incomplete or damaged video (an unfinished download or copy?).")
                        .format(name=name))
    return VideoReader(path, container)


class VideoReader:
    """One open video file (see open_video). Use as a context manager, or call close()."""

    def __init__(self, path: Path, container):
        self.path = path
        self._container = container
        self._stream = stream = container.streams.video[0]
        # frame and slice threads: FFmpeg decodes on threads of its own (as many as the
        # CPU has cores), so decoding keeps up with a worker thread classifying frames
        stream.thread_type = "AUTO"
        self.skipped = 0  # frames of the last frames() pass that failed to decode
        self._time_base = stream.time_base or Fraction(1, 1_000_000)
        self._origin = stream.start_time or 0
        rate = stream.average_rate or stream.guessed_rate
        self.fps = float(rate) if rate else 0.0
        self.width = int(stream.codec_context.width or 0)
        self.height = int(stream.codec_context.height or 0)
        if stream.duration:
            self.duration = float(stream.duration * self._time_base)
        elif container.duration:
            self.duration = container.duration / 1_000_000  # AV_TIME_BASE: microseconds
        else:
            self.duration = 0.0
        self.frame_count = int(stream.frames or 0) or (
            int(round(self.duration * self.fps)) if self.duration and self.fps else 0)
        self._started = False

    def __enter__(self) -> "VideoReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._container.close()

    def __repr__(self) -> str:
        return (f"VideoReader({str(self.path)!r}, {self.width}x{self.height}, "
                f"{self.fps:.3g} fps, {self.duration:.3f} s)")

    def frames(self, every: float | None = None, start: float = 0.0) -> Iterator[VideoFrame]:
        """The frames from `start` seconds on, in order. `every=None`: each one; `every=0.5`:
        the first frame at or after each multiple of 0.5 s (one frame per multiple at most:
        where no frame falls between two multiples, the later is sampled by the next frame).
        `skipped` counts the frames of this pass that failed to decode. Iterate and close()
        on one thread (a worker may own the reader; it stops by leaving the loop)."""
        if every is not None and not every > 0:
            raise UserError(_("The time between frames must be more than 0 seconds."))
        start = max(0.0, float(start))
        mark = math.ceil(start / every - _EPSILON) * every if every else start
        seeked = start > 0 or self._started
        if seeked:
            self._seek(start)
        self._started = True
        self.skipped = 0
        counted = 0
        last_time = -1.0
        for frame in self._decoded():
            counted += 1
            if frame is None:  # a frame that failed to decode: it still had its number
                continue
            time = self._time(frame, last_time)
            index = int(round(time * self.fps)) if seeked and self.fps else counted - 1
            last_time = time
            if time < start - _EPSILON or time < mark - _EPSILON:
                continue
            try:
                image = frame.to_image()
            except (ValueError, av_errors()):
                self.skipped += 1
                continue
            if image.mode != "RGB":
                image = image.convert("RGB")
            image = upright(image, getattr(frame, "rotation", 0) or 0)
            yield VideoFrame(index, time, image)
            if every:
                mark = (math.floor(time / every + _EPSILON) + 1) * every

    def _seek(self, seconds: float) -> None:
        """To the key frame at or before `seconds` (frames before it are then skipped)."""
        target = self._origin + int(seconds / self._time_base)
        try:
            self._container.seek(target, stream=self._stream, backward=True, any_frame=False)
        except av_errors():
            try:  # a file that cannot seek there: from the start instead
                self._container.seek(0)
            except av_errors():
                raise UserError(_("'{name}' cannot be read again from a given time (the file "
                                  "does not allow seeking): open it again.").format(
                    name=self.path.name)) from None
        self._stream.codec_context.flush_buffers()

    def _decoded(self):
        """Decoded frames, None for a packet that failed to decode (counted in skipped, not
        fatal). A file cut short mid-stream ends where its readable part ends."""
        demuxer = self._container.demux(self._stream)
        while True:
            try:
                packet = next(demuxer)
            except StopIteration:
                return
            except av_errors():
                return  # the container itself is unreadable from here (truncated file)
            try:
                decoded = packet.decode()
            except av_errors():
                self.skipped += 1
                yield None
                continue
            yield from decoded

    def _time(self, frame, last_time: float) -> float:
        pts = frame.pts if frame.pts is not None else frame.dts
        if pts is None:  # no timestamp at all: one frame period after the previous one
            return last_time + (1.0 / self.fps if self.fps else 0.0) if last_time >= 0 else 0.0
        return max(0.0, float((pts - self._origin) * self._time_base))


_TRANSPOSE = {90: Image.Transpose.ROTATE_90, 180: Image.Transpose.ROTATE_180,
              270: Image.Transpose.ROTATE_270}


def upright(image: Image.Image, rotation: float) -> Image.Image:
    """The picture as a player shows it: `rotation` is the display matrix's angle (degrees,
    counterclockwise, as FFmpeg's av_display_rotation_get gives it; a phone's portrait
    video says -90 or 90). Quarter turns are exact (no resampling)."""
    degrees = round(rotation) % 360
    if degrees == 0:
        return image
    if degrees in _TRANSPOSE:
        return image.transpose(_TRANSPOSE[degrees])
    return image.rotate(degrees, expand=True, resample=Image.Resampling.BILINEAR)


def av_errors() -> type[Exception]:
    import av

    return av.error.FFmpegError
