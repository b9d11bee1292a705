"""Predictions (and heat maps) of one list of images shared by the processes of a torchrun /
accelerate launch (engine.data.shards): each process predicts its batches, the first one
gathers every prediction back in input order.

The files are listed the way Predictor.predict lists them (folders expand in place,
sorted), and go out in the batches one process would have formed, so every number is
one process's number. An input that names nothing readable (a missing file, a folder
without images) is answered by the first process; a file that fails to decode is
answered by the process that met it, once.
"""
from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path
from typing import Callable, Sequence

from engine.data.shards import Shards, batches_of, gather_json, share_json
from engine.use.predict import Prediction, expand_inputs


def _plan(paths: Sequence[str | os.PathLike]) -> tuple[list[str], list[int | str]]:
    """(every image file in order; the output in order: an index into the files, or an
    input that names no image, which the Predictor answers with its reason)."""
    files: list[str] = []
    order: list[int | str] = []
    for raw in paths:
        found, problems = expand_inputs([raw])
        order.extend(range(len(files), len(files) + len(found)))
        files.extend(found)
        order.extend(str(raw) for _ in problems)
    return files, order


def _to_json(p: Prediction) -> dict:
    return asdict(p)


def _from_json(d: dict) -> Prediction:
    return Prediction(**{**d, "top": [(str(name), float(prob)) for name, prob in d["top"]]})


def predict_shared(predictor, paths: Sequence[str | os.PathLike], shards: Shards, *,
                   top_k: int = 5, batch_size: int = 32,
                   progress: Callable[[int, int], None] | None = None) -> list[Prediction] | None:
    """Every input's prediction, in input order, on the first process (None on the others,
    which only predict their batches). `progress` hears this process's own batches."""
    files, order = _plan(paths)
    mine = batches_of(len(files), batch_size, shards)
    predictions = predictor.predict([files[i] for i in mine], top_k=top_k,
                                    batch_size=batch_size, progress=progress)
    parts = gather_json([_to_json(p) for p in predictions], shards)
    if parts is None:
        return None
    by_file: list[Prediction | None] = [None] * len(files)
    for rank, part in enumerate(parts):
        for i, d in zip(batches_of(len(files), batch_size, Shards(rank, shards.world)), part):
            by_file[i] = _from_json(d)
    results: list[Prediction] = []
    for item in order:
        if isinstance(item, int):
            results.append(by_file[item])
        else:  # nothing to decode: the Predictor words the reason, as for one process
            results.extend(predictor.predict([item], top_k=top_k))
    return results


def explain_shared(predictor, sources: Sequence[str] | None, folder: str | Path,
                   shards: Shards, batch_size: int = 8) -> int:
    """Heat maps of `sources` (given on the first process; the others pass None) written
    into `folder`, each process drawing its batches. The first process names every file
    first, as one process would (engine.use.explain.overlay_names), so no two collide.
    Returns how many were written (all processes' together)."""
    from engine.use.explain import explain, overlay_names, write_overlays

    everything = share_json(list(sources) if shards.first else None, shards)
    mine = batches_of(len(everything), batch_size, shards)
    explained = explain(predictor, [everything[i] for i in mine], batch_size=batch_size)
    parts = gather_json([[i, e.label] for i, e in zip(mine, explained)], shards)
    names: dict[str, str] = {}
    if parts is not None:
        labelled = sorted((i, label) for part in parts for i, label in part)
        chosen = overlay_names([(everything[i], label) for i, label in labelled], folder)
        names = {str(i): name for (i, _label), name in zip(labelled, chosen)}
    names = share_json(names, shards)
    write_overlays(explained, folder, names=[names[str(i)] for i in mine])
    return len(names)
