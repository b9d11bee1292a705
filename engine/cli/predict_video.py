"""`predict` when an input is a video: the --every option and the command's output.

engine.cli.predict hands over here when one of the inputs is a video file; the work is
engine.use.video_predict's (frames sampled, classified in batches, one row each).
"""
from __future__ import annotations

import argparse
import sys
from typing import Callable

from engine.errors import UserError
from engine.i18n import _


def every_argument(text: str) -> float:
    """--every's check: seconds between sampled frames, or a plain one-line error."""
    from engine.use.video import parse_every

    try:
        return parse_every(text)
    except UserError as exc:
        raise argparse.ArgumentTypeError(str(exc).rstrip(".")) from None


def videos_alone(args: argparse.Namespace) -> bool:
    """Whether predict_videos runs this predict command: an input is a video. Videos are
    read in one process (a launch with torchrun would read each one N times); --every
    without a video only gets a note."""
    from engine.data.shards import launched
    from engine.use.video_predict import has_video

    if not has_video(args.paths):
        print(_("note: --every is for videos and none of the inputs is a video file; the "
                "images are classified as usual."), file=sys.stderr)
        return False
    if launched():
        raise UserError(_("Videos are classified in one process: run this command without "
                          "torchrun or accelerate launch (it is for large folders of "
                          "images)."))
    return True


def predict_videos(args: argparse.Namespace, load: Callable,
                   progress: Callable[[int, int], None] | None) -> int:
    """The predict command over inputs holding videos: a table, or the --output file."""
    from engine.use.video_predict import export_frame_predictions, format_row, \
        predict_video_inputs

    if args.explain:
        raise UserError(_("--explain draws heat maps for images, not for videos: leave it out, "
                          "or save the frames you want explained as images first."))
    from engine.use.video import open_video

    for path in args.paths:  # every video readable before the run is loaded
        if _is_video_file(path):
            open_video(path).close()
    predictor = load(args)
    rows, skipped = predict_video_inputs(predictor, args.paths, every=args.every,
                                         top_k=args.top_k, batch_size=args.batch_size,
                                         progress=progress)
    if args.output:
        path = export_frame_predictions(rows, args.output)
        frames = sum(1 for r in rows if r.time is not None)
        print(_("saved {count} predictions ({frames} video frames) to {path}").format(
            count=len(rows), frames=frames, path=path))
    else:
        source = None
        for row in rows:
            if row.time is not None and row.source != source:
                print(row.source)
            source = row.source if row.time is not None else None
            print(format_row(row))
    if skipped:
        print(_("{count} video frames could not be decoded and were left out.").format(
            count=skipped), file=sys.stderr)
    failed = sum(1 for r in rows if r.prediction.error)
    if failed:
        print(_("{failed} of {total} inputs could not be predicted.").format(
            failed=failed, total=len(rows)), file=sys.stderr)
    return 1 if failed else 0


def _is_video_file(path) -> bool:
    from pathlib import Path

    from engine.use.video import is_video

    return is_video(path) and not Path(path).is_dir()
