"""Near-duplicates: the same photo resized, re-encoded or slightly cropped. Pairs that
straddle two splits come first: the same photo in train and test lets a model score on
what it memorised (leakage).

Two tests, both must hold. The embeddings (centred on the dataset's mean, which takes out
the direction every image shares) must point almost the same way, and the 16x16 grey
thumbnails must correlate: two different photos of one breed in one pose can be close
in embedding space, but their pixels are not the same picture.
Byte-identical copies are already dropped by the dataset scan; this finds the rest.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Callable

import torch

from engine.review import DEFAULT_THRESHOLD  # noqa: F401 - where it was: importers keep working

PIXEL_MATCH = 0.93  # correlation of the grey thumbnails (slight crops of one photo: 0.95+)
MAX_PAIRS = 5000


@dataclass
class DuplicatePair:
    first: str
    second: str
    similarity: float  # of the centred embeddings
    pixel_similarity: float  # of the thumbnails
    first_split: str
    second_split: str
    first_label: str
    second_label: str

    @property
    def across_splits(self) -> bool:
        return self.first_split != self.second_split

    def to_dict(self) -> dict:
        return {**asdict(self), "across_splits": self.across_splits}


def find_near_duplicates(embedded, threshold: float = DEFAULT_THRESHOLD,
                         pixel_match: float = PIXEL_MATCH, chunk: int = 2048,
                         progress: Callable[[int, int], None] | None = None
                         ) -> list[DuplicatePair]:
    """Pairs passing both tests: across splits first, then the most similar.
    progress(images compared with all others, images) after each chunk."""
    v = embedded.vectors.float()
    if len(v) > 1:
        v = torch.nn.functional.normalize(v - v.mean(0, keepdim=True), dim=-1)
    t = embedded.thumbs.float()
    n = len(v)
    found: list[tuple[float, float, int, int]] = []
    if progress:
        progress(0, n)
    for start in range(0, n, chunk):  # [chunk, N] at a time: memory stays bounded
        sims = v[start:start + chunk] @ v.T
        rows, cols = torch.nonzero(sims >= threshold, as_tuple=True)
        for r, c in zip(rows.tolist(), cols.tolist()):
            i = start + r
            if i < c:  # each pair once, never an image with itself
                pixels = float(t[i] @ t[c])
                if pixels >= pixel_match:
                    found.append((float(sims[r, c]), pixels, i, c))
        if progress:
            progress(min(n, start + chunk), n)
    names = embedded.class_names
    pairs = [DuplicatePair(embedded.paths[i], embedded.paths[j], round(min(s, 1.0), 6),
                           round(min(p, 1.0), 6), embedded.splits[i], embedded.splits[j],
                           names[int(embedded.labels[i])], names[int(embedded.labels[j])])
             for s, p, i, j in found]
    pairs.sort(key=lambda p: (not p.across_splits, -p.similarity, p.first, p.second))
    return pairs[:MAX_PAIRS]
