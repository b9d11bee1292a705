"""Backbone families: one small adapter per transformers architecture (base.Backbone).

Adding a family is one new file with a Backbone subclass, listed in FAMILIES below. A
checkpoint's family comes from the "model_type" of its config.json; run.json stores it
(base_model.family), and runs from before families existed are CLIP runs.
"""
from __future__ import annotations

from engine.model.backbones.base import Backbone, base_tower, run_block
from engine.model.backbones.clip import Clip
from engine.model.backbones.dinov2 import Dinov2
from engine.model.backbones.siglip import Siglip

FAMILIES: tuple[Backbone, ...] = (Clip(), Siglip(), Dinov2())
DEFAULT_FAMILY = "clip"

__all__ = ["Backbone", "FAMILIES", "base_tower", "by_name", "family_of", "family_of_config",
           "family_of_module", "run_block"]


def by_name(name: str | None) -> Backbone:
    """The family stored in run.json (None or "" = CLIP, for runs made before families)."""
    for family in FAMILIES:
        if family.name == (name or DEFAULT_FAMILY):
            return family
    raise KeyError(name)


def family_of_config(config) -> Backbone | None:
    """The family of a checkpoint's config, or of its image tower's config."""
    kind = getattr(config, "model_type", "")
    for family in FAMILIES:
        if kind in family.model_types or kind in family.tower_types:
            return family
    return None


def family_of_module(vision) -> Backbone:
    """The family of an image tower (peft-wrapped or not)."""
    family = family_of_config(base_tower(vision).config)
    if family is None:
        raise ValueError(f"no backbone family for {type(base_tower(vision)).__name__}")
    return family


def family_of(ref: str) -> Backbone:
    """The family of a hub id or local folder, from its config.json (raises ModelLoadError
    naming the architecture when no family handles it)."""
    from engine.libraries import ready

    ready()  # before transformers' first import in this thread (engine/libraries.py says why)
    from transformers import AutoConfig

    from engine.errors import ModelLoadError
    from engine.i18n import _

    config = AutoConfig.from_pretrained(ref)
    family = family_of_config(config)
    if family is None:
        names = ", ".join(f.title for f in FAMILIES)
        raise ModelLoadError(_("'{ref}' is a {kind} model; LoRA Studio trains these families: "
                               "{names}.").format(ref=ref, kind=config.model_type, names=names))
    return family
