"""Every way a run can go wrong ends in exactly one clear 'failed' RunFinished.

Never a traceback out of train(), never a hang, never a broken run folder.
"""
from __future__ import annotations

import errno
import json
import os

import pytest
import torch

from engine.config import TrainConfig
from engine.training.resume import resume_request
from engine.events import Log, RunFinished, event_from_dict
from engine.model.classifier import ImageClassifier
from engine.training.loop import train


pytestmark = pytest.mark.usefixtures("isolated_home")


def tiny_config(data_dir, model_dir, out_dir, **changes) -> TrainConfig:
    base = dict(data_dir=str(data_dir), model=str(model_dir), output_dir=str(out_dir),
                epochs=1, batch_size=32, lr=1e-2, head_lr=1e-2, lora_dropout=0.0,
                precision="fp32", num_threads=1, early_stop_patience=0)
    base.update(changes)
    return TrainConfig(**base)


def run_to_failure(config: TrainConfig, **kwargs) -> RunFinished:
    events = list(train(config, **kwargs))
    finished = [e for e in events if isinstance(e, RunFinished)]
    assert len(finished) == 1 and events[-1] is finished[0]
    assert finished[0].status == "failed", finished[0]
    assert finished[0].error and "Traceback" not in finished[0].error
    if finished[0].run_dir:  # the folder stays readable: valid run.json, parseable metrics
        meta = json.loads(open(f"{finished[0].run_dir}/run.json", encoding="utf-8").read())
        assert meta["status"] == "failed" and meta["error"] == finished[0].error
        for line in open(f"{finished[0].run_dir}/metrics.jsonl", encoding="utf-8"):
            event_from_dict(json.loads(line))
    return finished[0]


def _failing_training_forward(monkeypatch, exc: BaseException) -> None:
    """ImageClassifier.forward raises `exc` in training steps (evaluation still works)."""
    original = ImageClassifier.forward

    def forward(self, pixel_values):
        if torch.is_grad_enabled():
            raise exc
        return original(self, pixel_values)

    monkeypatch.setattr(ImageClassifier, "forward", forward)


@pytest.mark.parametrize("exc", [
    torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"),
    RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 1 GB"),
])
def test_out_of_memory_suggests_smaller_batch(tmp_path, monkeypatch, learnable_dir,
                                              tiny_clip_dir, exc):
    _failing_training_forward(monkeypatch, exc)
    finished = run_to_failure(tiny_config(learnable_dir, tiny_clip_dir, tmp_path / "runs"))
    assert "ran out of memory" in finished.error
    assert "batch size (e.g. 16)" in finished.error and "gradient accumulation 2" in finished.error


def test_unexpected_exception_in_a_step(tmp_path, monkeypatch, learnable_dir, tiny_clip_dir):
    _failing_training_forward(monkeypatch, ValueError("shapes do not match"))
    finished = run_to_failure(tiny_config(learnable_dir, tiny_clip_dir, tmp_path / "runs"))
    assert "unexpected error" in finished.error and "shapes do not match" in finished.error


def test_file_missing_mid_run(tmp_path, monkeypatch, learnable_dir, tiny_clip_dir):
    _failing_training_forward(monkeypatch, FileNotFoundError(
        errno.ENOENT, "No such file or directory", "/data/cat.jpg"))
    finished = run_to_failure(tiny_config(learnable_dir, tiny_clip_dir, tmp_path / "runs"))
    assert "disappeared" in finished.error and "/data/cat.jpg" in finished.error


def test_full_disk_keeps_the_previous_checkpoint(tmp_path, monkeypatch, learnable_dir,
                                                  tiny_clip_dir):
    import engine.model.checkpoint as ckpt

    real_save = ckpt.save_file
    calls = {"n": 0}

    def save_file(tensors, path, *args, **kwargs):
        calls["n"] += 1
        # step 0 saves the starting model as the best (its head), epoch 1 the best head if
        # it beats the start, the last head and the RNG state; then the disk is full
        if calls["n"] > 4:
            raise OSError(errno.ENOSPC, "No space left on device", path)
        return real_save(tensors, path, *args, **kwargs)

    monkeypatch.setattr(ckpt, "save_file", save_file)
    config = tiny_config(learnable_dir, tiny_clip_dir, tmp_path / "runs", epochs=3,
                         lr=0.0, head_lr=1e-2)  # lr 0 on LoRA: the head still improves
    finished = run_to_failure(config)
    assert "disk is full" in finished.error and "resume" in finished.error
    checkpoints = os.path.join(finished.run_dir, "checkpoints")
    assert sorted(os.listdir(checkpoints)) in (["best", "last"], ["last"])  # no temp folders
    state = json.load(open(os.path.join(checkpoints, "last", "state.json")))
    assert state["state"]["epoch"] == 1
    monkeypatch.setattr(ckpt, "save_file", real_save)  # space freed: the run resumes from it
    resumed = list(train(resume_request(finished.run_dir, num_threads=1)))
    assert resumed[-1].status == "completed", resumed[-1].error
    started = [e for e in resumed if e.kind == "run_started"][0]
    assert started.start_step == state["state"]["step"] == started.steps_per_epoch


def test_image_deleted_before_caching_is_skipped_with_a_warning(tmp_path, learnable_dir,
                                                                tiny_clip_dir, copy_of):
    from engine.data.index import scan_dataset

    data = copy_of(learnable_dir)
    index = scan_dataset(data)
    victim = index.split("train")[0].path
    os.remove(victim)  # gone between the scan (GUI) and the start of training
    config = tiny_config(data, tiny_clip_dir, tmp_path / "runs")
    events = list(train(config, dataset=index))
    assert events[-1].status == "completed", events[-1].error
    warnings = [e for e in events if isinstance(e, Log) and e.level == "warning"]
    assert any(victim in e.message for e in warnings)
    started = [e for e in events if e.kind == "run_started"][0]
    assert started.num_train == len(index.split("train")) - 1


def test_missing_base_model_folder(tmp_path, learnable_dir):
    config = tiny_config(learnable_dir, tmp_path / "no-such-model", tmp_path / "runs")
    finished = run_to_failure(config)
    assert "local folder" in finished.error
    assert finished.run_dir == "" and not (tmp_path / "runs").exists()  # no clutter


def test_wrong_hub_id_offline(tmp_path, monkeypatch, learnable_dir):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    config = tiny_config(learnable_dir, "nobody/no-such-clip-model", tmp_path / "runs")
    finished = run_to_failure(config)
    assert "nobody/no-such-clip-model" in finished.error and "local folder" in finished.error


@pytest.mark.parametrize("problem", ["missing", "one-class", "config"])
def test_unusable_dataset_or_config(tmp_path, tiny_clip_dir, problem):
    from engine.demo.dataset import make_demo_dataset

    data = tmp_path / "data"
    changes = {}
    if problem == "one-class":
        make_demo_dataset(data, num_classes=2, per_class=6)
        for f in (data / "green_square").iterdir():
            f.unlink()
        (data / "green_square").rmdir()
    elif problem == "config":
        make_demo_dataset(data, num_classes=2, per_class=6)
        changes = {"batch_size": -1}  # 0 is "auto"
    finished = run_to_failure(tiny_config(data, tiny_clip_dir, tmp_path / "runs", **changes))
    expected = {"missing": str(data), "one-class": "class", "config": "batch_size"}[problem]
    assert expected in finished.error
    assert finished.run_dir == ""
