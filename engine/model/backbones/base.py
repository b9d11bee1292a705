"""What every backbone family gives the engine, and the defaults most ViT families share.

A family adapter answers, for one transformers architecture: how to load it (with its
processor), which module is the image tower peft adapts (and which class reloads it with
from_pretrained, so a saved adapter loads with plain peft), how an image becomes one
embedding, which linear layers LoRA targets, how its processor prepares images, and, when
it has a text tower, the zero-shot class embeddings and the logit scale and bias. The
frozen-block cache and the heat maps need the block list and the token layout.
"""
from __future__ import annotations

import re
from typing import Sequence

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the GUI lists the families before torch is imported (in the background)
    import torch
    from torch import nn

# The LoRA target names the config offers (CLIP's). A family maps them to its own modules.
GENERIC_TARGETS = ("q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2")


def base_tower(vision: nn.Module) -> nn.Module:
    """The transformers model inside a (possibly peft-wrapped) image tower."""
    get_base = getattr(vision, "get_base_model", None)
    return get_base() if callable(get_base) else vision


def run_block(layer: nn.Module, hidden: torch.Tensor) -> torch.Tensor:
    """One encoder block without an attention mask (every family's blocks take (hidden, mask))."""
    out = layer(hidden, None)
    return out[0] if isinstance(out, tuple) else out


class Backbone:
    """One family. Subclasses set the class attributes and override what differs."""

    name = ""  # stored in run.json (base_model.family)
    title = ""  # what the model picker shows
    model_types: tuple[str, ...] = ()  # config.json "model_type" values of this family
    tower_types: tuple[str, ...] = ()  # "model_type" of its image tower's own config
    has_text = False  # a text tower: zero-shot heads
    vision_class = ""  # transformers class of the image tower (what from_pretrained reloads)
    embedding_output = "pooler_output"  # the tower's output that is the embedding
    processor_class = "AutoImageProcessor"
    block_path = "vision_model.encoder.layers"  # where the blocks are, inside the tower
    target_names: dict[str, str] = {t: t for t in GENERIC_TARGETS}  # generic -> own module name
    attention_module = "self_attn"
    mlp_module = "mlp"
    cls_tokens = 1  # tokens before the patch grid (CLS, registers)
    norm_in_block = "layer_norm1"  # the first norm of a block (heat maps wrap it)
    prototype_scale = 30.0  # logit scale of a class-prototype head (cosine similarities)
    recommended: tuple[tuple[str, str], ...] = ()  # (hub id, what it is good for)

    # --- loading ------------------------------------------------------------------------
    def transformers_class(self, name: str):
        import transformers

        return getattr(transformers, name)

    def load(self, ref: str):
        """(full model, processor): the full model includes the text tower when there is one."""
        raise NotImplementedError

    def vision_from_full(self, full) -> nn.Module:
        """A standalone image tower (what peft adapts), sharing nothing with `full`."""
        raise NotImplementedError

    def vision_config(self, config):
        """The config of the image tower from the checkpoint's config."""
        return getattr(config, "vision_config", config)

    def vision_from_config(self, vision_config) -> nn.Module:
        return self.transformers_class(self.vision_class)(vision_config)

    def load_vision(self, ref: str) -> nn.Module:
        return self.transformers_class(self.vision_class).from_pretrained(ref)

    # --- what an image becomes ----------------------------------------------------------
    def embedding_dim(self, vision_config) -> int:
        return int(vision_config.hidden_size)

    def embed(self, vision: nn.Module, pixel_values: torch.Tensor) -> torch.Tensor:
        return vision(pixel_values=pixel_values).pooler_output

    def preprocessing(self, processor) -> tuple[int, tuple, tuple]:
        """(input size, mean, std) from the family's own image processor config."""
        ip = getattr(processor, "image_processor", processor)
        size = getattr(ip, "crop_size", None) or getattr(ip, "size", None) or {}
        if isinstance(size, dict):
            side = size.get("height") or size.get("shortest_edge") or size.get("width")
        else:
            side = getattr(size, "height", None) or getattr(size, "shortest_edge", None)
        return (int(side), tuple(float(v) for v in ip.image_mean),
                tuple(float(v) for v in ip.image_std))

    # --- zero-shot ----------------------------------------------------------------------
    def text_embeddings(self, full, processor, class_names: Sequence[str],
                        templates: Sequence[str]) -> torch.Tensor | None:
        return None

    def logit_scale_bias(self, full) -> tuple[float, float]:
        """(scale, bias) of the family's image-text logits; a prototype scale without text."""
        return self.prototype_scale, 0.0

    # --- blocks (LoRA targets, frozen-block cache, heat maps) ----------------------------
    def blocks(self, vision: nn.Module) -> nn.ModuleList:
        module = base_tower(vision)
        for part in self.block_path.split("."):
            module = getattr(module, part)
        return module

    def num_blocks(self, vision_config) -> int:
        return int(vision_config.num_hidden_layers)

    def lora_target_regex(self, targets: Sequence[str], num_layers: int, last_n: int = 0) -> str:
        """peft target_modules as a regex: the chosen layers, optionally in the last N blocks."""
        first = 0 if last_n <= 0 else max(0, num_layers - last_n)
        layers = "|".join(str(i) for i in range(first, num_layers))
        own = "|".join(re.escape(self.target_names[t]) for t in targets if t in self.target_names)
        blocks = re.escape(".".join(self.block_path.split(".")[-2:]))  # e.g. encoder.layers
        return (rf".*{blocks}\.({layers})\.({self.attention_module}|{self.mlp_module})\.({own})$")

    def token_prefix(self, vision_config) -> int:
        """Tokens before the patch grid in a block's input (CLS, register tokens)."""
        return self.cls_tokens

    def front(self, vision: nn.Module, pixel_values: torch.Tensor) -> torch.Tensor:
        """Token states entering the first block."""
        raise NotImplementedError

    def back(self, vision: nn.Module, hidden: torch.Tensor) -> torch.Tensor:
        """The embedding from the token states after the last block."""
        raise NotImplementedError
