"""Section 9: sorting and the dataset map (issue #24: 20,000 images; the map within 60 s
on 2 CPU cores).

- The layouts and the proposals are timed on generated embeddings of a realistic shape
  (512 numbers, as CLIP ViT-B/32 gives, in 20 noisy clusters), so the figures are their
  own cost.
- The embedding pass is timed on the growth section's distinct JPEG files: the
  training model (ViT-B/32-shaped in `make bench`) on `sort_images` of them, cold (hash,
  decode, embed, cache), and the whole folder (20,000 in `make bench`) with the small
  224-px model, whose pass is bound by reading and decoding, cold and then reopened (every
  embedding from the cache: what reopening a folder costs).
"""
from __future__ import annotations

import time

import numpy as np

from engine.bench.measure import significant
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


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def proposals(ctx: Context, vectors: np.ndarray, labels: np.ndarray) -> dict:
    """The proposers and the "Ask me" order over the map's embeddings: what each
    recomputation after a batch of confirmations costs."""
    from engine.review.embedding_store import Head
    from engine.review.proposals import ask_order, propose

    rng = np.random.default_rng(1)
    centres = np.stack([vectors[labels == c].mean(0) for c in range(CLUSTERS)])
    head = Head(torch_tensor(centres), torch_tensor(np.zeros(CLUSTERS)), 20.0)
    confirmed = {int(i): int(c) for c in range(CLUSTERS)
                 for i in rng.choice(np.flatnonzero(labels == c), 3, replace=False)}
    zero, zero_s = _timed(lambda: propose(vectors, {}, CLUSTERS, head=head))
    learned, learned_s = _timed(lambda: propose(vectors, confirmed, CLUSTERS, head=head))
    _order, ask_s = _timed(lambda: ask_order(learned, vectors, confirmed))
    best = learned.top2()[0]
    rest = np.array([i for i in range(len(labels)) if i not in confirmed])
    return {"zero_shot_s": round(zero_s, 2), "confirmed": len(confirmed),
            "with_confirmed_s": round(learned_s, 2), "method": learned.method,
            "agreement": round(float((best[rest] == labels[rest]).mean()), 3),
            "ask_order_s": round(ask_s, 2)}


def torch_tensor(a: np.ndarray):
    import torch

    return torch.from_numpy(np.asarray(a, dtype=np.float32))


def embedding_pass(ctx: Context) -> dict:
    """Images/s of the sorting view's embedding pass, cold and reopened (see the module)."""
    from engine.bench.fixtures import ensure_growth, fresh_dir
    from engine.review.sorting import embed_images

    plan = ctx.plan
    csvs = ensure_growth(ctx.root, ctx.dataset(), list(plan.growth_sizes),
                         val_images=min(64, plan.growth_sizes[0]))
    rows = csvs[max(csvs)].read_text("utf-8").splitlines()[1:]
    paths = [r.split(",")[0] for r in rows if r.endswith(",train")][:plan.map_points]
    classes = sorted({r.split(",")[1] for r in rows})
    out = {"classes": len(classes)}

    def run(model: str, files: list[str], tag: str, fresh: bool) -> float:
        caches = ctx.root / "cache" / f"sort-{tag}"
        if fresh:
            fresh_dir(caches)
        _result, s = _timed(lambda: embed_images(
            files, classes, model_ref=str(ctx.model(model)), device=ctx.device,
            cache_dir=caches / "decode", embed_cache=caches / "embeddings"))
        return s

    few = paths[:plan.sort_images]
    ctx.log(f"map: embedding {len(few)} images with {plan.train_model}, cold")
    s = run(plan.train_model, few, "model", fresh=True)
    out.update(model=plan.train_model, model_images=len(few), model_cold_s=round(s, 1),
               model_images_per_s=round(len(few) / s, 1),
               model_projected_s=round(len(paths) * s / len(few)))
    ctx.log(f"map: embedding {len(paths)} images with {plan.growth_model}, cold, then again")
    cold = run(plan.growth_model, paths, "folder", fresh=True)
    warm = run(plan.growth_model, paths, "folder", fresh=False)
    out.update(folder_model=plan.growth_model, folder_images=len(paths),
               folder_cold_s=round(cold, 1), folder_images_per_s=round(len(paths) / cold, 1),
               reopen_s=round(warm, 1))
    return out


def map_in_window(ctx: Context, n: int) -> dict:
    """The same map in the real window (gui/bench_probes/map_gap.py, a child process): when
    the first and the final layouts are shown, and the longest event-loop gap meanwhile."""
    import json
    import subprocess
    import sys

    from engine.bench.gui_probe import _env, _repo

    proc = subprocess.run([sys.executable, "-m", "gui.bench_probes.map_gap", str(n), "0", "300"],
                          cwd=_repo(), env=_env(ctx), capture_output=True, text=True,
                          timeout=360)
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH_MAP "):
            return json.loads(line[len("BENCH_MAP "):])
    return {"status": "failed", "error": (proc.stderr or proc.stdout)[-600:]}


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
    ctx.log(f"map: proposals for {n} embeddings; then the map in the window")
    proposed = proposals(ctx, vectors, labels)
    return {"status": "ok", "points": n, "dims": DIMS, "clusters": CLUSTERS,
            "quick_s": significant(quick_s), "refined_s": significant(refined_s),
            "total_s": significant(total), "goal_s": MAP_GOAL_S, "goal_met": total < MAP_GOAL_S,
            "agreement_quick": cluster_agreement(quick, labels),
            "agreement_refined": cluster_agreement(refined, labels),
            "proposals": proposed, "embedding": embedding_pass(ctx),
            "window": map_in_window(ctx, n)}
