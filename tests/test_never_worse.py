"""Never worse than the start: step 0 is a candidate for the best model.

A run whose every epoch scores below its starting head (here: a class-prototype head
wrecked by a destructive learning rate) saves the starting model (adapter at its zero
init + starting head); calibration and the test report use that saved model; a run
that improves keeps its best epoch as before.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from engine.config import TrainConfig
from engine.training.resume import resume_request
from engine.events import Evaluation, Step
from engine.training.control import TrainControl
from engine.training.loop import train
from engine.training.record import Tracker, kept_start_note

pytestmark = pytest.mark.usefixtures("isolated_home")


def _config(data_dir, model_dir, out_dir, **changes) -> TrainConfig:
    base = dict(data_dir=str(data_dir), model=str(model_dir), output_dir=str(out_dir),
                epochs=2, batch_size=16, lora_dropout=0.0, precision="fp32", num_threads=1,
                early_stop_patience=0, seed=0)
    base.update(changes)
    return TrainConfig(**base)


def _destructive(data_dir, model_dir, out_dir, **changes) -> TrainConfig:
    """A nearest-centroid start (high accuracy) that the largest allowed rates wreck."""
    return _config(data_dir, model_dir, out_dir, lr=1.0, head_lr=1.0, head_init="prototype",
                   **changes)


def _val(events) -> list[Evaluation]:
    return [e for e in events if isinstance(e, Evaluation) and e.split == "val"]


def _logs(events) -> list[str]:
    return [e.message for e in events if e.kind == "log"]


def _lora_b(folder: Path) -> dict[str, torch.Tensor]:
    tensors = load_file(str(folder / "adapter" / "adapter_model.safetensors"))
    found = {k: v for k, v in tensors.items() if "lora_B" in k}
    assert found, "the adapter holds LoRA B matrices"
    return found


def _split_pixels(predictor, run_dir: Path, split: str):
    """A split's images decoded as training decodes them (the decode cache), and labels."""
    from engine.data.cache import DecodeCache, cache_resolution
    from engine.data.index import load_split

    samples = load_split(run_dir / "split.json").split(split)
    cached = DecodeCache(cache_resolution(predictor.info.image_size),
                         framing=predictor.info.framing).load([s.path for s in samples])
    assert len(cached.kept) == len(samples)
    return cached.images, torch.tensor([samples[i].label for i in cached.kept])


def test_a_run_worse_than_its_start_saves_the_starting_model(tmp_path, learnable_split_dir,
                                                              tiny_clip_dir):
    from engine.use.calibration import calibration_summary
    from engine.use.predict import Predictor

    events = list(train(_destructive(learnable_split_dir, tiny_clip_dir, tmp_path / "runs")))
    finished = events[-1]
    assert finished.status == "completed", finished.error
    step0, *epochs = _val(events)
    assert step0.step == 0 and step0.is_best
    assert len(epochs) == 2 and all(e.accuracy < step0.accuracy for e in epochs)  # the premise
    assert not any(e.is_best for e in epochs)
    assert finished.best_epoch == 0 and finished.best_val_accuracy == step0.accuracy
    run_dir = Path(finished.run_dir)
    meta = json.loads((run_dir / "run.json").read_text())
    assert meta["best"] == {"val_accuracy": step0.accuracy, "epoch": 0, "step": 0}
    kept = [m for m in _logs(events) if m.startswith("No epoch beat the starting model")]
    assert kept == [f"No epoch beat the starting model ({step0.accuracy:.1%}); the saved model "
                    "is the starting one."]

    # the saved adapter is the starting one (LoRA B still zero: a no-op); the trained one was not
    assert all(not v.any() for v in _lora_b(run_dir).values())
    assert any(v.any() for v in _lora_b(run_dir / "checkpoints" / "last").values())
    top, last = load_file(str(run_dir / "head.safetensors")), \
        load_file(str(run_dir / "checkpoints" / "last" / "head.safetensors"))
    assert not torch.equal(top["weight"], last["weight"])

    # what predict/evaluate/export load scores the validation images exactly as step 0 did
    predictor = Predictor(run_dir, device="cpu", precision="fp32")
    images, labels = _split_pixels(predictor, run_dir, "val")
    predicted = predictor.probabilities(images).argmax(-1)
    assert (predicted == labels).float().mean().item() == pytest.approx(step0.accuracy, abs=1e-6)
    per_class = {name: (predicted[labels == c] == c).float().mean().item()
                 for c, name in enumerate(predictor.class_names)}
    assert per_class == pytest.approx(step0.per_class_accuracy, abs=1e-6)

    # the temperature was fitted on the starting model, and the test report scored it
    with torch.no_grad():
        predictor.model.head.temperature.fill_(1.0)
        logits = predictor.model(predictor.augmenter.eval_batch(images)).float()
    assert calibration_summary(logits, labels)["temperature"] == pytest.approx(
        meta["calibration"]["temperature"], rel=1e-3)
    predictor.model.head.temperature.fill_(meta["calibration"]["temperature"])
    test_images, test_labels = _split_pixels(predictor, run_dir, "test")
    test_accuracy = (predictor.probabilities(test_images).argmax(-1) == test_labels
                     ).float().mean().item()
    assert test_accuracy == pytest.approx(finished.test_accuracy, abs=1e-6)
    report = json.loads((run_dir / "report" / "report.json").read_text())
    assert report["accuracy"] == pytest.approx(finished.test_accuracy, abs=1e-6)


