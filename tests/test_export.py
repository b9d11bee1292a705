"""Export: a merged model folder usable with transformers alone, and optional ONNX."""
from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

import pytest
import torch
from PIL import Image

from run_factory import copy_run, read_json, run_cli


pytestmark = pytest.mark.usefixtures("isolated_home")  # `run`, `predictor`: conftest


@pytest.fixture(scope="module")
def exported(run, tmp_path_factory):
    from engine.use.export import export_run

    return export_run(run, tmp_path_factory.mktemp("export") / "dogs-model").folder


def _paths(root: Path) -> list[str]:
    return sorted(str(p) for p in (root / "test").rglob("*.jpg"))


def _head_probs(head: dict, emb: torch.Tensor) -> torch.Tensor:
    logits = (head["scale"] * torch.nn.functional.normalize(emb, dim=-1) @ head["weight"].T
              + head["bias"]) / head.get("temperature", 1.0)
    return logits.softmax(-1)


def test_export_folder_loads_with_transformers_alone(exported, predictor, learnable_split_dir):
    from safetensors import safe_open
    from safetensors.torch import load_file
    from transformers import CLIPImageProcessor, CLIPVisionModelWithProjection

    assert sorted(p.name for p in exported.iterdir()) == [
        "README.txt", "config.json", "head.safetensors", "labels.json", "lora_studio_export.json",
        "model.safetensors", "preprocessor_config.json"]
    assert len({p.stat().st_mode for p in exported.iterdir()}) == 1  # no owner-only weights
    with safe_open(str(exported / "model.safetensors"), "pt") as f:
        keys = list(f.keys())
    assert keys and not [k for k in keys if "lora" in k or "base_layer" in k]  # merged
    labels = read_json(exported / "labels.json")
    assert labels == {str(i): n for i, n in enumerate(predictor.class_names)}

    model = CLIPVisionModelWithProjection.from_pretrained(exported).eval()
    assert model.config.id2label == dict(enumerate(predictor.class_names))
    head = load_file(str(exported / "head.safetensors"))
    paths = _paths(learnable_split_dir)
    images = torch.stack([torch.from_numpy(predictor.decode(p)) for p in paths])
    expected = predictor.probabilities(images)
    with torch.no_grad():  # the app's own pixels: identical numbers
        emb = model(pixel_values=predictor.augmenter.eval_batch(images)).image_embeds
    torch.testing.assert_close(_head_probs(head, emb), expected, atol=1e-5, rtol=1e-4)

    processor = CLIPImageProcessor.from_pretrained(exported)
    with torch.no_grad():  # transformers' own preprocessing: same framing, other resampling
        batch = processor(images=[Image.open(p).convert("RGB") for p in paths], return_tensors="pt")
        probs = _head_probs(head, model(**batch).image_embeds)
    assert (probs - expected).abs().max() < 0.08
    assert (probs.argmax(-1) == expected.argmax(-1)).float().mean() >= 0.9


def test_readme_snippet_runs_as_written(exported, predictor, learnable_split_dir, tmp_path,
                                        monkeypatch):
    text = (exported / "README.txt").read_text(encoding="utf-8")
    code = text[text.index("import torch"):]
    assert len(code.strip().splitlines()) <= 10
    photo = tmp_path / "photo.jpg"
    Image.open(_paths(learnable_split_dir)[-1]).save(photo)
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.txt", "exec"), {})
    label, probability = out.getvalue().strip().rsplit(" ", 1)
    expected = predictor.predict([str(photo)], top_k=1)[0]
    assert label == expected.label and float(probability) == pytest.approx(expected.confidence,
                                                                          abs=0.08)


def test_export_never_overwrites(run, tmp_path):
    from engine.errors import UserError
    from engine.use.export import export_run

    target = tmp_path / "taken"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    with pytest.raises(UserError, match="not an empty folder"):
        export_run(run, target)
    assert [p.name for p in target.iterdir()] == ["keep.txt"]
    empty = tmp_path / "empty-is-fine"
    empty.mkdir()
    assert (export_run(run, empty).folder / "model.safetensors").is_file()


def test_export_refuses_a_run_with_pickled_weights(run, tmp_path):
    from engine.use.export import export_run
    from engine.model.classifier import ModelLoadError

    evil = copy_run(run, tmp_path / "evil")
    (evil / "adapter" / "adapter_model.safetensors").rename(evil / "adapter" / "adapter_model.bin")
    with pytest.raises(ModelLoadError, match="safetensors"):
        export_run(evil, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_onnx_needs_onnx_package(run, tmp_path, monkeypatch):
    from engine.errors import UserError
    from engine.use.export import export_run

    monkeypatch.setitem(sys.modules, "onnx", None)  # as if not installed
    with pytest.raises(UserError, match="pip install onnx"):
        export_run(run, tmp_path / "out", onnx=True)
    assert not (tmp_path / "out").exists()


def test_onnx_export_matches_predictor(run, predictor, learnable_split_dir, tmp_path):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from engine.use.export import export_run

    result = export_run(run, tmp_path / "with-onnx", onnx=True)
    session = ort.InferenceSession(str(result.onnx_path), providers=["CPUExecutionProvider"])
    paths = _paths(learnable_split_dir)[:3]  # batch size differs from the export's dummy
    images = torch.stack([torch.from_numpy(predictor.decode(p)) for p in paths])
    pixels = predictor.augmenter.eval_batch(images).numpy()
    (probs,) = session.run(["probabilities"], {"pixel_values": pixels})
    torch.testing.assert_close(torch.from_numpy(probs), predictor.probabilities(images),
                               atol=1e-4, rtol=1e-3)


def test_cli_export(run, tmp_path, capsys):
    assert run_cli(["export", str(run), "--output", str(tmp_path / "cli-export")]) == 0
    assert "Exported to" in capsys.readouterr().out
    assert (tmp_path / "cli-export" / "model.safetensors").is_file()
