"""Big backbones on small machines: out-of-memory recovery, gradient checkpointing,
batch_size auto; and the stronger augmentation inside real (tiny) runs."""
from __future__ import annotations

import json

import pytest
import torch

from engine.config import TrainConfig
from engine.events import Log, RunFinished, Step
from engine.model.classifier import ImageClassifier
from engine.training.loop import train

pytestmark = pytest.mark.usefixtures("isolated_home")


def tiny_config(data_dir, model_dir, out_dir, **changes) -> TrainConfig:
    base = dict(data_dir=str(data_dir), model=str(model_dir), output_dir=str(out_dir),
                epochs=2, batch_size=8, grad_accum=2, lr=1e-2, head_lr=1e-2, lora_dropout=0.0,
                precision="fp32", num_threads=1, early_stop_patience=0, augment=True)
    base.update(changes)
    return TrainConfig(**base)


def _adapter(run_dir) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(f"{run_dir}/adapter/adapter_model.safetensors")


def _finished(events) -> RunFinished:
    assert events[-1].kind == "run_finished" and events[-1].status == "completed", events[-1]
    return events[-1]


def test_out_of_memory_mid_run_halves_the_batch_and_trains_the_same(
        tmp_path, monkeypatch, learnable_split_dir, tiny_clip_dir):
    config = tiny_config(learnable_split_dir, tiny_clip_dir, tmp_path / "runs", run_name="plain",
                         early_stop_patience=0, mixup=0.4, randaugment_ops=1)
    original = ImageClassifier.forward
    sizes: list[int] = []
    state = {"fail_at": 0, "raised": 0}

    def forward(self, pixel_values):
        if torch.is_grad_enabled():
            sizes.append(pixel_values.shape[0])
            if len(sizes) == state["fail_at"] and pixel_values.shape[0] > 4:
                state["raised"] += 1
                raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to "
                                   "allocate 12 GB")
        return original(self, pixel_values)

    monkeypatch.setattr(ImageClassifier, "forward", forward)
    plain = list(train(config))
    plain_sizes = list(sizes)
    sizes.clear()
    state["fail_at"] = 5  # step 3's first micro-batch (2 micro-batches of 8 per step)
    recovered = list(train(config.replace(run_name="recovered")))
    _finished(recovered)
    assert state["raised"] == 1 and set(plain_sizes) == {8}
    notes = [e.message for e in recovered if isinstance(e, Log) and e.level == "warning"
             and "Out of memory" in e.message]
    assert len(notes) == 1 and "batch size 4 and gradient accumulation 4" in notes[0]
    assert "16 images" in notes[0]
    # the same optimizer steps with the same images: after the failure every forward pass
    # carries at most 4 images, and all images are seen once (the failed pass aside)
    steps = lambda events: [e.step for e in events if isinstance(e, Step)]  # noqa: E731
    assert steps(recovered) == steps(plain)
    assert max(sizes[5:]) <= 4 and sum(sizes) - 8 == sum(plain_sizes)
    a, b = _adapter(plain[-1].run_dir), _adapter(recovered[-1].run_dir)
    for key in a:  # the same training, chunk sums aside
        torch.testing.assert_close(a[key], b[key], atol=1e-4, rtol=1e-3)


def test_out_of_memory_at_batch_one_still_fails_plainly(tmp_path, monkeypatch,
                                                        learnable_split_dir, tiny_clip_dir):
    def forward(self, pixel_values):
        if torch.is_grad_enabled():
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return original(self, pixel_values)

    original = ImageClassifier.forward
    monkeypatch.setattr(ImageClassifier, "forward", forward)
    events = list(train(tiny_config(learnable_split_dir, tiny_clip_dir, tmp_path / "runs")))
    assert events[-1].status == "failed" and "ran out of memory" in events[-1].error


def test_gradient_checkpointing_same_gradients_and_really_on(tiny_clip_dir):
    from engine.model.classifier import build_classifier
    from engine.model.grad_checkpointing import is_on, use_gradient_checkpointing

    def grads(mode: str):
        model, _info = build_classifier(str(tiny_clip_dir), ["a", "b", "c"], seed=0)
        note = use_gradient_checkpointing(model.vision, mode, "lora")
        model.train()
        x = torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(0))
        loss = torch.nn.functional.cross_entropy(model(x), torch.tensor([0, 1, 2, 0]))
        loss.backward()
        return loss.detach(), {n: p.grad.clone() for n, p in model.named_parameters()
                               if p.requires_grad}, is_on(model.vision), note

    loss_off, grads_off, on_off, _note = grads("off")
    loss_on, grads_on, on_on, note = grads("on")
    assert not on_off and on_on and "on" in note
    torch.testing.assert_close(loss_on, loss_off)
    assert grads_on.keys() == grads_off.keys() and any("lora" in k for k in grads_on)
    for key in grads_on:
        torch.testing.assert_close(grads_on[key], grads_off[key])
    _loss, _grads, on_auto, note = grads("auto")  # the tiny tower is not large
    assert not on_auto and note == ""


