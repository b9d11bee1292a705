"""Gradient (activation) checkpointing of the image tower: each encoder block keeps only its
input for the backward pass and recomputes the rest, so the activations of a training step
shrink from every block's intermediates to one block's, for roughly one more forward pass.

The rule of `gradient_checkpointing: auto`: on when LoRA trains the tower (the linear probe
and cached-block runs keep no activations of frozen blocks worth saving) and the tower is
large: width >= 1024 or >= 24 blocks (ViT-L/14 and bigger: SigLIP so400m, DINOv2-L/g);
ViT-B towers (768 wide, 12 blocks) stay fast. Non-reentrant checkpointing (torch.utils.
checkpoint with use_reentrant=False) needs no input that requires grad, so it works under
peft with a frozen patch embedding.
"""
from __future__ import annotations

from torch import nn

from engine.i18n import _
from engine.model.backbones import base_tower

LARGE_WIDTH = 1024
LARGE_DEPTH = 24


def is_large(vision_config) -> bool:
    """Whether a tower of this config counts as large (see the module docstring)."""
    width = getattr(vision_config, "hidden_size", 0) or 0
    depth = getattr(vision_config, "num_hidden_layers", 0) or 0
    return width >= LARGE_WIDTH or depth >= LARGE_DEPTH


def wanted(mode: str, method: str, vision_config) -> bool:
    """Whether checkpointing should be on for `mode` (auto|on|off) and `method`."""
    if mode == "on":
        return method == "lora"
    return mode == "auto" and method == "lora" and is_large(vision_config)


def enable(vision: nn.Module) -> None:
    """Turn checkpointing on for every encoder block of a (peft-wrapped) transformers tower."""
    model = base_tower(vision)
    kwargs = {"use_reentrant": False}
    if hasattr(model, "activation_checkpointing_enable"):  # transformers >= 5.x
        model.activation_checkpointing_enable(activation_checkpointing_kwargs=kwargs)
    else:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=kwargs)


def is_on(vision: nn.Module) -> bool:
    """Whether any block of the tower checkpoints (transformers' per-layer flag)."""
    return any(getattr(m, "gradient_checkpointing", False) is True
               for m in base_tower(vision).modules() if m is not base_tower(vision))


def use_gradient_checkpointing(vision: nn.Module, mode: str, method: str) -> str:
    """Apply `mode` to the tower; returns the log line saying what was decided and why."""
    config = base_tower(vision).config
    shape = _("width {width}, {depth} blocks").format(
        width=getattr(config, "hidden_size", "?"), depth=getattr(config, "num_hidden_layers", "?"))
    if method != "lora":
        return _("Gradient checkpointing: off (only the head trains).") if mode == "on" else ""
    if not wanted(mode, method, config):
        return _("Gradient checkpointing: off (as set).") if mode == "off" else ""
    enable(vision)
    why = _("as set") if mode == "on" else _("a large tower: {shape}").format(shape=shape)
    return _("Gradient checkpointing: on ({why}); less memory, slower steps.").format(why=why)


__all__ = ["enable", "is_large", "is_on", "use_gradient_checkpointing", "wanted"]
