"""Predictor: same numbers as plain peft, batching, per-file errors, refusals, safe loading."""
from __future__ import annotations

import csv
import json
import pickle
import shutil
import sys
from pathlib import Path

import pytest
import torch
from PIL import Image

from run_factory import copy_run, read_json, run_cli


pytestmark = pytest.mark.usefixtures("isolated_home")  # `run`, `predictor`: conftest


def _test_images(root: Path) -> list[str]:
    return sorted(str(p) for p in (root / "test").rglob("*.jpg"))


def _pixels(predictor, paths) -> torch.Tensor:
    images = torch.stack([torch.from_numpy(predictor.decode(p)) for p in paths])
    return predictor.augmenter.eval_batch(images)


def _probs_with(vision, head, pixels) -> torch.Tensor:
    with torch.no_grad():
        emb = vision(pixel_values=pixels).image_embeds
    logits = (head["scale"] * torch.nn.functional.normalize(emb, dim=-1) @ head["weight"].T
              + head["bias"]) / head.get("temperature", 1.0)
    return logits.softmax(-1)


def _same_top(a, b) -> bool:
    return [n for n, _ in a.top] == [n for n, _ in b.top] and \
        [p for _, p in a.top] == pytest.approx([p for _, p in b.top], abs=1e-5)


@pytest.mark.filterwarnings("ignore:.*is_gradient_checkpointing:FutureWarning")
def test_saved_adapter_loads_with_plain_peft_and_matches_predictor(run, predictor, tiny_clip_dir,
                                                                   learnable_split_dir):
    from peft import PeftModel
    from safetensors.torch import load_file
    from transformers import CLIPVisionModelWithProjection

    paths = _test_images(learnable_split_dir)[:10]
    pixels = _pixels(predictor, paths)
    head = load_file(str(run / "head.safetensors"))
    base = CLIPVisionModelWithProjection.from_pretrained(tiny_clip_dir).eval()
    without_adapter = _probs_with(base, head, pixels)
    plain = PeftModel.from_pretrained(base, str(run / "adapter")).eval()
    expected = _probs_with(plain, head, pixels)

    ours = predictor.probabilities(torch.stack([torch.from_numpy(predictor.decode(p)) for p in paths]))
    torch.testing.assert_close(ours, expected, atol=1e-5, rtol=1e-4)
    # The adapter is not a no-op, so the comparison above really checks it was applied.
    assert (expected - without_adapter).abs().max() > 1e-3
    tops = predictor.predict(paths, top_k=1)
    assert [p.label for p in tops] == [predictor.class_names[i] for i in expected.argmax(-1)]


def test_unmerged_adapter_gives_the_same_probabilities(run, predictor, learnable_split_dir):
    from engine.use.predict import Predictor

    paths = _test_images(learnable_split_dir)[:6]
    images = torch.stack([torch.from_numpy(predictor.decode(p)) for p in paths])
    unmerged = Predictor(run, device="cpu", merge=False, precision="fp32")
    torch.testing.assert_close(unmerged.probabilities(images), predictor.probabilities(images),
                               atol=1e-5, rtol=1e-4)


def test_predictions_are_accurate_on_learnable_data(predictor, learnable_split_dir):
    paths = _test_images(learnable_split_dir)
    preds = predictor.predict(paths, top_k=3)
    truth = [Path(p).parent.name.replace("_", " ") for p in paths]
    accuracy = sum(p.label == t for p, t in zip(preds, truth)) / len(paths)
    assert accuracy >= 0.6  # 3 classes: chance is 0.33
    for p in preds:
        probs = [prob for _, prob in p.top]
        assert probs == sorted(probs, reverse=True) and abs(sum(probs) - 1) < 1e-4


def test_mixed_inputs_keep_order_and_report_bad_files(predictor, learnable_split_dir, tmp_path):
    images = _test_images(learnable_split_dir)
    png = tmp_path / "picture.png"
    Image.open(images[0]).save(png)
    broken = tmp_path / "broken.jpg"
    broken.write_text("not an image")
    folder = learnable_split_dir / "val" / "red_circle"
    pil = Image.open(png)
    pil.load()
    inputs = [str(png), folder, pil, str(tmp_path / "missing.jpg"), str(broken)]

    preds = predictor.predict(inputs, top_k=2, batch_size=4)
    n_folder = len(list(folder.glob("*.jpg")))
    assert len(preds) == 1 + n_folder + 3
    assert preds[0].source == str(png) and not preds[0].error and len(preds[0].top) == 2
    assert all(Path(p.source).parent == folder for p in preds[1:1 + n_folder])
    from_pil = preds[1 + n_folder]
    assert _same_top(from_pil, preds[0])  # same pixels, from a file or a PIL image
    missing, bad = preds[-2], preds[-1]
    assert "not found" in missing.error and missing.top == [] and not missing.low_confidence
    assert "not a picture" in bad.error and bad.top == []


