"""A 2-D map of a dataset: one point per image, placed so similar embeddings sit together.

Two layouts of the same embeddings (from the caller: a dataset's embedding pass or an
unsorted folder's):
- quick_layout: PCA onto the two main directions, well under a second for 20,000 images;
  shown at once.
- refined_layout: t-SNE (openTSNE: Barnes-Hut or FFT gradients), started from the quick
  layout, reporting progress and intermediate layouts, cancellable between iterations.

Why openTSNE (measured on 2 cores of an AMX Xeon (KVM), 20 Gaussian clusters of 512-d
vectors, see README "map"): 20,000 points in ~22 s, 5,000 in ~10 s, with progress, cancel
and a PCA start. scikit-learn's t-SNE needs ~31 s for its first 250 iterations alone and has
no progress or cancel; UMAP is ~15 s once compiled but numba compiles ~40 s in every new
process and numba + llvmlite add ~200 MB to the packaged app. PCA alone mixes most clusters
(a point's 10 nearest 2-D neighbours share its cluster ~40 % of the time), t-SNE keeps them
apart (~100 %).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from engine.errors import UserError
from engine.i18n import _

Progress = Callable[[str, int, int], None]  # (stage, done, total): "neighbours", "layout"
Cancel = Callable[[], bool]  # True: stop as soon as possible
OnLayout = Callable[[np.ndarray], None]  # an intermediate layout, [N, 2] in [-1, 1]

METHODS = ("tsne", "pca")
EXAGGERATED = 250  # early-exaggeration iterations: clusters form
SETTLING = 300  # normal iterations: clusters spread out and settle (500 adds ~40 % time
# for no visible change on the measured clusters)
REPORT_EVERY = 25  # iterations between progress reports and cancel checks (each one
# also computes the KL divergence: every 10 cost ~20 % more time)
PCA_DIMS = 50  # t-SNE's neighbours are searched in this many principal directions
FFT_FROM = 5000  # points from which FFT gradients beat Barnes-Hut (measured: 300 points
# 0.3 s vs 4.3 s, 3,000: 3.7 vs 14 s, 5,000: even, 10,000: 42 vs 19 s)


class MapCancelled(Exception):
    """The refined layout was cancelled through its `cancel` callable."""


def _table(vectors) -> np.ndarray:
    data = np.asarray(vectors.detach().cpu() if hasattr(vectors, "detach") else vectors,
                      dtype=np.float32)
    if data.ndim != 2:
        raise UserError(_("Embeddings must be a table of one row per image."))
    if not np.isfinite(data).all():
        raise UserError(_("Some embeddings are not numbers; embed the images again."))
    norms = np.linalg.norm(data, axis=1, keepdims=True)
    return data / np.maximum(norms, 1e-12)  # cosine geometry, as "more like this" uses


def _fit_box(xy: np.ndarray) -> np.ndarray:
    """Centred and scaled so the farthest point sits on the edge of [-1, 1]^2."""
    xy = np.asarray(xy, dtype=np.float64)
    xy = xy - xy.mean(0) if len(xy) else xy
    reach = np.abs(xy).max() if xy.size else 0.0
    if not reach > 1e-6:  # rounding noise of identical embeddings: one spot, not a spread
        return np.zeros(xy.shape, dtype=np.float32)
    return (xy / reach).astype(np.float32)


def _principal(data: np.ndarray, dims: int, seed: int) -> np.ndarray:
    """`data` projected on its first `dims` principal directions (fewer when it has fewer)."""
    from sklearn.decomposition import PCA

    dims = max(1, min(dims, data.shape[0], data.shape[1]))
    if data.shape[0] < 2:
        return np.zeros((data.shape[0], dims), dtype=np.float32)
    import warnings

    solver = "randomized" if min(data.shape) > 4 * dims else "full"
    with warnings.catch_warnings():  # identical embeddings: no variance to explain, zeros
        warnings.simplefilter("ignore", RuntimeWarning)
        flat = PCA(dims, svd_solver=solver, random_state=seed).fit_transform(data)
    return np.nan_to_num(flat).astype(np.float32)


def quick_layout(vectors, *, seed: int = 0) -> np.ndarray:
    """[N, 2] in [-1, 1]: the embeddings on their two main directions (PCA), at once."""
    data = _table(vectors)
    flat = _principal(data, 2, seed)
    if flat.shape[1] < 2:  # one-dimensional embeddings: a line
        flat = np.concatenate([flat, np.zeros_like(flat)], axis=1)
    return _fit_box(flat)


def refined_layout(vectors, *, seed: int = 0, initial: np.ndarray | None = None,
                   progress: Progress | None = None, cancel: Cancel | None = None,
                   on_layout: OnLayout | None = None, threads: int | None = None) -> np.ndarray:
    """[N, 2] in [-1, 1]: t-SNE of the embeddings, started from `initial` (the quick
    layout when not given). Reports ("layout", iteration, total) every few iterations and
    hands `on_layout` the layout so far; raises MapCancelled when `cancel()` turns true."""
    import os

    from openTSNE import TSNEEmbedding, affinity, initialization
    from openTSNE.tsne import OptimizationInterrupt

    data = _table(vectors)
    n = len(data)
    start = quick_layout(data, seed=seed) if initial is None else np.asarray(initial, np.float32)
    if start.shape != (n, 2):
        raise UserError(_("The first layout has {got} points for {n} images.").format(
            got=len(start), n=n))
    if n < 8 or not np.ptp(start[:, 0]) > 0:
        # too few points for neighbourhoods, or all alike (copies of one picture): the
        # principal directions say it all
        return _fit_box(start)
    jobs = threads or max(1, min(os.cpu_count() or 1, 8))
    stopped = cancel or (lambda: False)
    total = EXAGGERATED + SETTLING
    if progress:
        progress("neighbours", 0, 0)  # the neighbour search has no count of its own
    perplexity = float(min(30.0, (n - 1) / 3.0))
    aff = affinity.PerplexityBasedNN(_principal(data, PCA_DIMS, seed), perplexity=perplexity,
                                     n_jobs=jobs, random_state=seed, method="annoy")
    if stopped():
        raise MapCancelled()
    done = 0

    def report(iteration: int, error: float, embedding) -> bool:
        if progress:
            progress("layout", done + iteration, total)
        if on_layout:
            on_layout(_fit_box(np.asarray(embedding)))
        return bool(stopped())

    embedding = TSNEEmbedding(initialization.rescale(start.astype(np.float64)), aff,
                              n_jobs=jobs, random_state=seed,
                              negative_gradient_method="fft" if n >= FFT_FROM else "bh",
                              callbacks=report, callbacks_every_iters=REPORT_EVERY)
    try:
        embedding = embedding.optimize(EXAGGERATED, exaggeration=12, momentum=0.5,
                                       propagate_exception=True)
        done = EXAGGERATED
        embedding = embedding.optimize(SETTLING, momentum=0.8, propagate_exception=True)
    except OptimizationInterrupt:
        raise MapCancelled() from None
    if progress:
        progress("layout", total, total)
    return _fit_box(np.asarray(embedding))


def compute_map(vectors, *, method: str = "tsne", seed: int = 0,
                progress: Progress | None = None, cancel: Cancel | None = None,
                on_layout: OnLayout | None = None) -> np.ndarray:
    """The final layout by `method`: "tsne" (quick layout first, handed to `on_layout`,
    then refined) or "pca" (the quick layout only)."""
    if method not in METHODS:
        raise UserError(_("Unknown map method '{method}': use {methods}.").format(
            method=method, methods=", ".join(METHODS)))
    quick = quick_layout(vectors, seed=seed)
    if on_layout:
        on_layout(quick)
    if method == "pca":
        return quick
    return refined_layout(vectors, seed=seed, initial=quick, progress=progress, cancel=cancel,
                          on_layout=on_layout)
