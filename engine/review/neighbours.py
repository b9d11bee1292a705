""""More like this": the images nearest to one image by embedding (cosine similarity of
centred embeddings).

Embeddings and paths come from the caller (a dataset's embedding pass, an unsorted
folder's cached one, or a prediction's), so this module only does the search: one matrix
product against every embedding, in chunks so 20,000 x 768 floats never need a second
copy in memory.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch.nn import functional as F

from engine.errors import UserError
from engine.i18n import _

CHUNK = 8192  # rows of the embedding matrix compared at once


def _table(vectors) -> torch.Tensor:
    """[N, D] float32 (no copy when it already is one)."""
    data = torch.as_tensor(vectors, dtype=torch.float32)
    if data.ndim == 1:
        data = data[None]
    if data.ndim != 2:
        raise UserError(_("Embeddings must be a table of one row per image."))
    return data


def centred(vectors, mean=None) -> torch.Tensor:
    """Unit-length rows of `vectors` minus `mean` (their own mean by default), made unit
    length again. Every
    embedding of a model shares a large common part that makes any two images look 99 %
    alike; without it the similarity says how alike two pictures are (as the near-duplicate
    check and the proposals compare them)."""
    table = F.normalize(_table(vectors), dim=-1)
    mean = table.mean(0) if mean is None else torch.as_tensor(mean, dtype=torch.float32)
    return F.normalize(table - mean, dim=-1)


def nearest(vectors, paths: Sequence[str], query, k: int = 10, *,
            exclude: str | None = None) -> list[tuple[str, float]]:
    """The `k` rows of `vectors` most similar to `query`, as (path, cosine similarity),
    most similar first. `exclude` (a path) is never returned: the query image itself."""
    table = _table(vectors)
    if len(paths) != len(table):
        raise UserError(_("There are {n} embeddings for {m} paths.").format(
            n=len(table), m=len(paths)))
    q = F.normalize(_table(query)[0], dim=0)
    if q.shape[0] != table.shape[1]:
        raise UserError(_("The image's embedding has {d} numbers, the dataset's have {e}: "
                          "they come from different models.").format(d=q.shape[0],
                                                                     e=table.shape[1]))
    # each chunk made unit-length on its own: no normalised copy of the whole table
    sims = torch.cat([F.normalize(table[start:start + CHUNK], dim=-1) @ q
                      for start in range(0, len(table), CHUNK)]) if len(table) else torch.zeros(0)
    if exclude is not None:
        sims[[i for i, p in enumerate(paths) if p == exclude]] = float("-inf")
    order = torch.argsort(sims, descending=True, stable=True)  # ties: the earlier path
    found = [(paths[i], float(sims[i])) for i in order[:max(0, k)].tolist()]
    return [(p, s) for p, s in found if s != float("-inf")]


def more_like(vectors, paths: Sequence[str], path: str, k: int = 10) -> list[tuple[str, float]]:
    """The `k` images most like the image at `path` (one of `paths`), itself excluded,
    compared after centring the embeddings on their mean (see `centred`)."""
    try:
        row = list(paths).index(path)
    except ValueError:
        raise UserError(_("{path} is not among the embedded images.").format(path=path)) from None
    table = centred(vectors)
    return nearest(table, paths, table[row], k, exclude=path)