def test_top_k_is_capped_and_progress_and_stop_work(predictor, learnable_split_dir):
    from engine.training.control import TrainControl

    paths = _test_images(learnable_split_dir)[:10]
    assert all(len(p.top) == 3 for p in predictor.predict(paths[:2], top_k=50))
    seen = []
    predictor.predict(paths, batch_size=4, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(0, 10), (4, 10), (8, 10), (10, 10)]

    control = TrainControl()

    def stop_after_first_batch(done, total):
        if done >= 4:
            control.stop()

    partial = predictor.predict(paths, batch_size=4, progress=stop_after_first_batch,
                                control=control)
    assert len(partial) == 4


def test_low_confidence_flag():
    from engine.use.predict import Prediction

    assert Prediction("a.jpg", [("cat", 0.45), ("dog", 0.40)]).low_confidence
    assert not Prediction("a.jpg", [("cat", 0.9), ("dog", 0.1)]).low_confidence
    assert Prediction("a.jpg", [("cat", 0.9)], threshold=0.95).low_confidence
    assert not Prediction("a.jpg", [], error="unreadable").low_confidence


def test_export_predictions_csv_and_json(tmp_path):
    from engine.errors import UserError
    from engine.use.predict import Prediction, export_predictions

    preds = [Prediction("a.jpg", [("cat", 0.7), ("dog", 0.2), ("fox", 0.1)]),
             Prediction("b.jpg", [("dog", 0.4), ("cat", 0.35), ("fox", 0.25)]),
             Prediction("c.txt", [], error="not a picture file")]
    with open(export_predictions(preds, tmp_path / "out.csv"), newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["source"] for r in rows] == ["a.jpg", "b.jpg", "c.txt"]
    assert rows[0]["label"] == "cat" and float(rows[0]["confidence"]) == pytest.approx(0.7)
    assert rows[1]["low_confidence"] == "1" and rows[1]["label_3"] == "fox"
    assert rows[2]["error"] == "not a picture file" and rows[2]["label"] == ""
    data = read_json(export_predictions(preds, tmp_path / "out.json"))
    assert data[1]["top"][1] == {"label": "cat", "probability": 0.35}
    assert data[1]["low_confidence"] is True and data[2]["error"]
    with pytest.raises(UserError, match=r"\.csv or \.json"):
        export_predictions(preds, tmp_path / "out.xlsx")


def test_expand_inputs_walks_folders(tmp_path):
    from engine.use.predict import expand_inputs

    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / ".hidden").mkdir()
    for name in ("a/1.jpg", "a/b/2.PNG", "a/notes.txt", "a/.hidden/3.jpg", "a/.4.jpg"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "empty").mkdir()
    images, problems = expand_inputs([tmp_path / "a", tmp_path / "empty", tmp_path / "nope.jpg",
                                      tmp_path / "a" / "notes.txt"])
    assert images == [str(tmp_path / "a/1.jpg"), str(tmp_path / "a/b/2.PNG"),
                      str(tmp_path / "a/notes.txt")]
    assert [(Path(p.path).name, p.reason) for p in problems] == [
        ("empty", "no images in this folder"), ("nope.jpg", "file not found (moved or deleted?)")]


# --- refusing runs that cannot match --------------------------------------------------------
def _set_base(run_dir: Path, **changes) -> None:
    meta = read_json(run_dir / "run.json")
    meta["base_model"].update(changes)
    (run_dir / "run.json").write_text(json.dumps(meta), encoding="utf-8")


