"""The engine's training step without its decode cache, for the ablation.

It mirrors engine.training.loop's step (same classifier from engine.model.classifier.build_classifier,
same Augmenter, same AdamW groups, gradient clipping, autocast precision) but decodes
each batch's JPEGs in the training process at every step, the way a loop without the
cache has to. Comparing it with the real engine run isolates the cache's gain;
comparing it with the tutorial isolates everything else.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Sequence

import numpy as np
import torch
from torch.nn import functional as F

from engine.config import TrainConfig


class PerStepDecodeLoop:
    def __init__(self, config: TrainConfig, samples: Sequence[tuple[str, int]],
                 class_names: Sequence[str], device: str = "cpu"):
        from engine.data.augment import Augmenter
        from engine.data.cache import DecodeCache, cache_resolution
        from engine.hardware import resolve_device_type, resolve_precision, set_threads
        from engine.model.classifier import build_classifier

        set_threads(config.num_threads)
        self.device = torch.device(resolve_device_type(device))
        self.precision = resolve_precision(config.precision, self.device.type)
        self.model, info = build_classifier(
            config.model, class_names, head_init=config.head_init,
            templates=config.prompt_templates, method="lora", lora_r=config.lora_r,
            lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
            target_modules=config.target_modules, lora_last_n_blocks=config.lora_last_n_blocks,
            seed=config.seed)
        self.model.to(self.device).train()
        self.augmenter = Augmenter.for_model(info, augment=config.augment,
                                             color_jitter=config.color_jitter)
        self.resolution = cache_resolution(info.image_size)
        self.framing = info.framing  # the base model's processor's, as the cache decodes
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        head = set(self.model.head.parameters())
        self.optimizer = torch.optim.AdamW([
            {"params": [p for p in self.params if p not in head], "lr": config.lr},
            {"params": [self.model.head.weight], "lr": config.head_lr},
            {"params": [self.model.head.bias], "lr": config.head_lr, "weight_decay": 0.0},
        ], weight_decay=config.weight_decay)
        self.config = config
        self.samples = list(samples)
        # the same decoding threads the cache would use, but per step
        self.pool = ThreadPoolExecutor(max_workers=DecodeCache(self.resolution,
                                                               use_disk=False).workers)
        self.generator = torch.Generator().manual_seed(config.seed)
        self._order: list[int] = []

    def _next_batch(self) -> tuple[list[str], torch.Tensor]:
        if len(self._order) < self.config.batch_size:
            self._order += torch.randperm(len(self.samples), generator=self.generator).tolist()
        size = self.config.batch_size
        idx, self._order = self._order[:size], self._order[size:]
        return [self.samples[i][0] for i in idx], torch.tensor([self.samples[i][1] for i in idx])

    def step(self) -> None:
        from engine.data.cache import decode_to_array

        paths, labels = self._next_batch()
        arrays = list(self.pool.map(
            lambda p: decode_to_array(p, self.resolution, framing=self.framing), paths))
        x = torch.from_numpy(np.stack(arrays))
        if self.device.type == "cuda":  # pinned host memory makes the copy asynchronous
            x = x.pin_memory()
        x = x.to(self.device, non_blocking=True)
        with self.precision.autocast():
            logits = self.model(self.augmenter.train_batch(x, self.generator))
        loss = F.cross_entropy(logits.float(), labels.to(self.device, non_blocking=True))
        loss.backward()
        if self.config.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.params, self.config.grad_clip)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)

    def window(self, steps: int) -> list[float]:
        times = []
        for _ in range(steps):
            start = time.perf_counter()
            self.step()
            times.append(time.perf_counter() - start)
        return times

    def close(self) -> None:
        self.pool.shutdown(wait=True)


def bf16_matmul_slowdown(rows: int = 400, dim: int = 768, reps: int = 2) -> float:
    """bf16-autocast time / fp32 time of a ViT-B-sized linear layer's forward (> 1: slower).

    Small on purpose: where bf16 is emulated it is many times slower than fp32.
    """
    layer = torch.nn.Linear(dim, 4 * dim)
    x = torch.randn(rows, dim)

    def timed(autocast: bool) -> float:
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            layer(x)  # warm-up: oneDNN picks its kernel here
            start = time.perf_counter()
            for _ in range(reps):
                layer(x)
            return time.perf_counter() - start

    fp32 = timed(False)
    return timed(True) / max(fp32, 1e-9)


__all__ = ["PerStepDecodeLoop", "bf16_matmul_slowdown"]
