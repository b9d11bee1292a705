"""How the vision tower computes fastest on this hardware: the number format of its frozen
weights, the attention kernel, and the LoRA dropout mask.

Measured on a 2-core Xeon with AVX-512 BF16 and AMX (ViT-B/32, LoRA r=8 on q/v, batch 32,
one training step; `make bench` prints the same table on the CPU it runs on):

- Under bf16 autocast, every step copies each fp32 frozen weight into bf16 before its
  matmul (about a sixth of the step). Holding the frozen weights in bf16 once removes
  those copies and halves the tower's memory. LoRA weights, the head, the norms and the
  optimiser state stay fp32: the standard LoRA practice, and what keeps training stable.
- The sequence is short (50 tokens at 224 px / 32 px patches): the CPU's fused SDPA
  kernel, built for long sequences, loses to the plain ("eager") matmul-softmax-matmul in
  bf16, whose backward is a few large matmuls. In fp32 the two were within 5 %, and on a
  GPU SDPA's fused kernels win, so 'auto' picks eager only for bf16 on a CPU.
- LoRA dropout 0.1 costs a sixth to a quarter of the bf16 step (its masks over every adapted
  layer's input). Drawing the mask over a bf16 copy instead of the fp32 input was tried
  and measured: 34.5 against 35.0 images/s, no gain, so peft's dropout is used as it is.
"""
from __future__ import annotations

import torch
from torch import nn

from engine.i18n import _

ATTENTION_CHOICES = ("auto", "eager", "sdpa")


def choose_attention(setting: str, device_type: str, precision_name: str) -> tuple[str, str]:
    """(implementation, why) for the config's `attention` setting on this device/format."""
    if setting in ("eager", "sdpa"):
        return setting, _("as configured")
    if device_type == "cpu" and precision_name == "bf16":
        return "eager", _("faster than SDPA for short sequences in bf16 on a CPU")
    if device_type == "cpu":
        return "sdpa", _("eager and SDPA are within 5 % in fp32 on a CPU")
    return "sdpa", _("fused attention kernels on {device}").format(device=device_type)


def set_attention(model: nn.Module, implementation: str) -> None:
    """Switch every transformers model inside `model` (peft-wrapped or not) to `implementation`."""
    for module in model.modules():
        setter = getattr(module, "set_attn_implementation", None)
        if setter is not None and hasattr(module, "config"):
            setter(implementation)
            return


def frozen_layers(model: nn.Module):
    """Linear and convolution layers none of whose own parameters train."""
    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            own = list(module.parameters(recurse=False))
            if own and not any(p.requires_grad for p in own):
                yield module


def hold_frozen_weights_in(model: nn.Module, dtype: torch.dtype | None) -> int:
    """Store the frozen linear/conv weights of `model` in `dtype` (bf16/fp16), once.

    Trainable parameters (LoRA, the head) and everything else (norms, embeddings) keep
    their format. Returns the bytes saved (0 when dtype is None or already held so).
    """
    if dtype is None:
        return 0
    saved = 0
    for module in frozen_layers(model):
        for p in module.parameters(recurse=False):
            if p.dtype != dtype and p.is_floating_point():
                saved += p.numel() * (p.element_size() - torch.empty((), dtype=dtype).element_size())
        module.to(dtype)
    return saved


def use_compute_format(model: nn.Module, setting: str, device_type: str, precision,
                       hold_weights: bool = True) -> tuple[str, str, int]:
    """The attention kernel for `setting` on this device and format, and (unless told not
    to) the frozen weights held in the compute format. `precision`: engine.hardware.Precision.
    Returns (attention, why, bytes saved)."""
    attention, why = choose_attention(setting, device_type, precision.name)
    set_attention(model, attention)
    saved = hold_frozen_weights_in(model, precision.dtype) if hold_weights else 0
    return attention, why, saved


def describe_bytes(n: int) -> str:
    return f"{n / 2**20:,.0f} MB" if n >= 2**20 else f"{n / 2**10:,.0f} KB"
