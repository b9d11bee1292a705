"""DINOv2 (Meta): self-supervised image features, the strongest frozen features for
fine-grained classes, and no text tower: its head starts from the class prototypes (the
normalised mean embedding of each class's training images), so step 0 is nearest-centroid
accuracy instead of chance. The embedding is the final layer norm of the CLS token."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the GUI lists the families before torch is imported (in the background)
    from torch import nn

from engine.i18n import N_
from engine.model.backbones.base import Backbone, base_tower


class Dinov2(Backbone):
    name = "dinov2"
    title = N_("DINOv2 (image features only)")
    model_types = ("dinov2", "dinov2_with_registers")
    has_text = False
    vision_class = "Dinov2Model"
    block_path = "encoder.layer"
    attention_module = "attention"
    target_names = {"q_proj": "q_proj", "k_proj": "k_proj", "v_proj": "v_proj",
                    "out_proj": "o_proj", "fc1": "fc1", "fc2": "fc2"}
    norm_in_block = "norm1"
    any_input_size = True  # its embeddings always interpolate the position grid
    recommended = (
        ("facebook/dinov2-small",
         N_("small and fast (22M): strong fine-grained features on a CPU")),
        ("facebook/dinov2-base",
         N_("the best accuracy for fine-grained classes at base size")),
        ("facebook/dinov2-large", N_("large: best features, GPU only")),
    )

    def load(self, ref: str):
        from transformers import AutoImageProcessor

        model = self.transformers_class(self._class_for(ref)).from_pretrained(ref)
        return model, AutoImageProcessor.from_pretrained(ref)

    def _class_for(self, ref: str) -> str:
        from transformers import AutoConfig

        kind = AutoConfig.from_pretrained(ref).model_type
        return "Dinov2WithRegistersModel" if kind == "dinov2_with_registers" else self.vision_class

    def load_vision(self, ref: str) -> nn.Module:
        return self.transformers_class(self._class_for(ref)).from_pretrained(ref)

    def vision_from_full(self, full) -> nn.Module:
        return full  # the whole model is the image tower

    def vision_from_config(self, vision_config) -> nn.Module:
        name = "Dinov2WithRegistersModel" if vision_config.model_type == "dinov2_with_registers" \
            else self.vision_class
        return self.transformers_class(name)(vision_config)

    def token_prefix(self, vision_config) -> int:
        return 1 + int(getattr(vision_config, "num_register_tokens", 0) or 0)

    def front(self, vision, pixel_values):
        return base_tower(vision).embeddings(pixel_values)

    def back(self, vision, hidden):
        return base_tower(vision).layernorm(hidden)[:, 0, :]
