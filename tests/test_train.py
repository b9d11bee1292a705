"""The training loop learns, reports what it did, and writes a complete run folder.

One LoRA run on the learnable 4-class folder is shared by several tests (module
fixture) to keep the suite fast; each test checks a different promise about it.
"""
from __future__ import annotations

import json
import math
import os

import pytest
import torch
from safetensors.torch import load_file

from engine.config import TrainConfig
from engine.events import Evaluation, RunFinished, RunStarted, Step, event_from_dict
from engine.training.loop import train

TEMPLATE = "a photo of a {}."


def tiny_config(data_dir, model_dir, out_dir, **changes) -> TrainConfig:
    """CPU-friendly settings that still learn the demo classes in a few epochs."""
    base = dict(data_dir=str(data_dir), model=str(model_dir), output_dir=str(out_dir),
                epochs=4, batch_size=16, lr=1e-2, head_lr=1e-2, lora_dropout=0.0,
                precision="fp32", num_threads=1, early_stop_patience=0,
                prompt_templates=[TEMPLATE], seed=0)
    base.update(changes)
    return TrainConfig(**base)


@pytest.fixture(scope="module")
def lora_run(tmp_path_factory, learnable_dir, tiny_clip_dir):
    """(events, run_dir) of one finished LoRA run."""
    home = tmp_path_factory.mktemp("home")
    threads = torch.get_num_threads()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LORA_STUDIO_HOME", str(home))
        mp.setenv("LORA_STUDIO_CACHE_DIR", str(home / "cache"))
        config = tiny_config(learnable_dir, tiny_clip_dir, tmp_path_factory.mktemp("runs"))
        events = list(train(config))
    torch.set_num_threads(threads)
    finished = events[-1]
    assert isinstance(finished, RunFinished), finished
    assert finished.status == "completed", finished.error
    return events, finished.run_dir


def _of(events, cls):
    return [e for e in events if isinstance(e, cls)]


def test_loop_learns_well_above_chance_and_zero_shot(lora_run):
    events, _ = lora_run
    evals = [e for e in _of(events, Evaluation) if e.split == "val"]
    assert evals[0].step == 0 and evals[0].zero_shot
    trained = evals[1:]
    best = max(e.accuracy for e in trained)
    assert best >= 0.75  # 4 classes: chance is 0.25
    assert best > evals[0].accuracy
    steps = _of(events, Step)
    assert steps[-1].loss < steps[0].loss


def test_exactly_one_finish_and_events_in_order(lora_run):
    events, run_dir = lora_run
    assert sum(isinstance(e, RunFinished) for e in events) == 1
    kinds = [e.kind for e in events if e.kind != "progress"]
    assert kinds.index("run_started") < kinds.index("step") < kinds.index("run_finished")
    started = _of(events, RunStarted)[0]
    steps = _of(events, Step)
    assert started.run_dir == run_dir and started.start_step == 0
    assert [s.step for s in steps] == list(range(1, started.total_steps + 1))
    assert 0 < started.trainable_params < started.total_params
    assert started.num_train + started.num_val + started.num_test == 120
    assert all(s.images_per_s > 0 for s in steps)
    assert steps[-1].eta_s == 0 and steps[0].eta_s > 0
    assert steps[-1].lr < steps[0].lr  # cosine decays towards 0
    finished = events[-1]
    assert finished.test_accuracy is not None and 0 <= finished.test_accuracy <= 1


def test_step0_equals_clip_zero_shot_computed_independently(lora_run, tiny_clip):
    """The zero-shot head really is CLIP: same accuracy from CLIPModel text/image features."""
    from engine.data.augment import Augmenter
    from engine.data.cache import DecodeCache, cache_resolution
    from engine.data.framing import Framing
    from engine.data.index import load_split

    events, run_dir = lora_run
    clip, processor = tiny_clip
    index = load_split(f"{run_dir}/split.json")
    val = index.split("val")
    framing = Framing.clip(32)  # the tiny CLIP's processor: shortest side 32, crop 32, bicubic
    res = DecodeCache(cache_resolution(32), framing=framing).load([s.path for s in val])
    labels = torch.tensor([val[i].label for i in res.kept])
    ip = processor.image_processor
    pixels = Augmenter(32, ip.image_mean, ip.image_std, augment=False,
                       eval_filter="bicubic").eval_batch(res.images)
    with torch.no_grad():
        prompts = [TEMPLATE.format(name) for name in index.class_names]
        text = clip.get_text_features(**processor.tokenizer(prompts, padding=True,
                                                            return_tensors="pt")).pooler_output
        image = clip.get_image_features(pixel_values=pixels).pooler_output
    sims = torch.nn.functional.normalize(image, dim=-1) @ torch.nn.functional.normalize(text, dim=-1).T
    expected = (sims.argmax(-1) == labels).float().mean().item()
    step0 = [e for e in _of(events, Evaluation) if e.step == 0][0]
    assert step0.accuracy == pytest.approx(expected, abs=1e-9)


