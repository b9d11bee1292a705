"""Stop, pause and resume: from another thread, and from checkpoints/last on disk."""
from __future__ import annotations

import queue
import threading
import time

import pytest
import torch
from safetensors.torch import load_file

from engine.config import TrainConfig
from engine.training.resume import resume_request
from engine.training.control import TrainControl
from engine.events import Log, RunFinished, RunStarted, Step
from engine.runs import read_run
from engine.training.loop import train


pytestmark = pytest.mark.usefixtures("isolated_home")


def tiny_config(data_dir, model_dir, out_dir, **changes) -> TrainConfig:
    base = dict(data_dir=str(data_dir), model=str(model_dir), output_dir=str(out_dir),
                epochs=2, batch_size=16, lr=1e-2, head_lr=1e-2, precision="fp32",
                num_threads=1, early_stop_patience=0, seed=0)
    base.update(changes)
    return TrainConfig(**base)


def _weights(folder) -> dict[str, torch.Tensor]:
    tensors = {f"head.{k}": v for k, v in load_file(f"{folder}/head.safetensors").items()}
    adapter = load_file(f"{folder}/adapter/adapter_model.safetensors")
    tensors.update({f"adapter.{k}": v for k, v in adapter.items()})
    return tensors


def _run_until_step(config: TrainConfig, stop_at: int) -> list:
    """Train, asking to stop as soon as step `stop_at` has been reported."""
    control = TrainControl()
    events = []
    for event in train(config, control):
        events.append(event)
        if isinstance(event, Step) and event.step == stop_at:
            control.stop()
    return events


@pytest.mark.parametrize("mode", ["augmented", "frozen-block cache"])
def test_resumed_run_ends_with_the_uninterrupted_weights(tmp_path, learnable_dir, tiny_clip_dir,
                                                         mode):
    # dropout (global RNG), augmentation (per-step generators) and gradient accumulation all
    # have to continue exactly where they stopped, mid-epoch and mid-schedule; with the
    # frozen-block cache the resumed run recomputes the cached states first
    extra = ({"color_jitter": 0.2} if mode == "augmented" else
             {"augment": False, "lora_last_n_blocks": 1})
    config = tiny_config(learnable_dir, tiny_clip_dir, tmp_path / "runs", lora_dropout=0.1,
                         grad_accum=2, **extra)
    full = list(train(config.replace(run_name="full")))
    assert full[-1].status == "completed", full[-1].error
    cached = any(getattr(e, "stage", "") == "frozen" for e in full)
    assert cached == (mode == "frozen-block cache")
    total = [e for e in full if isinstance(e, RunStarted)][0].total_steps
    stop_at = total // 2 + 1  # inside the second epoch
    first = _run_until_step(config.replace(run_name="interrupted"), stop_at)
    assert first[-1].status == "stopped", first[-1].error
    run_dir = first[-1].run_dir
    assert read_run(run_dir)["status"] == "stopped"
    second = list(train(resume_request(run_dir, num_threads=1, precision="fp32")))
    assert second[-1].status == "completed", second[-1].error
    assert any(getattr(e, "stage", "") == "frozen" for e in second) == cached
    started = [e for e in second if isinstance(e, RunStarted)][0]
    assert started.start_step == stop_at
    assert [e.step for e in second if isinstance(e, Step)] == list(range(stop_at + 1, total + 1))
    # final state after the last step, and the chosen best model, match the uninterrupted run
    a, b = _weights(f"{full[-1].run_dir}/checkpoints/last"), _weights(f"{run_dir}/checkpoints/last")
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=1e-5, atol=1e-6, msg=key)
    assert second[-1].best_val_accuracy == full[-1].best_val_accuracy
    assert second[-1].test_accuracy == full[-1].test_accuracy
    meta = read_run(run_dir)
    assert meta["status"] == "completed" and meta["resumed"] == 1


def test_stop_pause_and_resume_from_another_thread(tmp_path, learnable_dir, tiny_clip_dir):
    config = tiny_config(learnable_dir, tiny_clip_dir, tmp_path / "runs", epochs=50,
                         method="lora", lora_dropout=0.0)
    control = TrainControl()
    events: queue.Queue = queue.Queue()

    def consume() -> None:
        for event in train(config, control):
            events.put(event)

    worker = threading.Thread(target=consume, daemon=True)
    worker.start()

    def wait_for(predicate, timeout=120.0):
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline:
            try:
                event = events.get(timeout=0.5)
            except queue.Empty:
                continue
            seen.append(event)
            assert not isinstance(event, RunFinished) or predicate(event), event
            if predicate(event):
                return seen
        raise AssertionError("timed out waiting for an event")

    wait_for(lambda e: isinstance(e, Step))
    control.pause()
    seen = wait_for(lambda e: isinstance(e, Log) and e.message.startswith("Paused"))
    paused_at = [e.step for e in seen if isinstance(e, Step)]
    time.sleep(0.5)
    assert events.empty(), "no step runs while paused"
    assert control.paused
    control.resume()
    after = wait_for(lambda e: isinstance(e, Step))
    assert after[-1].step > (paused_at[-1] if paused_at else 1)
    control.stop()
    finished = wait_for(lambda e: isinstance(e, RunFinished))[-1]
    worker.join(30)
    assert not worker.is_alive()
    assert finished.status == "stopped" and finished.error == ""
    # a stopped run is usable (adapter + head) and resumable (checkpoints/last)
    from engine.model.classifier import load_run_classifier

    classifier, meta = load_run_classifier(finished.run_dir)
    assert meta["status"] == "stopped"
    assert (tmp_path / "runs" / meta["name"] / "checkpoints" / "last" / "state.json").is_file()
    logits = classifier(torch.zeros(2, 3, 32, 32))
    assert logits.shape == (2, 4)


def test_resume_needs_a_checkpoint(tmp_path):
    (tmp_path / "not-a-run").mkdir()
    events = list(train(TrainConfig(resume_from=str(tmp_path / "not-a-run"))))
    assert len(events) == 1 and events[-1].status == "failed"
    assert "not a LoRA Studio run folder" in events[-1].error


def test_stop_while_decoding_images_ends_as_stopped(tmp_path, learnable_dir, tiny_clip_dir):
    control = TrainControl()
    control.stop()  # already asked when the decode cache starts
    events = list(train(tiny_config(learnable_dir, tiny_clip_dir, tmp_path / "runs"), control))
    assert events[-1].status == "stopped" and events[-1].error == ""
    assert not any(e.kind == "step" for e in events)
    assert read_run(events[-1].run_dir)["status"] == "stopped"
