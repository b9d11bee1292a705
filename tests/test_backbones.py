"""Every backbone family trains, resumes, predicts, exports and reloads through the same
code path, from a tiny random checkpoint written with save_pretrained (as the CLIP tests
do), and its adapter loads with plain peft."""
from __future__ import annotations

import json

import pytest

from engine.training.resume import resume_request
import torch

from run_factory import _embed_train_images, train_short

pytestmark = pytest.mark.usefixtures("isolated_home")

FAMILIES = ["clip", "siglip", "dinov2"]


@pytest.fixture(scope="module")
def family_dirs(tmp_path_factory, tiny_clip_dir):
    from engine.demo.tiny_backbones import make_tiny_dinov2, make_tiny_siglip

    return {"clip": tiny_clip_dir,
            "siglip": make_tiny_siglip(tmp_path_factory.mktemp("tiny_siglip")),
            "dinov2": make_tiny_dinov2(tmp_path_factory.mktemp("tiny_dinov2"))}


@pytest.fixture(scope="module")
def family_runs(tmp_path_factory, family_dirs, learnable_split_dir):
    """One short real run per family (LoRA on q/v + out_proj, 3 epochs), and its events."""
    runs = {}
    for name, folder in family_dirs.items():
        events = train_short(tmp_path_factory, folder, learnable_split_dir, precision="fp32",
                             num_threads=1, target_modules=["q_proj", "v_proj", "out_proj"])
        runs[name] = events
    return runs


def _run_dir(events):
    return next(e.run_dir for e in events if e.kind == "run_started")


def test_each_checkpoint_is_recognised_as_its_family(family_dirs):
    from engine.model.backbones import family_of

    assert {name: family_of(str(folder)).name for name, folder in family_dirs.items()} == \
        {"clip": "clip", "siglip": "siglip", "dinov2": "dinov2"}


def test_an_unknown_architecture_gets_a_clear_message(tmp_path):
    from transformers import BertConfig

    from engine.errors import ModelLoadError
    from engine.model.backbones import family_of

    BertConfig(hidden_size=8, num_hidden_layers=1, num_attention_heads=1,
               intermediate_size=8).save_pretrained(tmp_path)
    with pytest.raises(ModelLoadError, match="bert.*CLIP"):
        family_of(str(tmp_path))


@pytest.mark.parametrize("family", FAMILIES)
def test_the_block_split_computes_the_same_embedding(family_dirs, family):
    """front -> blocks -> back (the frozen-block cache's path) equals the tower's embedding."""
    from engine.model.backbones import by_name, run_block

    fam = by_name(family)
    full, _processor = fam.load(str(family_dirs[family]))
    vision = fam.vision_from_full(full).eval()
    pixels = torch.randn(3, 3, 32, 32)
    hidden = fam.front(vision, pixels)
    for block in fam.blocks(vision):
        hidden = run_block(block, hidden)
    torch.testing.assert_close(fam.back(vision, hidden), fam.embed(vision, pixels),
                               rtol=1e-5, atol=1e-5)


def test_siglip_zero_shot_head_gives_siglips_own_logits(family_dirs):
    """scale and bias from SigLIP: the head's logits are the model's logits_per_image."""
    from engine.model.backbones import by_name
    from engine.model.classifier import build_classifier

    names = ["red circle", "green square"]
    classifier, info = build_classifier(str(family_dirs["siglip"]), names, method="linear-probe",
                                        templates=("a photo of a {}.",))
    fam = by_name("siglip")
    full, processor = fam.load(str(family_dirs["siglip"]))
    pixels = torch.randn(2, 3, 32, 32)
    tokens = processor.tokenizer([f"a photo of a {n}." for n in names], return_tensors="pt",
                                 padding="max_length", truncation=True,
                                 max_length=full.config.text_config.max_position_embeddings)
    with torch.no_grad():
        expected = full(pixel_values=pixels, **tokens).logits_per_image
        got = classifier.eval()(pixels)
    assert info.family == "siglip" and info.logit_scale == pytest.approx(float(full.logit_scale.detach().exp()))
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_trains_and_records_its_family(family_runs, family):
    from engine.safe_read import read_json

    events = family_runs[family]
    run = read_json(f"{_run_dir(events)}/run.json")
    assert run["base_model"]["family"] == family
    finished = events[-1]
    assert finished.status == "completed" and finished.best_val_accuracy > 0.34  # above chance
    step0 = next(e for e in events if e.kind == "evaluation" and e.step == 0)
    assert step0.zero_shot == (family != "dinov2")  # DINOv2 has no text: prototype head


def test_dinov2_step0_is_nearest_centroid_accuracy(family_runs, family_dirs, learnable_split_dir):
    from engine.data.index import scan_dataset
    from engine.model.classifier import build_classifier, class_prototypes

    step0 = next(e for e in family_runs["dinov2"] if e.kind == "evaluation" and e.step == 0)
    index = scan_dataset(learnable_split_dir)
    model, info = build_classifier(str(family_dirs["dinov2"]), index.class_names,
                                   head_init="random", method="linear-probe")
    model.eval()
    train, val = index.split("train"), index.split("val")
    centroids, present = class_prototypes(
        _embed_train_images(model, info, [s.path for s in train]),
        torch.tensor([s.label for s in train]), len(index.classes))
    val_emb = _embed_train_images(model, info, [s.path for s in val])
    predicted = (val_emb @ centroids.T).argmax(-1)
    expected = int((predicted == torch.tensor([s.label for s in val])).sum()) / len(val)
    assert step0.accuracy == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("family", FAMILIES)
