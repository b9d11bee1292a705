"""SigLIP and SigLIP 2 (Google): CLIP-like image and text towers trained with a sigmoid loss.

SigLIP 2's fixed-resolution checkpoints (google/siglip2-base-patch16-224, ...) use this
architecture and load here; its NaFlex variable-resolution checkpoints (model_type
"siglip2", patchified inputs with spatial shapes) are not supported yet.

Their image-text logits are `exp(logit_scale) * cos + logit_bias`, read as independent
sigmoids. The classifier's head is a softmax over the classes, which ignores a bias shared
by all classes, so the zero-shot head takes SigLIP's scale and its bias (the same for every
class, so the softmax's ranking and probabilities equal SigLIP's relative ones); the
temperature fitted after training calibrates the probabilities. Text prompts are padded to
the length the model was trained with ("max_length"), as SigLIP requires.
"""
from __future__ import annotations

import copy
from typing import Sequence

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the GUI lists the families before torch is imported (in the background)
    import torch
    from torch import nn

from engine.i18n import N_
from engine.model.backbones.base import Backbone, base_tower
from engine.model.backbones.clip import _load_exactly, prompt_ensemble


class Siglip(Backbone):
    name = "siglip"
    title = N_("SigLIP / SigLIP 2")
    model_types = ("siglip",)
    tower_types = ("siglip_vision_model",)
    has_text = True
    vision_class = "SiglipVisionModel"
    processor_class = "SiglipProcessor"
    cls_tokens = 0  # no CLS token: all tokens are patches, pooled by an attention head
    block_path = "encoder.layers"
    recommended = (
        ("google/siglip2-base-patch16-224",
         N_("SigLIP 2 base: better zero-shot than OpenAI CLIP B/16 at the same size")),
        ("google/siglip-base-patch16-224", N_("SigLIP base: the first SigLIP, 224 px")),
        ("google/siglip-so400m-patch14-384", N_("the strongest SigLIP, 384 px: GPU only")),
    )
    full_class = "SiglipModel"

    def load(self, ref: str):
        """(SiglipModel, its processor). The published google/siglip-* repositories carry a
        SentencePiece tokenizer (spiece.model, SiglipTokenizer), SigLIP 2 a Gemma one; a
        folder whose tokenizer cannot be loaded gives its image processor alone
        (engine.model.backbones.text), so it still trains from the class prototypes."""
        from transformers import AutoProcessor

        from engine.model.backbones.text import processor_with_text

        return self.transformers_class(self.full_class).from_pretrained(ref), \
            processor_with_text(ref, AutoProcessor.from_pretrained)

    def vision_from_full(self, full) -> nn.Module:
        vision = self.vision_from_config(copy.deepcopy(full.config.vision_config))
        prefix = "vision_model."
        state = {k[len(prefix):]: v for k, v in full.state_dict().items() if k.startswith(prefix)}
        _load_exactly(vision, state)
        return vision

    def text_embeddings(self, full, processor, class_names: Sequence[str],
                        templates: Sequence[str]) -> torch.Tensor:
        length = int(getattr(full.config.text_config, "max_position_embeddings", 64))
        return prompt_ensemble(full, processor.tokenizer, class_names, templates,
                               padding="max_length", max_length=length)

    def logit_scale_bias(self, full) -> tuple[float, float]:
        return (float(full.logit_scale.detach().exp().clamp(max=1000.0)),
                float(full.logit_bias.detach().reshape(-1)[0]))

    def front(self, vision, pixel_values):
        return base_tower(vision).embeddings(pixel_values)

    def back(self, vision, hidden):
        tower = base_tower(vision)
        hidden = tower.post_layernorm(hidden)
        head = getattr(tower, "head", None)
        return head(hidden) if head is not None else hidden.mean(1)