def test_run_json_and_metrics_are_complete(lora_run):
    events, run_dir = lora_run
    text = open(f"{run_dir}/run.json", encoding="utf-8").read()
    meta = json.loads(text)
    assert text == json.dumps(meta, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    for key in ("format_version", "name", "created", "status", "config", "base_model", "method",
                "classes", "class_names", "dataset", "best", "zero_shot_val_accuracy",
                "test_accuracy", "elapsed_s", "versions", "error"):
        assert key in meta, key
    finished = events[-1]
    assert meta["status"] == "completed" and meta["error"] == ""
    assert meta["best"]["val_accuracy"] == finished.best_val_accuracy
    assert meta["best"]["epoch"] == finished.best_epoch
    assert meta["test_accuracy"] == finished.test_accuracy
    assert meta["config"] == TrainConfig.from_dict(meta["config"]).to_dict()
    assert meta["class_names"] == [c["display_name"] for c in meta["classes"]]
    assert set(meta["versions"]) >= {"app", "torch", "transformers", "peft", "python"}
    lines = open(f"{run_dir}/metrics.jsonl", encoding="utf-8").read().splitlines()
    parsed = [event_from_dict(json.loads(line)) for line in lines]
    assert [e.to_dict() for e in parsed] == [e.to_dict() for e in events if e.kind != "progress"]


def test_run_folder_holds_the_best_epoch_and_loads_back(lora_run):
    from engine.model.classifier import load_run_classifier

    events, run_dir = lora_run
    top = load_file(f"{run_dir}/head.safetensors")
    best = load_file(f"{run_dir}/checkpoints/best/head.safetensors")
    assert torch.equal(top["weight"], best["weight"])
    assert open(f"{run_dir}/adapter/adapter_model.safetensors", "rb").read() == \
        open(f"{run_dir}/checkpoints/best/adapter/adapter_model.safetensors", "rb").read()
    classifier, meta = load_run_classifier(run_dir, merge=False)
    assert meta["class_names"] == _of(events, RunStarted)[0].classes
    # the saved model scores the validation split exactly as the run reported for its best epoch
    from engine.data.augment import Augmenter
    from engine.data.cache import DecodeCache, cache_resolution
    from engine.data.index import load_split
    from engine.model.classifier import BaseModelInfo

    info = BaseModelInfo.from_dict(meta["base_model"])
    val = load_split(f"{run_dir}/split.json").split("val")
    res = DecodeCache(cache_resolution(info.image_size), framing=info.framing).load(
        [s.path for s in val])
    labels = torch.tensor([val[i].label for i in res.kept])
    with torch.no_grad():
        logits = classifier(Augmenter.for_model(info, augment=False).eval_batch(res.images))
    accuracy = (logits.argmax(-1) == labels).float().mean().item()
    assert accuracy == pytest.approx(meta["best"]["val_accuracy"], abs=1e-6)
    assert os.listdir(f"{run_dir}/tb"), "TensorBoard events were written"


def test_linear_probe_trains_only_the_head(tmp_path, monkeypatch, learnable_dir, tiny_clip_dir):
    monkeypatch.setenv("LORA_STUDIO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LORA_STUDIO_CACHE_DIR", str(tmp_path / "cache"))
    threads = torch.get_num_threads()
    config = tiny_config(learnable_dir, tiny_clip_dir, tmp_path / "runs", method="linear-probe",
                         epochs=3, head_lr=5e-2)
    events = list(train(config))
    torch.set_num_threads(threads)
    finished = events[-1]
    assert finished.status == "completed", finished.error
    started = _of(events, RunStarted)[0]
    assert started.trainable_params == 4 * 16 + 4  # head weight + bias only
    assert not (tmp_path / "runs" / started.run_name / "adapter").exists()
    assert (tmp_path / "runs" / started.run_name / "head.safetensors").is_file()
    evals = [e for e in _of(events, Evaluation) if e.split == "val"]
    assert max(e.accuracy for e in evals[1:]) > evals[0].accuracy
    assert any(e.kind == "progress" and e.stage == "embed" for e in events)


def test_max_steps_grad_accum_and_early_stopping(tmp_path, monkeypatch, learnable_dir,
                                                 tiny_clip_dir):
    monkeypatch.setenv("LORA_STUDIO_CACHE_DIR", str(tmp_path / "cache"))
    threads = torch.get_num_threads()
    # lr 0: accuracy never improves on step 0 (the start), so patience 1 stops after epoch 1
    config = tiny_config(learnable_dir, tiny_clip_dir, tmp_path / "runs", epochs=6, lr=0.0,
                         head_lr=0.0, grad_accum=2, early_stop_patience=1, method="linear-probe")
    events = list(train(config))
    torch.set_num_threads(threads)
    started = _of(events, RunStarted)[0]
    assert started.steps_per_epoch == math.ceil(math.ceil(started.num_train / 16) / 2)
    stop = [e for e in events if e.kind == "early_stopped"]
    assert len(stop) == 1 and stop[0].epoch == 1 and stop[0].best_epoch == 0
    assert events[-1].status == "completed"

    config = tiny_config(learnable_dir, tiny_clip_dir, tmp_path / "runs", max_steps=4,
                         method="linear-probe", head_init="random")
    events = list(train(config))
    torch.set_num_threads(threads)
    assert _of(events, RunStarted)[0].total_steps == 4
    assert not _of(events, Evaluation)[0].zero_shot  # a random head is no zero-shot baseline
    assert _of(events, Step)[-1].step == 4
    assert events[-1].status == "completed"


# --- pure helpers -----------------------------------------------------------------------
def test_lr_schedule_warms_up_then_decays_to_zero():
    from engine.training.plan import lr_factor

    factors = [lr_factor(s, 100, 10) for s in range(100)]
    assert factors[0] < factors[5] < factors[9] <= 1.0
    assert all(a >= b for a, b in zip(factors[10:], factors[11:]))
    assert factors[10] == pytest.approx(1.0) and factors[-1] < 0.01


def test_data_order_is_deterministic_and_ranks_cover_everything():
    from engine.training.batches import epoch_order, rank_batch
    from engine.training.plan import make_plan

    assert torch.equal(epoch_order(50, 3, 1), epoch_order(50, 3, 1))
    assert not torch.equal(epoch_order(50, 3, 1), epoch_order(50, 3, 2))
    order = epoch_order(23, 0, 0)
    plan = make_plan(23, 4, 2, 1, 1, 0, 0.0)
    seen = torch.cat([rank_batch(order, m, 4, r, 2) for m in range(plan.micro_per_epoch)
                      for r in range(2)])
    assert sorted(set(seen.tolist())) == list(range(23))
    assert all(len(rank_batch(order, plan.micro_per_epoch - 1, 4, r, 2)) > 0 for r in range(2))


def test_precision_auto_follows_the_hardware(monkeypatch):
    from engine import hardware
    from engine.errors import UserError

    monkeypatch.setattr(hardware, "cpu_has_fast_bf16", lambda: True)
    assert hardware.resolve_precision("auto", "cpu").name == "bf16"
    monkeypatch.setattr(hardware, "cpu_has_fast_bf16", lambda: False)
    p = hardware.resolve_precision("auto", "cpu")
    assert p.name == "fp32" and p.dtype is None and not p.needs_grad_scaler
    with pytest.raises(UserError, match="CUDA"):
        hardware.resolve_precision("fp16", "cpu")
    assert hardware.resolve_precision("fp16", "cuda").needs_grad_scaler
    if not torch.cuda.is_available():
        with pytest.raises(UserError, match="no CUDA GPU"):
            hardware.resolve_device_type("cuda")
        assert hardware.resolve_device_type("auto") in ("cpu", "mps")


def test_bf16_detection_matches_cpu_flags():
    from engine import hardware

    flags = hardware._cpu_flags()
    if not flags:
        pytest.skip("no /proc/cpuinfo here")
    hardware.cpu_has_fast_bf16.cache_clear()
    assert hardware.cpu_has_fast_bf16() == bool(flags & {"avx512_bf16", "amx_bf16"})
    with hardware.resolve_precision("bf16", "cpu").autocast():
        assert torch.get_autocast_dtype("cpu") == torch.bfloat16
        assert torch.is_autocast_enabled("cpu")


def test_with_progress_streams_reports_and_returns_or_raises():
    from engine.training.progress import with_progress

    def work(progress):
        for i in range(1, 4):
            progress(i, 3)
        return "done"

    gen = with_progress("decode", "Decoding", work, min_interval_s=0.0)
    events = []
    try:
        while True:
            events.append(next(gen))
    except StopIteration as stop:
        assert stop.value == "done"
    assert events[-1].done == 3 and events[-1].total == 3 and events[-1].stage == "decode"

    def broken(progress):
        raise OSError("disk gone")

    with pytest.raises(OSError, match="disk gone"):
        list(with_progress("decode", "Decoding", broken))


def test_bf16_autocast_is_really_on_in_cpu_training_steps(tmp_path, monkeypatch, learnable_dir,
                                                          tiny_clip_dir):
    from engine.model.classifier import ImageClassifier

    seen = []
    original = ImageClassifier.forward

    def forward(self, pixel_values):
        if torch.is_grad_enabled():
            seen.append((torch.is_autocast_enabled("cpu"), torch.get_autocast_dtype("cpu")))
        return original(self, pixel_values)

    monkeypatch.setattr(ImageClassifier, "forward", forward)
    monkeypatch.setenv("LORA_STUDIO_CACHE_DIR", str(tmp_path / "cache"))
    threads = torch.get_num_threads()
    config = tiny_config(learnable_dir, tiny_clip_dir, tmp_path / "runs", precision="bf16",
                         max_steps=2, device="cpu")
    events = list(train(config))
    torch.set_num_threads(threads)
    assert events[-1].status == "completed", events[-1].error
    assert _of(events, RunStarted)[0].precision == "bf16"
    assert seen and all(on and dtype == torch.bfloat16 for on, dtype in seen)
    assert all(math.isfinite(s.loss) for s in _of(events, Step))
