"""Section 9: the dataset map (issue #24: 20,000 images within 60 s on 2 CPU cores).

The layouts are timed on generated embeddings of a realistic shape (512 numbers, as
CLIP ViT-B/32 gives, in 20 noisy clusters), so the figure is the map's own cost; the
embedding pass that feeds it is the prediction section's images/s.
"""
from __future__ import annotations

import time

import numpy as np

from engine.bench.plan import Context

MAP_GOAL_S = 60.0
DIMS, CLUSTERS, NEIGHBOURS = 512, 20, 10


def clustered_embeddings(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """`n` unit vectors around CLUSTERS random centres, and each one's cluster."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(CLUSTERS, DIMS)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    labels = rng.integers(0, CLUSTERS, n)
    x = centres[labels] + rng.normal(scale=2.4 / np.sqrt(DIMS), size=(n, DIMS)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True), labels


def cluster_agreement(xy: np.ndarray, labels: np.ndarray) -> float:
    """Share of each point's nearest map neighbours that are of its own cluster."""
    from sklearn.neighbors import NearestNeighbors

    k = min(NEIGHBOURS, len(xy) - 1)
    near = NearestNeighbors(n_neighbors=k + 1).fit(xy).kneighbors(xy, return_distance=False)
    return round(float((labels[near[:, 1:]] == labels[:, None]).mean()), 3)


def dataset_map(ctx: Context) -> dict:
    from engine.review.map import quick_layout, refined_layout

    n = ctx.plan.map_points
    ctx.log(f"map: {n} embeddings of {DIMS} numbers in {CLUSTERS} clusters: PCA, then t-SNE")
    vectors, labels = clustered_embeddings(n)
    t0 = time.perf_counter()
    quick = quick_layout(vectors)
    quick_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    refined = refined_layout(vectors, initial=quick)
    refined_s = time.perf_counter() - t0
    total = quick_s + refined_s
    return {"status": "ok", "points": n, "dims": DIMS, "clusters": CLUSTERS,
            "quick_s": round(quick_s, 2), "refined_s": round(refined_s, 1),
            "total_s": round(total, 1), "goal_s": MAP_GOAL_S, "goal_met": total < MAP_GOAL_S,
            "agreement_quick": cluster_agreement(quick, labels),
            "agreement_refined": cluster_agreement(refined, labels)}
