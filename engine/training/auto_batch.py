"""`batch_size: auto` (stored as 0): the batch size a run uses when the user leaves it open.

On a GPU, a short probe: a forward and backward pass of random images at 1, 2, 4, ...
images until one runs out of memory; the last size that fitted is used (Ultralytics'
batch=-1 idea, measured instead of extrapolated). On a CPU (or MPS), an estimate: half of
the RAM that is free now, divided by the activations one image keeps for the backward pass
(from the tower's shape: tokens, width, MLP width, heads and trained blocks). Either way
the result is a power of two, at most MAX_AUTO_BATCH and at most the training images, and
the log says what was chosen and why. A mid-run out of memory still halves it
(engine.training.micro_steps).
"""
from __future__ import annotations

import math

import torch

from engine.i18n import _
from engine.training.failures import is_out_of_memory

MAX_AUTO_BATCH = 256
RAM_SHARE = 0.5  # of the free RAM the activations may take (the rest: weights, OS, caches)


def _power_of_two_at_most(n: float) -> int:
    return 1 << max(0, int(math.floor(math.log2(max(1.0, n)))))


def free_ram_bytes() -> int:
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except Exception:  # no psutil: what the kernel reports
        import os

        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))


def activation_bytes(vision_config, image_size: int, trained_blocks: int, bytes_per_value: int,
                     checkpointed: bool) -> int:
    """Bytes one image's training step keeps for the backward pass: per trained block about
    10 hidden-sized tensors (norms, q/k/v, attention output, residuals), 2 MLP-sized ones
    and 2 attention maps per head (scores, probabilities); with checkpointing only each
    block's input, plus one block's worth while it is recomputed."""
    width = int(getattr(vision_config, "hidden_size", 768))
    mlp = int(getattr(vision_config, "intermediate_size", 4 * width))
    heads = int(getattr(vision_config, "num_attention_heads", 12))
    patch = int(getattr(vision_config, "patch_size", 16))
    tokens = (image_size // patch) ** 2 + 1
    block = tokens * width * 10 + tokens * mlp * 2 + heads * tokens * tokens * 2
    values = trained_blocks * tokens * width + block if checkpointed else trained_blocks * block
    return values * bytes_per_value


def cpu_batch(vision_config, image_size: int, trained_blocks: int, bytes_per_value: int,
              checkpointed: bool, limit: int) -> tuple[int, str]:
    free = free_ram_bytes()
    per_image = activation_bytes(vision_config, image_size, trained_blocks, bytes_per_value,
                                 checkpointed)
    batch = min(_power_of_two_at_most(RAM_SHARE * free / per_image), limit)
    return batch, _("batch size {batch} (auto: {free:.1f} GB of RAM free, about {per:.0f} MB "
                    "of activations per image).").format(batch=batch, free=free / 1e9,
                                                         per=per_image / 1e6)


def gpu_batch(model, image_size: int, device: torch.device, autocast, limit: int) -> tuple[int, str]:
    """The largest power of two up to `limit` whose forward+backward fits (at least 1)."""
    was_training = model.training
    model.train()
    good, size = 0, 1
    try:
        while size <= limit:
            try:
                x = torch.randn(size, 3, image_size, image_size, device=device)
                with autocast():
                    logits = model(x)
                logits.float().logsumexp(-1).mean().backward()
                good = size
            except Exception as exc:
                if not is_out_of_memory(exc):
                    raise
                break
            finally:
                x = logits = None  # noqa: F841 (frees the step's memory before the next)
                model.zero_grad(set_to_none=True)
                torch.cuda.empty_cache()
            size *= 2
    finally:
        model.train(was_training)
    batch = max(1, good)
    total = torch.cuda.get_device_properties(device).total_memory
    return batch, _("batch size {batch} (auto: the largest that fitted in a short probe of "
                    "{memory:.0f} GB of GPU memory).").format(batch=batch, memory=total / 1e9)


def choose_batch_size(model, info, config, device: torch.device, precision,
                      num_train: int, checkpointed: bool) -> tuple[int, str]:
    """(batch size, the log line) for `config` with batch_size 0 (auto)."""
    limit = _power_of_two_at_most(min(MAX_AUTO_BATCH, max(1, num_train)))
    if config.method != "lora":  # the head alone trains: memory is no concern
        return limit, _("batch size {batch} (auto: only the head trains).").format(batch=limit)
    if device.type == "cuda":
        return gpu_batch(model, info.image_size, device, precision.autocast, limit)
    from engine.model.backbones import base_tower

    vision_config = base_tower(model.vision).config
    blocks = config.lora_last_n_blocks or int(getattr(vision_config, "num_hidden_layers", 12))
    bytes_per_value = 2 if precision.name in ("bf16", "fp16") else 4
    return cpu_batch(vision_config, info.image_size, blocks, bytes_per_value, checkpointed, limit)


__all__ = ["MAX_AUTO_BATCH", "activation_bytes", "choose_batch_size", "cpu_batch", "gpu_batch"]