def test_gradient_checkpointing_auto_rule():
    from transformers import CLIPVisionConfig

    from engine.model.grad_checkpointing import wanted

    large = CLIPVisionConfig(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16)
    base = CLIPVisionConfig(hidden_size=768, num_hidden_layers=12)
    assert wanted("auto", "lora", large) and not wanted("auto", "lora", base)
    assert not wanted("auto", "linear-probe", large) and wanted("on", "lora", base)
    assert not wanted("off", "lora", large)


def test_batch_size_auto_is_read_from_files_and_the_command_line(tmp_path):
    import argparse

    from engine.arguments import config_number
    from engine.config import add_arguments, from_args

    assert TrainConfig.from_dict({"batch_size": "auto"}).batch_size == 0
    assert TrainConfig.from_dict({"batch_size": " Auto "}).batch_size == 0
    (tmp_path / "c.yaml").write_text("batch_size: auto\n", encoding="utf-8")
    assert TrainConfig.load(tmp_path / "c.yaml").batch_size == 0
    with pytest.raises(ValueError, match="batch_size"):
        TrainConfig.from_dict({"batch_size": "big"})
    parser = argparse.ArgumentParser()
    add_arguments(parser, {"batch_size": config_number("batch_size")})
    assert from_args(parser.parse_args(["--batch-size", "auto"])).batch_size == 0
    assert from_args(parser.parse_args(["--batch-size", "12"])).batch_size == 12
    with pytest.raises(SystemExit):
        parser.parse_args(["--batch-size", "huge"])
    assert TrainConfig(batch_size=0).validate() == {}


def test_batch_size_auto_on_a_cpu_from_free_ram(monkeypatch):
    from transformers import CLIPVisionConfig

    from engine.training import auto_batch

    vit_l = CLIPVisionConfig(hidden_size=1024, intermediate_size=4096, num_hidden_layers=24,
                             num_attention_heads=16, patch_size=14)
    per = auto_batch.activation_bytes(vit_l, 224, 24, 2, checkpointed=False)
    monkeypatch.setattr(auto_batch, "free_ram_bytes", lambda: 16 * per)
    batch, why = auto_batch.cpu_batch(vit_l, 224, 24, 2, False, limit=256)
    assert batch == 8 and "batch size 8" in why  # half of the free RAM, a power of two
    less = auto_batch.activation_bytes(vit_l, 224, 24, 2, checkpointed=True)
    assert less < per / 5  # checkpointing keeps one block's worth plus the block inputs
    assert auto_batch.cpu_batch(vit_l, 224, 24, 2, True, limit=32)[0] == 32  # capped


def test_run_with_batch_size_auto_and_cached_blocks_says_what_applies(
        tmp_path, learnable_split_dir, tiny_clip_dir):
    config = tiny_config(learnable_split_dir, tiny_clip_dir, tmp_path / "runs", epochs=1,
                         batch_size=0, grad_accum=1, augment=False, lora_last_n_blocks=1,
                         cache_frozen_blocks=True, cutmix=1.0, randaugment_ops=2)
    events = list(train(config))
    finished = _finished(events)
    logs = [e.message for e in events if isinstance(e, Log)]
    assert any(m.startswith("Batch size: batch size 64 (auto") for m in logs), logs
    assert any("CutMix, RandAugment not applied" in m for m in logs), logs
    saved = json.load(open(f"{finished.run_dir}/run.json", encoding="utf-8"))
    assert saved["config"]["batch_size"] == 64  # decided, and kept (72 images: 64 at most)


def test_bench_checkpointing_step_measures_both_variants_and_skips_what_cannot_fit(monkeypatch):
    from engine.bench import sections_memory as sm
    from engine.bench.measure import significant
    from engine.bench.report import _checkpointing
    from engine.training import auto_batch

    args = {"shape": sm.TINY, "batch": 2, "device": "cpu", "steps": 1}
    off = sm.checkpointing_step({**args, "checkpointing": False})
    on = sm.checkpointing_step({**args, "checkpointing": True})
    assert not off["checkpointing"] and on["checkpointing"]
    assert off["step_s"] > 0 and on["step_s"] > 0 and "step_peak_mb" in on
    assert significant(0.004237) == 0.00424 and significant(12.3456) == 12.3
    assert sm.compare({"step_peak_mb": 0.0, "step_s": 0.004}, {"step_peak_mb": 0.0,
                                                               "step_s": 0.006}) == \
        {"step_time_ratio": 1.5}  # a tiny step that adds no memory: no saving claimed
    assert sm.compare({"step_peak_mb": 100.0, "step_s": 1.0}, {"step_peak_mb": 50.0,
                                                              "step_s": 1.2}) == \
        {"saving": 0.5, "goal_met": True, "step_time_ratio": 1.2}
    monkeypatch.setattr(auto_batch, "free_ram_bytes", lambda: 2 * 2**30)
    reason = sm._too_big(sm.VIT_L14, 32, False, "cpu")  # ~10 GB of activations
    assert "GB of activations" in reason and "not started" in reason
    assert sm._too_big(sm.VIT_L14, 1, True, "cpu") == ""
    lines = _checkpointing({"status": "ok", "shape": "tiny", "device": "cpu", "goal_saving": 0.4,
                            "rows": [{"batch_size": 2, "off": off, "on": on}]})
    assert any("Gradient checkpointing" in line for line in lines)
    assert any(line.startswith("| 2 |") for line in lines)
