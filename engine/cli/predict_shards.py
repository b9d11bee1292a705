"""`predict` under torchrun / accelerate launch: the files shared by the processes.

`torchrun --nproc_per_node N -m engine predict RUN FOLDER --output out.csv` runs this in
each of N processes (engine.cli.predict hands over when it is launched so). Each predicts
its batches (engine.use.predict_shards); the first process prints what one process would
print and writes the one output file, in input order. The others print only errors. All
of them end with the same exit code, so the launcher reports one outcome.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import sys
from typing import Callable

from engine.i18n import _


def predict_in_shards(args: argparse.Namespace, shards, load: Callable, describe: Callable,
                      progress: Callable | None) -> int:
    """The predict command in one of the launch's processes. `load(args)` opens the run,
    `describe(prediction)` is the line printed per input (engine.cli.predict's)."""
    from engine.data.shards import finish, share_json, wait_for_all
    from engine.use.predict import export_predictions
    from engine.use.predict_shards import explain_shared, predict_shared

    # the first process opens the run first: what a backend prepares and caches once
    # (an ONNX model) is then read by the others, not built N times at once
    predictor = load(args) if shards.first else None
    wait_for_all(shards)
    if not shards.first:
        predictor = _quietly(load, args)
    predictions = predict_shared(predictor, args.paths, shards, top_k=args.top_k,
                                 batch_size=args.batch_size,
                                 progress=progress if shards.first else None)
    if shards.first:
        for p in predictions:
            print(describe(p))
        if args.output:
            print(_("saved {count} predictions to {path}").format(
                count=len(predictions), path=export_predictions(predictions, args.output)))
    if args.explain:
        if getattr(predictor, "model", None) is None:  # heat maps need torch's gradients
            predictor = load(args, "torch") if shards.first else _quietly(load, args, "torch")
        readable = None if predictions is None else [
            p.source for p in predictions if not p.error and not p.source.startswith("<")]
        count = explain_shared(predictor, readable, args.explain, shards,
                               batch_size=args.batch_size)
        if shards.first:
            print(_("saved {count} heat maps (why each class) to {path}").format(
                count=count, path=args.explain))
    failed = 0
    if shards.first:
        failed = sum(1 for p in predictions if p.error)
        if failed:
            print(_("{failed} of {total} inputs could not be predicted.").format(
                failed=failed, total=len(predictions)), file=sys.stderr)
    code = int(share_json(1 if failed else 0, shards))
    finish(shards)
    return code


def _quietly(load: Callable, *args):
    """`load(*args)` without its notes and warnings: the first process says them, once."""
    with contextlib.redirect_stderr(io.StringIO()):
        return load(*args)
