"""Calibrated confidence: temperature scaling lowers the calibration error of an
over-confident model, training fits and saves the temperature, reports show it, and
"not sure" answers replace a class below the chosen probability."""
from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file, save_file

from engine.use import calibration as cal
from run_factory import train_short

pytestmark = pytest.mark.usefixtures("isolated_home")


def _over_confident(n: int = 2000, classes: int = 5, seed: int = 0):
    """Labels drawn from softmax(z) (so softmax(z) is calibrated), logits 4 * z: the same
    ranking, far too sure."""
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, classes, generator=g) * 1.5
    labels = torch.multinomial(z.softmax(-1), 1, generator=g)[:, 0]
    return z * 4.0, labels


def test_temperature_scaling_lowers_the_calibration_error():
    logits, labels = _over_confident()
    t = cal.fit_temperature(logits, labels)
    assert t == pytest.approx(4.0, rel=0.15)  # it undoes the over-confidence
    before = cal.expected_calibration_error(logits.softmax(-1), labels)
    after = cal.expected_calibration_error((logits / t).softmax(-1), labels)
    assert before > 0.15 and after < before / 3
    summary = cal.calibration_summary(logits, labels)
    assert summary["ece_after"] < summary["ece_before"] and summary["nll_after"] < summary["nll_before"]
    probs = (logits / t).softmax(-1)
    assert torch.allclose(cal.uncalibrated(probs, t), logits.softmax(-1), atol=1e-5)
    bins = cal.reliability(probs, labels)
    assert sum(b["count"] for b in bins) == len(labels) and len(bins) == cal.BINS
    assert (probs.argmax(-1) == logits.argmax(-1)).all()  # the winners never change


def test_degenerate_inputs_keep_temperature_one():
    assert cal.fit_temperature(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long)) == 1.0
    t = cal.fit_temperature(torch.tensor([[50.0, -50.0]] * 4), torch.tensor([0, 0, 0, 0]))
    assert cal.T_RANGE[0] <= t <= cal.T_RANGE[1]
    # no mistake to learn from: sharpening towards T -> 0 would be fitting noise
    right = torch.tensor([[2.0, 0.0], [0.0, 1.0], [3.0, 1.0]])
    assert cal.fit_temperature(right, torch.tensor([0, 1, 0])) == 1.0


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_clip_dir, learnable_split_dir):
    # seed 2: a run whose fitted temperature helps on held-out validation images, so it is
    # kept (test_calibration_decision.py has one where it does not)
    return train_short(tmp_path_factory, tiny_clip_dir, learnable_split_dir, precision="fp32",
                       seed=2)


def test_training_fits_and_saves_the_temperature(trained):
    from pathlib import Path

    run_dir = Path(trained[-1].run_dir)
    run = json.loads((run_dir / "run.json").read_text())
    summary = run["calibration"]
    t = summary["temperature"]
    assert summary["fitted_on"] == "val" and summary["images"] > 0 and t > 0
    assert summary["status"] == cal.CALIBRATED and t != 1.0
    # both lowered on held-out images (cross-validated), and on the images it was fitted on
    assert summary["ece_after"] < summary["ece_before"]
    assert summary["nll_after"] < summary["nll_before"]
    assert summary["ece_fitted"] < summary["ece_before"]
    for head in (run_dir / "head.safetensors", run_dir / "checkpoints" / "best" / "head.safetensors"):
        assert float(load_file(str(head))["temperature"]) == pytest.approx(t, rel=1e-5)
    logs = [e.message for e in trained if e.kind == "log" and "Calibrated" in e.message]
    assert len(logs) == 1 and f"temperature {t:.2f}" in logs[0]
    assert (f"expected calibration error on held-out images {summary['ece_before']:.1%} -> "
            f"{summary['ece_after']:.1%}") in logs[0]
    report = json.loads((run_dir / "report" / "report.json").read_text())
    assert report["calibration"]["temperature"] == pytest.approx(t, rel=1e-5)
    assert report["calibration"]["status"] == cal.CALIBRATED
    assert report["calibration"]["fit"] == summary  # what training decided, in the report
    assert {"ece", "ece_before", "reliability", "reliability_before"} <= set(report["calibration"])
    assert (run_dir / "report" / "reliability.png").stat().st_size > 1000


def test_predictor_divides_by_the_temperature(trained, learnable_split_dir):
    from pathlib import Path

    from engine.use.predict import Predictor

    run_dir = Path(trained[-1].run_dir)
    predictor = Predictor(run_dir, device="cpu", precision="fp32")
    t = predictor.temperature
    images = torch.stack([torch.from_numpy(predictor.decode(str(p)))
                          for p in sorted((learnable_split_dir / "test").rglob("*.jpg"))[:4]])
    probs = predictor.probabilities(images)
    predictor.model.head.temperature.fill_(1.0)
    raw = predictor.probabilities(images)
    assert torch.allclose(cal.uncalibrated(probs, t), raw, atol=1e-4)


def test_not_sure_below_the_chosen_probability(run, learnable_split_dir, tmp_path):
    from engine.use.predict import NOT_SURE, Predictor, export_predictions

    images = sorted(str(p) for p in (learnable_split_dir / "test").rglob("*.jpg"))[:6]
    always = Predictor(run, device="cpu", not_sure_below=1.01).predict(images)
    assert all(p.label == NOT_SURE and p.not_sure and p.best_guess for p in always)
    never = Predictor(run, device="cpu").predict(images)
    assert not any(p.not_sure for p in never)
    assert [p.best_guess for p in always] == [p.label for p in never]
    rows = export_predictions(always, tmp_path / "p.csv").read_text().splitlines()
    assert rows[0].split(",")[:6] == ["source", "label", "confidence", "low_confidence", "error",
                                     "best_guess"]
    assert all(r.split(",")[1] == NOT_SURE for r in rows[1:])


def test_heads_without_a_temperature_still_load_and_bad_ones_are_damage(run, tmp_path):
    import shutil

    from engine.errors import DamagedRunError
    from engine.use.predict import Predictor

    copy = tmp_path / "old-run"
    shutil.copytree(run, copy)
    head = load_file(str(copy / "head.safetensors"))
    save_file({k: v for k, v in head.items() if k != "temperature"}, str(copy / "head.safetensors"))
    assert Predictor(copy, device="cpu").temperature == 1.0
    save_file({**head, "temperature": torch.tensor([0.0])}, str(copy / "head.safetensors"))
    with pytest.raises(DamagedRunError, match="head.safetensors.*temperature"):
        Predictor(copy, device="cpu")


def test_predict_cli_says_not_sure(run, learnable_split_dir, capsys):
    from run_factory import run_cli

    images = sorted(str(p) for p in (learnable_split_dir / "test").rglob("*.jpg"))[:2]
    capsys.readouterr()
    assert run_cli(["predict", str(run), *images, "--not-sure-below", "1.0",
                    "--device", "cpu"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and all("not sure (none of the classes fits well" in ln for ln in lines)
