"""The dataset map (engine.review.map) and "more like this" (engine.review.neighbours), on
embeddings of known structure: Gaussian clusters in 64 dimensions."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.errors import UserError
from engine.review.map import MapCancelled, compute_map, quick_layout, refined_layout
from engine.review.neighbours import more_like, nearest


def clusters(n: int, k: int = 6, dims: int = 64, seed: int = 0):
    """`n` unit vectors around `k` random centres (clearly apart), and each one's cluster."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, dims))
    labels = rng.integers(0, k, n)
    x = centres[labels] + rng.normal(scale=0.35, size=(n, dims))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32), labels


def shared_cluster(xy: np.ndarray, labels: np.ndarray, k: int = 5) -> float:
    """How often a point's k nearest points in 2-D are of its own cluster."""
    d = ((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    near = np.argsort(d, axis=1)[:, :k]
    return float((labels[near] == labels[:, None]).mean())


@pytest.fixture(scope="module")
def data():
    return clusters(300)


def test_quick_layout_places_every_image_in_the_box_the_same_way_each_time(data):
    x, _labels = data
    a, b = quick_layout(x, seed=3), quick_layout(torch.from_numpy(x), seed=3)
    assert a.shape == (300, 2) and np.isfinite(a).all()
    assert np.abs(a).max() == pytest.approx(1.0) and np.allclose(a, b)


def test_refined_layout_keeps_clusters_together_and_is_deterministic(data):
    x, labels = data
    first = refined_layout(x, seed=7)
    again = refined_layout(x, seed=7)
    assert first.shape == (300, 2) and np.isfinite(first).all()
    assert np.abs(first).max() <= 1.0 + 1e-6
    np.testing.assert_allclose(first, again, atol=1e-5)
    assert shared_cluster(first, labels) > 0.95
    # the structure is not an accident of the data: shuffled labels share far less
    assert shared_cluster(first, np.random.default_rng(0).permutation(labels)) < 0.4


def test_refined_layout_reports_progress_and_intermediate_layouts(data):
    x, _labels = data
    seen, layouts = [], []
    compute_map(x, progress=lambda *a: seen.append(a), on_layout=layouts.append)
    steps = [(done, total) for stage, done, total in seen if stage == "layout"]
    assert seen[0][0] == "neighbours"
    assert len(steps) >= 10 and steps == sorted(steps) and steps[-1][0] == steps[-1][1]
    assert len(layouts) >= 10 and all(layout.shape == (300, 2) for layout in layouts)
    np.testing.assert_allclose(layouts[0], quick_layout(x))  # the quick one comes first


def test_refined_layout_stops_when_cancelled(data):
    x, _labels = data
    seen = []
    with pytest.raises(MapCancelled):
        refined_layout(x, progress=lambda *a: seen.append(a),
                       cancel=lambda: len(seen) >= 3)
    assert 3 <= len(seen) < 10  # stopped at the next check, not at the end


def test_pca_method_is_the_quick_layout_and_bad_input_is_plain(data):
    x, _labels = data
    np.testing.assert_allclose(compute_map(x, method="pca"), quick_layout(x))
    with pytest.raises(UserError, match="umap"):
        compute_map(x, method="umap")
    with pytest.raises(UserError, match="not numbers"):
        quick_layout(np.full((4, 3), np.nan))


def test_tiny_and_degenerate_inputs_still_get_coordinates():
    for n in (1, 2, 5, 8, 12):
        xy = compute_map(np.random.default_rng(n).normal(size=(n, 8)))
        assert xy.shape == (n, 2) and np.isfinite(xy).all()
    same = compute_map(np.ones((50, 8)))  # fifty copies of one picture: one spot
    assert same.shape == (50, 2) and np.isfinite(same).all() and np.ptp(same) == 0


def test_nearest_matches_a_brute_force_search():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(20000, 32)).astype(np.float32) * rng.uniform(0.5, 3, (20000, 1))
    paths = [f"img{i}.jpg" for i in range(len(x))]
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    unit -= unit.mean(0)  # compared centred: the part every embedding shares says nothing
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    for row in (0, 8191, 8192, 19999):  # either side of a chunk's edge
        got = more_like(torch.from_numpy(x), paths, paths[row], k=7)
        sims = unit @ unit[row]
        sims[row] = -np.inf
        want = np.argsort(-sims, kind="stable")[:7]
        assert [p for p, _s in got] == [paths[i] for i in want]
        np.testing.assert_allclose([s for _p, s in got], sims[want], atol=1e-5)


def test_nearest_to_an_outside_image_and_its_limits():
    x = np.array([[1, 0], [0, 1], [1, 1], [-1, 0]], dtype=np.float32)
    paths = ["a", "b", "c", "d"]
    got = nearest(x, paths, np.array([2.0, 0.1]), k=2)
    assert [p for p, _s in got] == ["a", "c"] and got[0][1] == pytest.approx(0.99875, abs=1e-4)
    assert sorted(p for p, _s in more_like(x, paths, "a", k=10)) == ["b", "c", "d"]  # not itself
    # a large part every embedding shares does not make every image alike
    shared = np.array([[10, 1, 0], [10, 1.1, 0], [10, 0, 1], [10, 0, 1.1]], dtype=np.float32)
    near = more_like(shared, ["a1", "a2", "b1", "b2"], "a1", k=3)
    assert [p for p, _s in near] == ["a2", "b1", "b2"] and near[0][1] > 0.9 > near[1][1] + 0.5
    with pytest.raises(UserError, match="not among"):
        more_like(x, paths, "z")
    with pytest.raises(UserError, match="different models"):
        nearest(x, paths, np.ones(3))
