"""The test report at the end of a run reuses the trained model in memory (no second copy is
loaded), holds the best epoch's calibrated weights, and is exactly the report a later
`python -m engine evaluate RUN` writes from the saved folder."""
from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file

from engine.config import TrainConfig

pytestmark = pytest.mark.usefixtures("isolated_home")


def _config(data_dir, model_dir, out_dir, precision: str) -> TrainConfig:
    return TrainConfig(data_dir=str(data_dir), model=str(model_dir), output_dir=str(out_dir),
                       epochs=3, batch_size=16, lr=1e-2, head_lr=1e-2, lora_dropout=0.0,
                       precision=precision, num_threads=1, early_stop_patience=0,
                       prompt_templates=["a photo of a {}."], seed=0)


@pytest.mark.parametrize("precision, predict_in, reused", [
    ("fp32", "bf16", True), ("bf16", "bf16", True),
    # trained in bf16 where prediction computes in fp32 (a CPU without fast bf16 told to
    # train in bf16): the rounded weights in memory cannot give the fp32 model, so the
    # folder is loaded, and the report is still the later evaluation's
    ("bf16", "fp32", False)])
def test_the_runs_report_reuses_the_best_model_and_equals_a_later_evaluation(
        tmp_path, tiny_clip_dir, learnable_split_dir, monkeypatch, precision, predict_in, reused):
    import engine.hardware
    import engine.model.classifier as classifier_module
    import engine.use.evaluate as evaluate_module
    from engine.training.loop import train
    from engine.training.record import Tracker
    from engine.use.evaluate import evaluate_run, load_report
    from engine.use.predict import Predictor

    # what prediction's 'auto' picks, whatever this machine's CPU: with bf16, a bf16-trained
    # model in memory (frozen weights already rounded) has to come out identical
    monkeypatch.setattr(engine.hardware, "cpu_has_fast_bf16", lambda: predict_in == "bf16")
    # the best epoch is the first, not the last: the model in memory after the loop holds the
    # last epoch's weights, and the report must come from the best (the saved) ones
    record = Tracker.record
    monkeypatch.setattr(Tracker, "record", lambda self, accuracy, epoch, warming_up=False:
                        record(self, accuracy if epoch == 1 else -1.0, epoch, warming_up))
    loads, used = [], []
    load = classifier_module.load_run_classifier
    monkeypatch.setattr(classifier_module, "load_run_classifier",
                        lambda *a, **k: loads.append(a) or load(*a, **k))
    evaluate = evaluate_module.evaluate_run
    monkeypatch.setattr(evaluate_module, "evaluate_run",
                        lambda *a, **k: used.append(k.get("predictor")) or evaluate(*a, **k))
    # a temperature kept, whatever this run's cross-validation decides (24 validation images
    # may leave it at 1): the report must hold the calibrated head that is in memory
    import engine.use.calibration as calibration_module

    decide = calibration_module.calibration_summary
    monkeypatch.setattr(calibration_module, "calibration_summary", lambda logits, labels: {
        **decide(logits, labels), "status": "calibrated", "temperature": 0.5})

    events = list(train(_config(learnable_split_dir, tiny_clip_dir, tmp_path / "runs",
                                precision)))
    finished = events[-1]
    assert finished.status == "completed", finished.error
    assert finished.best_epoch == 1
    assert max(e.epoch for e in events if e.kind == "evaluation") == 3
    assert len(loads) == (0 if reused else 1)  # no second copy loaded where it can be reused
    in_run = used[0]
    assert in_run is not None and in_run.reused == reused
    run_dir = finished.run_dir
    best = load_file(f"{run_dir}/checkpoints/best/adapter/adapter_model.safetensors")
    last = load_file(f"{run_dir}/checkpoints/last/adapter/adapter_model.safetensors")
    assert any(not torch.equal(best[k], last[k]) for k in best)  # best really is not last

    monkeypatch.undo()  # the later evaluation: a fresh load of the folder, as the CLI does
    monkeypatch.setattr(engine.hardware, "cpu_has_fast_bf16", lambda: predict_in == "bf16")
    report = load_report(run_dir)
    later = evaluate_run(run_dir, split="test", report_dir=tmp_path / "later")
    assert later.num_images == report.num_images == 24
    assert later.accuracy == report.accuracy
    assert later.per_class == report.per_class and later.confusion == report.confusion
    assert later.samples == report.samples and later.errors == report.errors
    assert later.calibration == report.calibration
    assert later.calibration["temperature"] != 1.0  # the calibrated head was in memory
    # the two prediction models are bit-identical, not only their rounded outputs
    fresh = Predictor(run_dir)
    assert not fresh.reused and fresh.precision.name == in_run.precision.name == predict_in
    images = torch.stack([torch.from_numpy(fresh.decode(s["path"])) for s in later.samples])
    assert torch.equal(in_run.probabilities(images), fresh.probabilities(images))
