"""`predict` on videos: sampled frames classified in batches, one timestamped row each.

`python -m engine predict RUN clip.mp4 --every 0.5s --output frames.csv` reads the frames
with engine.use.video (PyAV), classifies them with whatever predictor the run was opened
with (every backend: engine.use.backends.open_predictor), and writes one row per sampled
frame. Images given beside videos are classified too and get a row each, with empty time
and frame, so several videos and images make one table with a `source` column. Every video
is opened before any work starts: a bad one stops the command with a plain message and no
output file; the file is written only at the end, through a temporary file (atomic).
"""
from __future__ import annotations

import csv
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

from engine.i18n import _
from engine.use.predict import Prediction
from engine.use.video import DEFAULT_EVERY, is_video, open_video


@dataclass
class FramePrediction:
    """The prediction of one video frame (or, beside videos, of one image: time None)."""
    source: str
    time: float | None
    frame: int | None
    prediction: Prediction

    def to_dict(self) -> dict:
        data = self.prediction.to_dict()
        data.update(source=self.source, time=self.time, frame=self.frame)
        return data


def has_video(paths: Sequence[str | os.PathLike]) -> bool:
    return any(is_video(p) and not Path(p).is_dir() for p in paths)


def sampled_count(duration: float, fps: float, every: float) -> int:
    """About how many frames sampling every `every` seconds yields (for progress)."""
    if duration <= 0:
        return 0
    if fps > 0 and every <= 1 / fps:
        return max(1, int(round(duration * fps)))
    return max(1, math.ceil(duration / every - 1e-6))


def predict_video_inputs(predictor, paths: Sequence[str | os.PathLike], *, every: float | None
                         = None, top_k: int = 5, batch_size: int = 32,
                         progress: Callable[[int, int], None] | None = None
                         ) -> tuple[list[FramePrediction], int]:
    """(one FramePrediction per sampled frame and per image, in input order; frames that
    failed to decode and were left out). Raises UserError before any work for a video that
    cannot be opened."""
    every = DEFAULT_EVERY if every is None else every
    videos = {str(p): open_video(p) for p in paths if is_video(p) and not Path(p).is_dir()}
    try:
        total = sum(sampled_count(v.duration, v.fps, every) for v in videos.values())
        images = [p for p in paths if str(p) not in videos]
        done = [0]
        total += len(images)

        def advance(count: int) -> None:
            done[0] += count
            if progress:
                progress(min(done[0], total), max(total, done[0]))

        rows: list[FramePrediction] = []
        skipped = 0
        for group in _groups(paths, videos):
            video = videos.get(str(group[0]))
            if video is None:  # images and folders of images: as predict does for them
                found = predictor.predict(group, top_k=top_k, batch_size=batch_size)
                rows.extend(FramePrediction(p.source, None, None, p) for p in found)
                advance(len(group))
                continue
            source = str(group[0])
            for batch in _batches(video.frames(every=every), batch_size):
                found = predictor.predict([f.image for f in batch], top_k=top_k,
                                          batch_size=batch_size)
                for f, p in zip(batch, found):
                    p.source = source
                    rows.append(FramePrediction(source, f.time, f.index, p))
                advance(len(batch))
            skipped += video.skipped
        if progress:  # the end, also where a video held fewer frames than its header said
            progress(max(total, done[0]), max(total, done[0]))
        return rows, skipped
    finally:
        for video in videos.values():
            video.close()


def _groups(paths: Sequence, videos: dict) -> Iterator[list]:
    """Each video alone, the inputs between videos together (so images batch)."""
    group: list = []
    for path in paths:
        if str(path) in videos:
            if group:
                yield group
                group = []
            yield [path]
        else:
            group.append(path)
    if group:
        yield group


def _batches(frames: Iterator, size: int) -> Iterator[list]:
    batch: list = []
    for frame in frames:
        batch.append(frame)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def export_frame_predictions(rows: Sequence[FramePrediction], path: str | os.PathLike) -> Path:
    """Write the rows as .csv (one line per frame or image) or .json, atomically: a
    temporary file renamed into place, removed if writing fails."""
    from engine.use.predict import export_target

    path, suffix, tmp = export_target(path)
    try:
        if suffix == ".json":
            tmp.write_text(json.dumps([r.to_dict() for r in rows], indent=1, ensure_ascii=False)
                           + "\n", encoding="utf-8")
        else:
            _write_csv(rows, tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _write_csv(rows: Sequence[FramePrediction], tmp: Path) -> None:
    # the columns of engine.use.predict.export_predictions, with where in which video
    k = max((len(r.prediction.top) for r in rows), default=1)
    header = ["source", "time", "frame", "label", "best_guess", "confidence", "not_sure",
              "low_confidence", "error"]
    for i in range(2, k + 1):
        header += [f"label_{i}", f"probability_{i}"]
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for r in rows:
            p = r.prediction
            row = [r.source, "" if r.time is None else f"{r.time:.3f}",
                   "" if r.frame is None else r.frame, p.label, p.best_guess,
                   f"{p.confidence:.6f}" if p.top else "", int(p.not_sure),
                   int(p.low_confidence), p.error]
            for name, prob in p.top[1:]:
                row += [name, f"{prob:.6f}"]
            writer.writerow(row)


def format_row(row: FramePrediction, shown: int = 3) -> str:
    """One line of the table printed without --output: time, frame, the top classes."""
    p = row.prediction
    if p.error:
        return _("{source}: cannot predict: {error}").format(source=row.source, error=p.error)
    top = _(", ").join(f"{name} {prob:.1%}" for name, prob in p.top[:shown])
    if row.time is None:
        where = row.source
    else:
        where = _("{time:9.3f} s  frame {frame:>6}").format(time=row.time, frame=row.frame)
    if p.not_sure:
        return _("{where}  not sure ({top})").format(where=where, top=top)
    return f"{where}  {top}"
