"""Heat maps (Grad-CAM through captum) for ViT towers: the tiny test model, the demo model,
and `predict --explain DIR`."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from run_factory import run_cli, train_short

pytestmark = pytest.mark.usefixtures("isolated_home")


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, tiny_clip_dir, learnable_split_dir) -> Path:
    return Path(train_short(tmp_path_factory, tiny_clip_dir, learnable_split_dir)[-1].run_dir)


def _images(folder: Path, n: int = 4) -> list[str]:
    return sorted(str(p) for p in (folder / "test").rglob("*.jpg"))[:n]


def _check(explanations, predictor, images):
    from engine.use.explain import overlay

    assert [e.source for e in explanations] == images
    predicted = [p.label for p in predictor.predict(images)]
    assert [e.label for e in explanations] == predicted
    size = predictor.info.image_size
    for e in explanations:
        assert e.heat.shape == (size, size) and 0.0 <= e.heat.min() and e.heat.max() <= 1.0
        assert e.crop.size == (size, size)
        picture = overlay(e, size=96)
        assert picture.size == (96, 96) and picture.mode == "RGB"
    lit = sum(e.heat.max() == pytest.approx(1.0) for e in explanations)
    assert lit >= 0.75 * len(explanations)  # each map is scaled to its peak: it shows where


def test_tiny_model_heat_maps_leave_the_model_as_it_was(tiny_run, learnable_split_dir):
    from engine.use.explain import explain
    from engine.use.predict import Predictor

    predictor = Predictor(tiny_run, device="cpu")
    images = _images(learnable_split_dir, 8)
    block = predictor.model.family.blocks(predictor.model.vision)[-1]
    assert block is predictor.model.vision.vision_model.encoder.layers[-1]
    norm = block.layer_norm1
    before = [p.top for p in predictor.predict(images)]
    explanations = explain(predictor, images)
    assert block.layer_norm1 is norm  # the Grad-CAM view is removed again
    assert [p.top for p in predictor.predict(images)] == before
    _check(explanations, predictor, images)
    other = explain(predictor, images[:1], targets=[1])
    assert other[0].label == predictor.class_names[1]


def test_demo_model_heat_maps(tmp_path, tmp_path_factory, learnable_split_dir):
    from engine.demo.model import ensure_demo_model
    from engine.use.explain import explain
    from engine.use.predict import Predictor

    run_dir = train_short(tmp_path_factory, ensure_demo_model(tmp_path / "demo"),
                          learnable_split_dir)[-1].run_dir
    predictor = Predictor(run_dir, device="cpu")
    images = _images(learnable_split_dir, 8)
    _check(explain(predictor, images), predictor, images)


def test_predict_explain_writes_overlays_and_leaves_inputs_alone(tiny_run, learnable_split_dir,
                                                                 tmp_path, capsys):
    images = _images(learnable_split_dir, 3)
    before = {p: Path(p).read_bytes() for p in images}
    out = tmp_path / "why"
    assert run_cli(["predict", str(tiny_run), *images, "--explain", str(out),
                    "--device", "cpu"]) == 0
    written = sorted(out.glob("*.png"))
    assert len(written) == 3 and "saved 3 heat maps" in capsys.readouterr().out
    for png in written:
        with Image.open(png) as img:
            assert img.size == (448, 448) and len(np.unique(np.asarray(img))) > 20
    assert {p: Path(p).read_bytes() for p in images} == before
    assert run_cli(["predict", str(tiny_run), *images, "--explain", str(out),
                    "--device", "cpu"]) == 0
    assert len(list(out.glob("*.png"))) == 6  # a second run never overwrites the first
