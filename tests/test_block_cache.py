"""The frozen-block cache: LoRA on the last N blocks without augmentation computes the frozen
blocks once per image, and trains exactly the weights an uncached run trains."""
from __future__ import annotations

import contextlib

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from engine.model.block_cache import (StateStore, SuffixClassifier, compute_states, frozen_blocks,
                                prefix_states, why_not)
from engine.config import TrainConfig
from engine.events import Log, Progress, RunFinished
from engine.model.classifier import build_classifier
from engine.training.loop import train
from tests.test_train import tiny_config


def _classifier(tiny_clip_dir, last_n=1, dropout=0.0):
    torch.manual_seed(0)
    model, info = build_classifier(str(tiny_clip_dir), ["a", "b", "c"], lora_last_n_blocks=last_n,
                                   lora_dropout=dropout, templates=["a photo of a {}."])
    # non-zero LoRA B so that the adapted blocks really change the output
    for name, p in model.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(p, std=0.5)
    return model.eval(), info


def test_prefix_then_suffix_is_the_full_model(tiny_clip_dir):
    model, info = _classifier(tiny_clip_dir)
    pixels = torch.randn(5, 3, info.image_size, info.image_size)
    k = 1  # the tiny CLIP has 2 blocks; LoRA on the last one
    with torch.no_grad():
        full = model(pixels)
        cached = SuffixClassifier(model, k)(prefix_states(model.vision, pixels, k))
    torch.testing.assert_close(cached, full, rtol=1e-5, atol=1e-5)


def test_gradients_reach_only_the_adapted_blocks_and_head(tiny_clip_dir):
    model, info = _classifier(tiny_clip_dir)
    model.train()
    states = prefix_states(model.vision, torch.randn(4, 3, info.image_size, info.image_size), 1)
    SuffixClassifier(model, 1)(states).sum().backward()
    trained = {n for n, p in model.named_parameters() if p.grad is not None}
    assert trained and all("lora_" in n or n.startswith("head.") for n in trained)
    assert any("layers.1." in n for n in trained)
    assert not any("layers.0." in n for n in trained)


def test_when_the_cache_applies(tiny_clip_dir):
    model, _ = _classifier(tiny_clip_dir)
    cfg = TrainConfig(lora_last_n_blocks=1, augment=False)
    assert frozen_blocks(cfg, model.vision) == 1 and why_not(cfg, model.vision) == ""
    assert "augmentation" in why_not(cfg.replace(augment=True), model.vision)
    assert frozen_blocks(cfg.replace(augment=True), model.vision) == 0
    assert frozen_blocks(cfg.replace(lora_last_n_blocks=0), model.vision) == 0
    assert frozen_blocks(cfg.replace(lora_last_n_blocks=2), model.vision) == 0  # all blocks
    assert frozen_blocks(cfg.replace(cache_frozen_blocks=False), model.vision) == 0
    assert frozen_blocks(cfg.replace(method="linear-probe"), model.vision) == 0


def test_states_spill_to_a_float16_memory_map_over_budget(tiny_clip_dir, tmp_path):
    model, info = _classifier(tiny_clip_dir)
    images = torch.randint(0, 256, (7, 3, info.image_size, info.image_size), dtype=torch.uint8)
    to_pixels = lambda x: x.float() / 255.0  # noqa: E731
    seen = []
    common = dict(vision=model.vision, k=1, device=torch.device("cpu"),
                  autocast=contextlib.nullcontext, batch_size=3)
    in_memory = compute_states(images, to_pixels, max_bytes=2**30, disk_dir=tmp_path,
                               progress=lambda d, t: seen.append((d, t)), **common)
    on_disk = compute_states(images, to_pixels, max_bytes=1, disk_dir=tmp_path / "states",
                             progress=lambda d, t: None, **common)
    assert in_memory.where == "memory" and in_memory.tensor.dtype == torch.float32
    assert on_disk.where == "disk" and on_disk.tensor.dtype == torch.float16
    assert seen[0] == (0, 7) and seen[-1] == (7, 7)
    with torch.no_grad():
        expected = prefix_states(model.vision, to_pixels(images), 1)
    torch.testing.assert_close(in_memory.tensor, expected, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(on_disk.tensor.float(), expected, rtol=2e-3, atol=2e-3)
    on_disk.close()
    assert not any((tmp_path / "states").iterdir())  # the temporary file is gone


def test_store_size_rule():
    assert StateStore((2, 50, 768), 2 * 50 * 768 * 4, None).where == "memory"
    store = StateStore((2, 50, 768), 2 * 50 * 768 * 4 - 1, None)
    assert store.where == "disk" and isinstance(store.tensor, torch.Tensor)
    assert np.isclose(store.megabytes, 2 * 50 * 768 * 2 / 2**20)
    store.close()


def _run(config):
    events = list(train(config))
    finished = events[-1]
    assert isinstance(finished, RunFinished) and finished.status == "completed", finished.error
    return events, finished


def _weights(run_dir):
    tensors = dict(load_file(f"{run_dir}/head.safetensors"))
    tensors.update({f"adapter.{k}": v for k, v in
                    load_file(f"{run_dir}/adapter/adapter_model.safetensors").items()})
    return tensors


@pytest.mark.parametrize("dropout", [0.0, 0.1])
def test_cached_run_trains_the_same_weights_as_an_uncached_one(isolated_home, learnable_dir,
                                                               tiny_clip_dir, dropout):
    base = tiny_config(learnable_dir, tiny_clip_dir, isolated_home / "runs", epochs=2,
                       augment=False, lora_last_n_blocks=1, lora_dropout=dropout)
    cached_events, cached = _run(base.replace(run_name="cached"))
    plain_events, plain = _run(base.replace(run_name="plain", cache_frozen_blocks=False))
    assert any(isinstance(e, Progress) and e.stage == "frozen" for e in cached_events)
    assert not any(isinstance(e, Progress) and e.stage == "frozen" for e in plain_events)
    notes = [e.message for e in cached_events if isinstance(e, Log)]
    assert any("Frozen blocks 1-1 computed once" in m for m in notes)
    a, b = _weights(cached.run_dir), _weights(plain.run_dir)
    assert a.keys() == b.keys()
    assert all("layers.1." in k for k in a if k.startswith("adapter."))  # last block only
    assert any(float(v.abs().max()) > 0 for k, v in a.items() if "lora_B" in k)  # trained
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=1e-4, atol=1e-5, msg=key)
    assert cached.best_val_accuracy == pytest.approx(plain.best_val_accuracy)
    assert cached.test_accuracy == pytest.approx(plain.test_accuracy)


def test_augmentation_on_says_why_the_blocks_are_not_cached(isolated_home, learnable_dir,
                                                            tiny_clip_dir):
    config = tiny_config(learnable_dir, tiny_clip_dir, isolated_home / "runs", max_steps=1,
                         augment=True, lora_last_n_blocks=1)
    events, _ = _run(config)
    assert any(isinstance(e, Log) and "not cached: augmentation is on" in e.message
               for e in events)
    assert not any(isinstance(e, Progress) and e.stage == "frozen" for e in events)