def test_refuses_missing_base_model_and_class_mismatch(run, tmp_path):
    from engine.model.classifier import ModelLoadError
    from engine.use.predict import Predictor

    gone = copy_run(run, tmp_path / "gone")
    _set_base(gone, ref=str(tmp_path / "no-such-model"))
    with pytest.raises(ModelLoadError, match="no-such-model"):
        Predictor(gone, device="cpu")
    extra = copy_run(run, tmp_path / "extra")
    meta = read_json(extra / "run.json")
    meta["class_names"].append("unicorn")
    (extra / "run.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ModelLoadError, match="4 classes"):
        Predictor(extra, device="cpu")
    with pytest.raises(ModelLoadError, match="run.json is missing"):
        Predictor(tmp_path, device="cpu")


def test_refuses_other_base_models_and_warns_on_changed_files(run, tmp_path, tiny_clip_dir):
    from engine.demo.model import make_tiny_clip
    from engine.model.classifier import ModelLoadError
    from engine.use.predict import Predictor

    narrow = copy_run(run, tmp_path / "narrow")
    _set_base(narrow, ref=str(make_tiny_clip(tmp_path / "clip8", projection_dim=8)))
    with pytest.raises(ModelLoadError, match="8-dim"):
        Predictor(narrow, device="cpu")
    bigger = copy_run(run, tmp_path / "bigger")
    _set_base(bigger, ref=str(make_tiny_clip(tmp_path / "clip48", image_size=48)))
    with pytest.raises(ModelLoadError, match="48 px"):
        Predictor(bigger, device="cpu")

    same = shutil.copytree(tiny_clip_dir, tmp_path / "clip-copy")
    moved = copy_run(run, tmp_path / "moved")
    _set_base(moved, ref=str(same))
    assert Predictor(moved, device="cpu").warnings == []
    config = read_json(same / "config.json")
    config["note"] = "edited"
    (same / "config.json").write_text(json.dumps(config), encoding="utf-8")
    assert "not byte-identical" in Predictor(moved, device="cpu").warnings[0]


def test_linear_probe_run_without_adapter(tmp_path, tiny_clip_dir, learnable_split_dir):
    from engine.use.predict import Predictor
    from run_factory import make_run

    probe = make_run(tmp_path / "probe", tiny_clip_dir, learnable_split_dir, method="linear-probe")
    assert not (probe / "adapter").exists()
    preds = Predictor(probe, device="cpu").predict(_test_images(learnable_split_dir)[:3])
    assert all(p.top and not p.error for p in preds)


# --- a run folder from a stranger must not run code ------------------------------------------
class _Payload:
    """Unpickling this writes a marker file: proof that code ran."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('pwned')",))


def _plant(path: Path, marker: Path) -> None:
    torch.save({"weight": _Payload(marker)}, path)
    assert path.read_bytes()[:2] == b"PK"  # a real torch checkpoint (zip of pickles)


def test_pickles_next_to_safetensors_are_ignored(run, tmp_path, predictor, learnable_split_dir):
    from engine.use.predict import Predictor

    marker = tmp_path / "PWNED"
    evil = copy_run(run, tmp_path / "evil")
    for name in ("adapter/adapter_model.bin", "head.pt", "head.bin", "pytorch_model.bin",
                 "checkpoints/last/state.pt"):
        (evil / name).parent.mkdir(parents=True, exist_ok=True)
        _plant(evil / name, marker)
    paths = _test_images(learnable_split_dir)[:4]
    preds = Predictor(evil, device="cpu", precision="fp32").predict(paths)
    assert not marker.exists()
    assert all(_same_top(a, b) for a, b in zip(preds, predictor.predict(paths)))


def test_pickles_instead_of_safetensors_are_refused(run, tmp_path):
    from engine.model.classifier import ModelLoadError
    from engine.use.predict import Predictor

    marker = tmp_path / "PWNED"
    no_adapter = copy_run(run, tmp_path / "a")
    (no_adapter / "adapter" / "adapter_model.safetensors").unlink()
    _plant(no_adapter / "adapter" / "adapter_model.bin", marker)
    with pytest.raises(ModelLoadError, match="only loads weights saved as safetensors"):
        Predictor(no_adapter, device="cpu")
    no_head = copy_run(run, tmp_path / "h")
    (no_head / "head.safetensors").unlink()
    _plant(no_head / "head.pt", marker)
    with pytest.raises(ModelLoadError, match="head.safetensors"):
        Predictor(no_head, device="cpu")
    assert not marker.exists()
    # The payload is live: unpickling it the unsafe way would have left the marker.
    with pytest.raises(pickle.UnpicklingError):
        torch.load(no_head / "head.pt", weights_only=True)
    torch.load(no_head / "head.pt", weights_only=False)
    assert marker.read_text() == "pwned"


@pytest.mark.parametrize("change", [
    {"megatron_config": {"tensor_model_parallel_size": 1}, "megatron_core": "evil_mod"},
    {"auto_mapping": {"base_model_class": "run", "parent_library": "evil_mod"}},
    {"init_lora_weights": "loftq", "loftq_config": {"loftq_bits": 4}},
    {"peft_type": "PROMPT_TUNING"},
])
def test_adapter_config_cannot_trigger_code(run, tmp_path, monkeypatch, change):
    from engine.model.classifier import ModelLoadError
    from engine.use.predict import Predictor

    marker = tmp_path / "PWNED"
    (tmp_path / "mods").mkdir()
    (tmp_path / "mods" / "evil_mod.py").write_text(f"open({str(marker)!r}, 'w').write('x')\n")
    monkeypatch.syspath_prepend(str(tmp_path / "mods"))
    monkeypatch.delitem(sys.modules, "evil_mod", raising=False)
    evil = copy_run(run, tmp_path / "evil")
    cfg_path = evil / "adapter" / "adapter_config.json"
    cfg_path.write_text(json.dumps({**read_json(cfg_path), **change}), encoding="utf-8")
    with pytest.raises(ModelLoadError, match="refused|not hold a LoRA adapter"):
        Predictor(evil, device="cpu")
    assert not marker.exists()


def test_cli_predict_writes_results_and_flags_failures(run, learnable_split_dir, tmp_path, capsys):
    out = tmp_path / "results.json"
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a JPEG")
    code = run_cli(["predict", str(run), str(learnable_split_dir / "test" / "red_circle"),
                    str(tmp_path / "broken.jpg"), "--top-k", "2", "--output", str(out)])
    printed = capsys.readouterr()
    assert code == 1  # one input could not be predicted
    assert "broken.jpg: cannot predict" in printed.out and "red circle" in printed.out
    data = read_json(out)
    assert len(data) == 9 and all(len(d["top"]) == 2 for d in data[:8])
    assert run_cli(["predict", str(run), str(learnable_split_dir / "test" / "red_circle")]) == 0
