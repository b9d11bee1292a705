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

from engine.data.framing import BILINEAR, CROP, FILTERS, SQUASH, Framing

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


# torchvision's InterpolationMode values (a processor with the torchvision backend may hold
# one) -> PIL's filter numbers, which the engine resizes with
_FILTER_NAMES = {"nearest": 0, "lanczos": 1, "bilinear": 2, "bicubic": 3, "box": 4, "hamming": 5}


def _field(size, name: str):
    """size[name] of a processor's size: a dict, a transformers SizeDict or None."""
    if size is None:
        return None
    value = size.get(name) if isinstance(size, dict) else getattr(size, name, None)
    return int(value) if value else None


def _resample(value) -> int:
    """A processor's `resample` as a PIL filter number (unset: bilinear, transformers'
    default)."""
    if value is None:
        return BILINEAR
    if isinstance(value, int):  # also PIL's Resampling and transformers' PILImageResampling
        number = int(value)
    else:  # torchvision's InterpolationMode
        number = _FILTER_NAMES.get(str(getattr(value, "value", value)).lower(), -1)
    if number not in FILTERS:
        raise ValueError(f"resample {value!r} is not a filter PIL has")
    return number


def read_preprocessing(processor) -> tuple[Framing, tuple, tuple]:
    """(framing, mean, std) from an image processor's settings (do_resize, size,
    do_center_crop, crop_size, resample, do_normalize, image_mean, image_std). A
    processor (CLIPProcessor, ...) stands for its image processor. Raises ValueError
    naming a setting the engine cannot reproduce (a picture whose framing depends on its
    size, a non-square input)."""
    ip = getattr(processor, "image_processor", processor)
    size, crop_size = getattr(ip, "size", None), getattr(ip, "crop_size", None)
    if isinstance(size, int):  # an old config's bare number: transformers' reading of it
        key = "height" if getattr(ip, "default_to_square", True) else "shortest_edge"
        size = {key: size, "width": size} if key == "height" else {key: size}
    if isinstance(crop_size, int):
        crop_size = {"height": crop_size, "width": crop_size}
    if getattr(ip, "do_resize", True) is False:
        raise ValueError("do_resize is false: what the model sees would depend on the "
                         "picture's size")
    shortest, height, width = (_field(size, k) for k in ("shortest_edge", "height", "width"))
    if shortest and not _field(size, "longest_edge"):
        mode, resize = CROP, shortest
    elif height and width and height == width:
        mode, resize = SQUASH, height
    else:
        raise ValueError(f"size {dict(size) if isinstance(size, dict) else size} is not a "
                         "shortest side or a square")
    crop = resize
    if getattr(ip, "do_center_crop", False):
        crop_h, crop_w = _field(crop_size, "height"), _field(crop_size, "width")
        if not crop_h or crop_h != crop_w or crop_h > resize:
            raise ValueError(f"crop_size {crop_size} is not a square inside the resized picture")
        crop = crop_h
    elif mode == CROP:
        raise ValueError("the shortest side is resized without a centre crop: the model's "
                         "input would not be square")
    framing = Framing(mode, resize, crop, _resample(getattr(ip, "resample", None)))
    if getattr(ip, "do_normalize", True) is False:
        return framing, (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)
    return (framing, tuple(float(v) for v in ip.image_mean),
            tuple(float(v) for v in ip.image_std))


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
    # the tower resizes its position embeddings to any input (DINOv2's config says 518, its
    # processor gives 224); the others take only their config's image_size
    any_input_size = False
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
        from engine.libraries import ready

        ready()  # transformers' first import happens in one thread only (engine/libraries.py)
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

    def preprocessing(self, processor) -> tuple[Framing, tuple, tuple]:
        """(framing, mean, std) from the family's own image processor: every family's
        processor stores its settings under the same names, so one reader serves all."""
        return read_preprocessing(processor)

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
