"""CLIP: OpenAI's checkpoints and the LAION / DataComp ones trained with OpenCLIP and
published in transformers format (same architecture, CLIPModel)."""
from __future__ import annotations

import copy
from typing import Sequence

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the GUI lists the families before torch is imported (in the background)
    import torch
    from torch import nn

from engine.i18n import N_
from engine.model.backbones.base import Backbone, base_tower


class Clip(Backbone):
    name = "clip"
    title = N_("CLIP / OpenCLIP")
    model_types = ("clip",)
    tower_types = ("clip_vision_model",)
    has_text = True
    vision_class = "CLIPVisionModelWithProjection"
    embedding_output = "image_embeds"
    processor_class = "CLIPProcessor"
    recommended = (
        ("openai/clip-vit-base-patch32",
         N_("the tutorial's model: fast, 88M parameters, 224 px")),
        ("openai/clip-vit-base-patch16",
         N_("finer patches: more accurate, about 4x the compute")),
        ("openai/clip-vit-large-patch14", N_("large: best OpenAI CLIP, needs a GPU")),
        ("laion/CLIP-ViT-B-32-laion2B-s34B-b79K",
         N_("OpenCLIP on LAION-2B: better zero-shot than OpenAI's B/32 at the same speed")),
        ("laion/CLIP-ViT-H-14-laion2B-s32B-b79K",
         N_("OpenCLIP huge: strong zero-shot, GPU only")),
    )

    def load(self, ref: str):
        from transformers import CLIPModel, CLIPProcessor

        from engine.model.backbones.text import processor_with_text

        return CLIPModel.from_pretrained(ref), processor_with_text(ref, CLIPProcessor.from_pretrained)

    def vision_from_full(self, full) -> nn.Module:
        from transformers import CLIPVisionModelWithProjection

        vcfg = copy.deepcopy(full.config.vision_config)
        vcfg.projection_dim = full.config.projection_dim
        vision = CLIPVisionModelWithProjection(vcfg)
        state = {k: v for k, v in full.state_dict().items()
                 if k.startswith(("vision_model.", "visual_projection."))}
        _load_exactly(vision, state)
        return vision

    def vision_config(self, config):
        if hasattr(config, "vision_config"):  # a full CLIPConfig
            vcfg = copy.deepcopy(config.vision_config)
            vcfg.projection_dim = config.projection_dim
            return vcfg
        return config

    def embedding_dim(self, vision_config) -> int:
        return int(vision_config.projection_dim)

    def embed(self, vision, pixel_values):
        out = vision(pixel_values=pixel_values)
        return out.image_embeds if hasattr(out, "image_embeds") else out

    def text_embeddings(self, full, processor, class_names: Sequence[str],
                        templates: Sequence[str]) -> torch.Tensor:
        return prompt_ensemble(full, processor.tokenizer, class_names, templates)

    def logit_scale_bias(self, full) -> tuple[float, float]:
        return float(full.logit_scale.detach().exp().clamp(max=100.0)), 0.0

    def front(self, vision, pixel_values):
        vm = base_tower(vision).vision_model
        return vm.pre_layrnorm(vm.embeddings(pixel_values))

    def back(self, vision, hidden):
        tower = base_tower(vision)
        return tower.visual_projection(tower.vision_model.post_layernorm(hidden[:, 0, :]))


def _load_exactly(module: nn.Module, state: dict) -> None:
    from engine.errors import ModelLoadError
    from engine.i18n import _

    missing, unexpected = module.load_state_dict(state, strict=False)
    missing = [k for k in missing if "position_ids" not in k]
    if missing or unexpected:
        raise ModelLoadError(_("The image tower did not load cleanly (missing {names}).").format(
            names=missing[:3] or unexpected[:3]))


def prompt_ensemble(full, tokenizer, class_names: Sequence[str], templates: Sequence[str],
                    **tokenizer_args) -> torch.Tensor:
    """[num_classes, dim] normalised text embeddings, averaged over prompt templates."""
    import torch
    from torch.nn import functional as F

    full.eval()
    rows = []
    with torch.no_grad():
        for name in class_names:
            tokens = tokenizer([t.format(name) for t in templates], return_tensors="pt",
                               truncation=True, **({"padding": True} | tokenizer_args))
            out = full.get_text_features(**tokens)
            emb = out if isinstance(out, torch.Tensor) else out.pooler_output  # transformers 5
            emb = F.normalize(emb.float(), dim=-1).mean(0)
            rows.append(F.normalize(emb, dim=0))
    return torch.stack(rows)
