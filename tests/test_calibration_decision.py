"""Calibration never hurts: a temperature is kept only when it lowers the calibration error
and the log-loss on held-out validation images (k-fold cross-validation), too few
validation images leave the run uncalibrated, and the run and its report say which
happened, with the numbers."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from torch.nn import functional as F

from engine.use import calibration as cal
from run_factory import train_short

pytestmark = pytest.mark.usefixtures("isolated_home")


def _sample(n: int, seed: int, sharpness: float, classes: int = 5):
    """Labels drawn from softmax(z), so softmax(z) is calibrated; logits sharpness * z (1:
    calibrated already, 4: far too sure)."""
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, classes, generator=g) * 1.5
    labels = torch.multinomial(z.softmax(-1), 1, generator=g)[:, 0]
    return z * sharpness, labels


def _nll(logits, labels, t: float) -> float:
    return float(F.cross_entropy(logits.double() / t, labels))


def _ece(logits, labels, t: float) -> float:
    return cal.expected_calibration_error(F.softmax(logits.double() / t, -1), labels)


def test_a_temperature_is_kept_only_where_it_helps_on_held_out_images():
    seeds = range(8)
    # already calibrated: any fitted temperature is noise, and on 40 images it is far from 1
    calibrated = [_sample(40, seed, 1.0) for seed in seeds]
    # far too sure: temperature scaling helps
    too_sure = [_sample(40, seed, 4.0) for seed in seeds]
    summaries = [cal.calibration_summary(*s) for s in calibrated + too_sure]
    # deterministic: the same logits, the same decision
    assert summaries == [cal.calibration_summary(*s) for s in calibrated + too_sure]
    for summary in summaries:  # never is the held-out error made worse
        assert summary["ece_after"] <= summary["ece_before"]
        assert summary["nll_after"] <= summary["nll_before"]
        assert (summary["temperature"] != 1.0) == (summary["status"] == cal.CALIBRATED)
    for (logits, labels), summary in zip(calibrated, summaries[:8]):
        t = cal.fit_temperature(logits, labels)
        assert abs(t - 1.0) > 0.05  # the premise: fitted and kept, it would change things
        assert summary["status"] == cal.NOT_HELPFUL and summary["temperature"] == 1.0
        assert summary["tried_temperature"] == pytest.approx(t, rel=1e-5)
        assert summary["ece_after"] == summary["ece_before"]
        worse = (summary["tried_ece"] >= summary["ece_before"],
                 summary["tried_nll"] >= summary["nll_before"],
                 summary["tried_ece_fitted"] >= summary["ece_before"])
        assert any(worse)
        # and right to refuse: on fresh images of the same kind, that temperature is worse
        fresh, fresh_labels = _sample(20_000, 100 + len(labels), 1.0)
        assert _nll(fresh, fresh_labels, t) > _nll(fresh, fresh_labels, 1.0)
    kept = [s for s in summaries[8:] if s["status"] == cal.CALIBRATED]
    assert len(kept) >= 6
    fresh, fresh_labels = _sample(20_000, 999, 4.0)
    for summary in kept:
        t = summary["temperature"]
        assert summary["ece_after"] < summary["ece_before"]
        assert summary["nll_after"] < summary["nll_before"]
        assert summary["folds"] == cal.FOLDS
        assert _ece(fresh, fresh_labels, t) < _ece(fresh, fresh_labels, 1.0) / 2
        assert _nll(fresh, fresh_labels, t) < _nll(fresh, fresh_labels, 1.0)


def test_a_temperature_that_raises_the_error_where_it_was_fitted_is_not_kept():
    # under-confident: on held-out images the fitted temperature (0.33) helps, but on the 20
    # images it was fitted on its calibration error is higher than without it
    logits, labels = _sample(20, 28, 0.5)
    summary = cal.calibration_summary(logits, labels)
    assert summary["tried_ece"] < summary["ece_before"] and \
        summary["tried_nll"] < summary["nll_before"]  # the premise
    assert summary["tried_ece_fitted"] > summary["ece_before"]
    assert summary["status"] == cal.NOT_HELPFUL and summary["temperature"] == 1.0
    assert cal.describe(summary) == (
        "The confidence stays uncalibrated: a temperature of 0.33 lowered the expected "
        "calibration error on held-out validation images (30.1% -> 27.9%) but not on the "
        "images it was fitted on (30.1% -> 32.2%).")


def test_each_image_is_scored_by_a_temperature_fitted_without_it():
    logits, labels = _sample(43, 3, 4.0)
    folds = cal.folds(labels)
    assert len(folds) == cal.FOLDS
    assert sorted(torch.cat(folds).tolist()) == list(range(len(labels)))  # each image once
    for held in folds:  # every fold gets its share of each class
        for c in range(5):
            share = int((labels == c).sum()) / cal.FOLDS
            assert abs(int((labels[held] == c).sum()) - share) < 1
    probs = cal.held_out_probabilities(logits, labels)
    temperatures = []
    for held in folds:
        rest = torch.ones(len(labels), dtype=torch.bool)
        rest[held] = False
        t = cal.fit_temperature(logits[rest], labels[rest])
        temperatures.append(t)
        assert torch.allclose(probs[held], F.softmax(logits[held].double() / t, -1))
    assert len(set(temperatures)) == cal.FOLDS  # really fitted apart


def test_too_few_validation_images_stay_uncalibrated():
    logits, labels = _sample(cal.MIN_IMAGES, 0, 4.0)  # far too sure: it would help
    assert cal.calibration_summary(logits, labels)["status"] == cal.CALIBRATED
    few = cal.calibration_summary(logits[:-1], labels[:-1])
    assert few["status"] == cal.TOO_FEW and few["temperature"] == 1.0
    assert few["images"] == cal.MIN_IMAGES - 1 and few["minimum_images"] == cal.MIN_IMAGES
    assert cal.describe(few) == (
        f"The confidence stays uncalibrated: {cal.MIN_IMAGES - 1} validation images are too "
        f"few to calibrate on (at least {cal.MIN_IMAGES} are needed).")
    right = F.one_hot(torch.arange(30) % 3, 3).double() * 5  # never wrong
    perfect = cal.calibration_summary(right, torch.arange(30) % 3)
    assert perfect["status"] == cal.NO_MISTAKES and perfect["temperature"] == 1.0
    assert "made no mistake on the 30 validation images" in cal.describe(perfect)


@pytest.fixture(scope="module")
def hurt(tmp_path_factory, tiny_clip_dir, learnable_split_dir):
    """A real run (seed 42) whose fitted temperature looks good on the validation images it
    was fitted on but is worse on held-out ones: the old code kept it."""
    return train_short(tmp_path_factory, tiny_clip_dir, learnable_split_dir, precision="fp32",
                       seed=42)


def test_a_run_whose_temperature_would_hurt_stays_uncalibrated_and_says_so(hurt):
    from engine.use.evaluate import load_report

    run_dir = Path(hurt[-1].run_dir)
    summary = json.loads((run_dir / "run.json").read_text())["calibration"]
    assert summary["status"] == cal.NOT_HELPFUL and summary["temperature"] == 1.0
    tried = summary["tried_temperature"]
    assert abs(tried - 1.0) > 0.05  # the premise: there was a temperature to refuse
    assert summary["tried_ece"] > summary["ece_before"] or \
        summary["tried_nll"] > summary["nll_before"]
    for head in (run_dir, run_dir / "checkpoints" / "best"):
        assert float(load_file(str(head / "head.safetensors"))["temperature"]) == 1.0
    logs = [e.message for e in hurt if e.kind == "log" and "calibrat" in e.message]
    assert logs == [
        "The confidence stays uncalibrated: temperature scaling did not help on held-out "
        f"validation images (a temperature of {tried:.2f} gave expected calibration error "
        f"{summary['ece_before']:.1%} -> {summary['tried_ece']:.1%}, log-loss "
        f"{summary['nll_before']:.3f} -> {summary['tried_nll']:.3f})."]
    report = load_report(run_dir)
    assert report.calibration["temperature"] == 1.0
    assert report.calibration["status"] == cal.NOT_HELPFUL
    assert report.calibration["ece"] == report.calibration["ece_before"]
    assert logs[0] in report.summary()  # the command line's evaluate says it too
    assert (f"On these images: expected calibration error {report.calibration['ece']:.1%}."
            in report.summary())
    assert (run_dir / "report" / "reliability.png").stat().st_size > 1000
