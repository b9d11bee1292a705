"""Test-time augmentation (engine.use.tta): the views are the ones specified, a mirror-
symmetric picture gets the same answer with flip as without, the temperature used with a
TTA mode is the one fitted on that mode's averaged probabilities, and evaluate, predict
and serve take --tta / tta and report it; a bad value is refused plainly."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from torch.nn import functional as F

from engine.errors import UserError
from engine.use import tta, tta_fit
from engine.use.calibration import calibration_summary, fit_temperature, probabilities


def _pictures(n: int = 2, size: int = 32, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, 3, size, size), generator=g, dtype=torch.uint8)


def test_views_are_the_picture_its_mirror_and_five_crops():
    images = _pictures(size=32)
    assert torch.equal(tta.make_views(images, "off")[0], images)
    flip = tta.make_views(images, "flip")
    assert flip.shape == (2, 2, 3, 32, 32)
    assert torch.equal(flip[1], images[..., torch.arange(31, -1, -1)])
    views = tta.make_views(images, "flip+crops")
    assert views.shape == (7, 2, 3, 32, 32) and views.dtype == torch.uint8
    assert tta.crop_boxes(32) == [(0, 0, 28), (0, 4, 28), (4, 0, 28), (4, 4, 28), (2, 2, 28)]
    for view, (top, left, side) in zip(views[2:], tta.crop_boxes(32)):
        crop = images[..., top:top + side, left:left + side].float()
        want = F.interpolate(crop, size=(32, 32), mode="bilinear", antialias=True)
        assert torch.equal(view, want.round().clamp(0, 255).to(torch.uint8))
    # a crop of a flat-coloured picture is that colour: nothing shifts or darkens at the edges
    flat = torch.full((1, 3, 32, 32), 77, dtype=torch.uint8)
    assert bool((tta.make_views(flat, "flip+crops") == 77).all())
    assert [tta.VIEWS[m] for m in tta.MODES] == [1, 2, 7]


def test_a_bad_mode_is_refused_plainly():
    with pytest.raises(UserError, match="Unknown test-time augmentation 'mirror'.*flip"):
        tta.check_tta("mirror")


def test_flip_on_a_mirror_symmetric_picture_equals_no_tta(predictor):
    half = _pictures(n=3, size=predictor.resolution, seed=4)[..., :predictor.resolution // 2]
    symmetric = torch.cat([half, half.flip(-1)], dim=-1)
    assert torch.equal(symmetric, symmetric.flip(-1))
    plain = predictor.view_probabilities(symmetric)
    try:  # the same temperature for both, so only the views differ
        predictor.tta, predictor.tta_temperature = "flip", predictor.temperature
        flipped = predictor.probabilities(symmetric)
    finally:
        predictor.tta = "off"
    assert torch.allclose(flipped, plain, atol=1e-6)
    asym = _pictures(n=3, size=predictor.resolution, seed=5)
    try:
        predictor.tta = "flip"
        assert not torch.allclose(predictor.probabilities(asym),
                                  predictor.view_probabilities(asym), atol=1e-6)
    finally:
        predictor.tta = "off"


def test_the_temperature_is_fitted_on_the_view_averaged_probabilities():
    g = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 4, (400,), generator=g)
    clean = F.one_hot(labels, 4).double() * 3.0
    views = torch.stack([clean + torch.randn(400, 4, generator=g, dtype=torch.float64) * 2.5
                         for _ in range(3)])  # each view noisy alone, better averaged
    t = fit_temperature(views, labels)
    grid = torch.linspace(0.2, 5.0, 2001, dtype=torch.float64)
    nll = torch.stack([F.nll_loss(probabilities(views, s).log(), labels) for s in grid])
    assert t == pytest.approx(float(grid[int(nll.argmin())]), abs=0.01)
    assert abs(t - fit_temperature(views[0], labels)) > 0.05  # not a one-view temperature


def test_retemper_moves_probabilities_to_another_temperature():
    z = torch.randn(5, 4, generator=torch.Generator().manual_seed(2)) * 3
    assert torch.allclose(tta.retemper(F.softmax(z / 1.5, -1), 1.5, 0.7), F.softmax(z / 0.7, -1),
                          atol=1e-6)


def _tta_run(tmp_path, tiny_clip_dir):
    from engine.demo.dataset import make_demo_dataset
    from run_factory import make_run

    data = make_demo_dataset(tmp_path / "data", num_classes=3, seed=1,
                             splits={"train": 12, "val": 10, "test": 6})
    return make_run(tmp_path / "run", tiny_clip_dir, data), data


def test_tta_and_the_temperature_agree(tmp_path, tiny_clip_dir, isolated_home):
    from engine.use.backends import open_predictor

    run, _data = _tta_run(tmp_path, tiny_clip_dir)
    predictor = open_predictor(run, "torch", device="cpu", precision="fp32", tta="flip+crops")
    stored = json.loads((run / "run.json").read_text(encoding="utf-8"))["calibration"]["tta"]
    entry = stored["flip+crops"]
    assert entry["views"] == 7 and entry["fitted_on"] == "val" and entry["images"] == 30
    assert predictor.tta_temperature == pytest.approx(entry["temperature"])
    # the same decision, made again from the validation images' views, gives the same T
    probs, labels = tta_fit.val_view_probabilities(predictor, "flip+crops")
    again = calibration_summary(probs.double().log() * predictor.temperature, labels)
    assert again["temperature"] == pytest.approx(entry["temperature"])
    fitted = entry.get("tried_temperature", entry["temperature"])  # kept or not, it was fitted
    assert fit_temperature(probs.double().log() * predictor.temperature, labels) == \
        pytest.approx(fitted, rel=1e-4)
    assert entry["val_accuracy"] == pytest.approx(
        float((probs.mean(0).argmax(-1) == labels).double().mean()))
    # and predictions average the views' probabilities at exactly that temperature
    images = _pictures(n=4, size=predictor.resolution, seed=9)
    views = tta.view_probabilities(predictor, images, "flip+crops")
    want = tta.retemper(views, predictor.temperature, entry["temperature"]).mean(0)
    assert torch.allclose(predictor.probabilities(images), want, atol=1e-6)
    # a second open reads the stored temperature instead of fitting again
    reopened = open_predictor(run, "torch", device="cpu", precision="fp32", tta="flip+crops")
    assert reopened.tta_temperature == predictor.tta_temperature


def test_evaluate_predict_and_serve_take_tta_and_report_it(tmp_path, tiny_clip_dir,
                                                           isolated_home, capsys):
    from engine.serve.client import Client
    from engine.serve.config import ServeConfig
    from engine.serve.server import start_in_thread
    from engine.use.backends import open_predictor
    from run_factory import run_cli

    run, data = _tta_run(tmp_path, tiny_clip_dir)
    assert run_cli(["evaluate", str(run), "--tta", "flip", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "Test-time augmentation: flip (2 views" in out and "validation split" in out
    report = json.loads((run / "report" / "report.json").read_text(encoding="utf-8"))
    assert report["tta"]["mode"] == "flip" and "val_accuracy_off" in report["tta"]
    out_file = tmp_path / "p.json"
    assert run_cli(["predict", str(run), str(data / "test"), "--tta", "flip+crops",
                    "--backend", "torch", "--device", "cpu", "--output", str(out_file)]) == 0
    assert len(json.loads(out_file.read_text(encoding="utf-8"))) == 18
    predictor = open_predictor(run, "torch", device="cpu", tta="flip")
    server = start_in_thread(predictor, ServeConfig(port=0))
    try:
        client = Client(server.url, timeout=60)
        status, model = client.get("/v1/model")
        client.close()
    finally:
        server.stop()
    assert status == 200 and model["tta"]["mode"] == "flip" and model["tta"]["views"] == 2


@pytest.mark.parametrize("command", ["evaluate", "predict", "serve"])
def test_a_bad_tta_is_one_plain_line_and_exit_2(command, run, tmp_path, isolated_home, capsys):
    from run_factory import run_cli

    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    before = (copy / "run.json").read_bytes()
    argv = [command, str(copy), "--tta", "mirror"] + (["x.jpg"] if command == "predict" else [])
    assert run_cli(argv) == 2
    err = capsys.readouterr().err
    assert "--tta" in err and "mirror" in err and "Traceback" not in err
    assert (copy / "run.json").read_bytes() == before


def test_without_validation_images_the_run_temperature_is_used_and_said(run, tmp_path,
                                                                        isolated_home):
    from engine.use.backends import open_predictor

    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    split = json.loads((copy / "split.json").read_text(encoding="utf-8"))
    split["files"]["val"] = []  # a run made without a validation share
    (copy / "split.json").write_text(json.dumps(split), encoding="utf-8")
    predictor = open_predictor(copy, "torch", device="cpu", tta="flip")
    assert any("could not be fitted" in w and "'flip'" in w for w in predictor.warnings)
    assert predictor.tta_temperature == predictor.temperature and predictor.tta == "flip"
    stored = json.loads((copy / "run.json").read_text(encoding="utf-8"))
    assert "flip" not in (stored.get("calibration") or {}).get("tta", {})


def test_train_with_tta_fits_its_temperature_and_reports_it(learnable_split_dir, tiny_clip_dir,
                                                            isolated_home):
    from engine.config import TrainConfig
    from engine.events import Log
    from engine.training.loop import train

    config = TrainConfig(data_dir=str(learnable_split_dir), model=str(tiny_clip_dir),
                         output_dir=str(isolated_home / "runs"), method="linear-probe",
                         epochs=2, head_lr=0.05, precision="fp32", num_threads=1,
                         prompt_templates=["a photo of a {}."], augment=False, tta="flip")
    events = list(train(config))
    assert events[-1].status == "completed", events[-1].error
    run = json.loads((Path(events[-1].run_dir) / "run.json").read_text(encoding="utf-8"))
    entry = run["calibration"]["tta"]["flip"]
    assert entry["views"] == 2 and entry["images"] == 24 and "status" in run["calibration"]
    report = json.loads((Path(events[-1].run_dir) / "report" / "report.json").read_text(
        encoding="utf-8"))
    assert report["tta"] == {"mode": "flip", "views": 2, "temperature": entry["temperature"],
                             "val_accuracy_off": entry["val_accuracy_off"],
                             "val_accuracy": entry["val_accuracy"]}
    assert any(isinstance(e, Log) and e.message.startswith("Test-time augmentation: flip")
               for e in events)


def test_the_config_field_offers_exactly_the_modes():
    from engine.config import TrainConfig

    assert tuple(TrainConfig.__dataclass_fields__["tta"].metadata["choices"]) == tta.MODES