def test_a_run_that_improves_keeps_its_best_epoch(tmp_path, learnable_split_dir, tiny_clip_dir):
    events = list(train(_config(learnable_split_dir, tiny_clip_dir, tmp_path / "runs",
                                lr=1e-2, head_lr=5e-2)))
    finished = events[-1]
    assert finished.status == "completed", finished.error
    step0, *epochs = _val(events)
    best = max(epochs, key=lambda e: e.accuracy)
    assert best.accuracy > step0.accuracy  # the premise: training helped
    assert finished.best_epoch == best.epoch >= 1 and best.is_best
    run_dir = Path(finished.run_dir)
    meta = json.loads((run_dir / "run.json").read_text())
    assert meta["best"] == {"val_accuracy": best.accuracy, "epoch": best.epoch, "step": best.step}
    assert not any("the saved model is the starting one" in m for m in _logs(events))
    assert any(v.any() for v in _lora_b(run_dir).values())  # a trained adapter
    saved = [e for e in events if e.kind == "checkpoint" and e.label == "best"]
    assert [e.step for e in saved][0] == 0 and saved[-1].step == best.step


def test_a_stop_before_the_first_epoch_keeps_the_start_and_resumes(tmp_path, learnable_split_dir,
                                                                    tiny_clip_dir):
    from engine.model.classifier import load_run_classifier

    config = _destructive(learnable_split_dir, tiny_clip_dir, tmp_path / "runs")
    control, first = TrainControl(), []
    for event in train(config, control):
        first.append(event)
        if isinstance(event, Step) and event.step == 1:
            control.stop()
    assert first[-1].status == "stopped" and first[-1].best_epoch == 0
    step0 = _val(first)[0]
    assert f"the saved model is the starting one ({step0.accuracy:.1%})" in " ".join(_logs(first))
    run_dir = Path(first[-1].run_dir)
    assert all(not v.any() for v in _lora_b(run_dir).values())
    load_run_classifier(run_dir)  # usable
    # the resumed run still compares its epochs with step 0, restored from checkpoints/last
    second = list(train(resume_request(run_dir, num_threads=1, precision="fp32")))
    assert second[-1].status == "completed", second[-1].error
    assert second[-1].best_epoch == 0 and second[-1].best_val_accuracy == step0.accuracy
    assert all(not v.any() for v in _lora_b(run_dir).values())


def test_tracker_step0_ties_and_old_checkpoints():
    tracker = Tracker(patience=2, steps_per_epoch=5)
    assert tracker.record(0.5, 0)
    assert kept_start_note(tracker).message.startswith("Stopped before the first epoch")
    tracker.step, tracker.epoch = 5, 1
    assert not tracker.record(0.5, 1)  # a tie keeps the start: only strictly better replaces it
    assert tracker.best_dict() == {"val_accuracy": 0.5, "epoch": 0, "step": 0}
    assert tracker.bad_epochs == 1
    assert "No epoch beat the starting model (50.0%)" in kept_start_note(tracker).message
    tracker.step, tracker.epoch = 10, 2
    assert tracker.record(0.6, 2) and kept_start_note(tracker) is None
    # a checkpoint written before step 0 counted: its first epoch became the best as before
    old = Tracker(patience=2, steps_per_epoch=5)
    old.restore({"step": 5, "epoch": 1, "best_accuracy": 0.4, "best_epoch": 1, "best_step": 5,
                 "bad_epochs": 0, "zero_shot": 0.7, "elapsed_before": 3.0})
    assert old.best_dict() == {"val_accuracy": 0.4, "epoch": 1, "step": 5}
    assert kept_start_note(old) is None