def test_plain_peft_loads_each_adapter_and_predicts_the_same(family_runs, family_dirs,
                                                             learnable_split_dir, family):
    from peft import PeftModel

    from engine.model.backbones import by_name
    from engine.use.predict import Predictor

    run_dir = _run_dir(family_runs[family])
    predictor = Predictor(run_dir, device="cpu", precision="fp32")
    images = sorted((learnable_split_dir / "test").rglob("*.jpg"))[:4]
    predictions = predictor.predict([str(p) for p in images])
    assert all(not p.error for p in predictions)

    fam = by_name(family)
    plain = PeftModel.from_pretrained(fam.load_vision(str(family_dirs[family])), f"{run_dir}/adapter")
    pixels = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        theirs = fam.embed(plain.eval(), pixels)
        ours = predictor.model.embed(pixels.to(predictor.device))
    torch.testing.assert_close(ours.float(), theirs.float(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_resumes_with_the_frozen_block_cache(tmp_path, family, family_dirs,
                                                         learnable_split_dir):
    """LoRA on the last block, the first one cached: stopped mid-run, then resumed."""
    from engine.config import TrainConfig
    from engine.events import RunStarted, Step
    from engine.training.control import TrainControl
    from engine.training.loop import train

    config = TrainConfig(data_dir=str(learnable_split_dir), model=str(family_dirs[family]),
                         output_dir=str(tmp_path / "runs"), epochs=2, batch_size=16, lr=5e-3,
                         device="cpu", num_threads=1, precision="fp32", augment=False,
                         lora_last_n_blocks=1, cache_frozen_blocks=True, early_stop_patience=0)
    control, first = TrainControl(), []
    for event in train(config, control):
        first.append(event)
        if isinstance(event, Step) and event.step == 3:
            control.stop()
    assert first[-1].status == "stopped", first[-1].error
    assert any(getattr(e, "stage", "") == "frozen" for e in first)
    second = list(train(resume_request(first[-1].run_dir, num_threads=1, precision="fp32")))
    assert second[-1].status == "completed", second[-1].error
    assert next(e for e in second if isinstance(e, RunStarted)).start_step == 3


@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_trains_a_linear_probe(tmp_path_factory, family, family_dirs,
                                           learnable_split_dir):
    events = train_short(tmp_path_factory, family_dirs[family], learnable_split_dir,
                         method="linear-probe", epochs=2, precision="fp32", num_threads=1)
    assert events[-1].best_val_accuracy > 0.34


@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_evaluates_and_explains(family_runs, family, learnable_split_dir):
    import numpy as np

    from engine.use.evaluate import evaluate_run
    from engine.use.explain import explain
    from engine.use.predict import Predictor

    run_dir = _run_dir(family_runs[family])
    report = evaluate_run(run_dir, "test")
    assert sum(map(sum, report.confusion)) == 24
    predictor = Predictor(run_dir, device="cpu", precision="fp32")
    images = sorted((learnable_split_dir / "test").rglob("*.jpg"))[:3]
    maps = explain(predictor, [str(p) for p in images])
    assert len(maps) == 3
    assert all(m.heat.shape[0] == m.heat.shape[1] and np.isfinite(m.heat).all() for m in maps)
    assert any(float(m.heat.max() - m.heat.min()) > 0 for m in maps)


@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_exports_merged_and_onnx(family_runs, tmp_path, family):
    import numpy as np
    import onnxruntime as ort
    from safetensors.torch import load_file

    from engine.model.backbones import by_name
    from engine.use.export import export_run
    from engine.use.predict import Predictor

    run_dir = _run_dir(family_runs[family])
    out = export_run(run_dir, tmp_path / "export", onnx=True).folder
    meta = json.loads((out / "lora_studio_export.json").read_text())
    assert meta["base_model"]["family"] == family
    fam = by_name(family)
    merged = fam.load_vision(str(out)).eval()
    head = load_file(str(out / "head.safetensors"))
    pixels = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        emb = torch.nn.functional.normalize(fam.embed(merged, pixels), dim=-1)
        reloaded = ((head["scale"] * emb @ head["weight"].T + head["bias"]) / head["temperature"]).softmax(-1)
        ours = Predictor(run_dir, device="cpu", precision="fp32").model(pixels).softmax(-1)
    torch.testing.assert_close(reloaded, ours, rtol=1e-4, atol=1e-4)
    onnx = ort.InferenceSession(str(out / "model.onnx")).run(None, {"pixel_values": pixels.numpy()})[0]
    assert np.allclose(onnx, ours.numpy(), atol=1e-4)
    assert fam.vision_class in (out / "README.txt").read_text(encoding="utf-8")


def test_a_run_naming_an_unknown_family_is_refused_as_damaged(family_runs, tmp_path):
    """run.json is read back only as data: a family the engine does not know is damage."""
    import shutil

    from engine.errors import ModelLoadError
    from engine.model.classifier import load_run_classifier

    run_dir = shutil.copytree(_run_dir(family_runs["clip"]), tmp_path / "run")
    meta = json.loads((run_dir / "run.json").read_text())
    meta["base_model"]["family"] = "os.system"
    (run_dir / "run.json").write_text(json.dumps(meta))
    with pytest.raises(ModelLoadError, match="base_model.family"):
        load_run_classifier(run_dir)
