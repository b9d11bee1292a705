"""Frozen-block cache, for every backbone family: with LoRA on the last N encoder blocks
only, the blocks before them never change, so their output for an un-augmented image is
the same every epoch.

The cache runs the frozen part (patch embedding, pre-norm, first L-N blocks) once per
image and keeps the hidden states; training and evaluation then run only the last N
blocks, the family's pooling (engine.model.backbones) and the head:

    full   : pixels -> embeddings -> blocks[0:L] -> pooling (family.back) -> head
    cached : states = blocks[0:L-N](embeddings(pixels))     (once, no grad)
             states -> blocks[L-N:L] -> pooling (family.back) -> head  (every step)

The maths is the model's own (the same modules are called in the same order), so a run
with the cache trains the same weights as one without it: only where the states are kept
differs. They are kept as float32 in memory while they fit the run's cache budget, else as
float16 in a memory-mapped temporary file in the cache folder (deleted when the run ends).
Only possible without augmentation: random crops change the frozen blocks' input.
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from engine.model.backbones import base_tower, family_of_module, run_block

from engine.i18n import _

ProgressFn = Callable[[int, int], None]


def num_blocks(vision: nn.Module) -> int:
    return len(family_of_module(vision).blocks(vision))


def frozen_blocks(config, vision: nn.Module) -> int:
    """How many leading blocks the cache can hold for this run (0 = no cache, see why_not)."""
    if why_not(config, vision):
        return 0
    return num_blocks(vision) - config.lora_last_n_blocks


def why_not(config, vision: nn.Module) -> str:
    """Why the frozen blocks cannot be cached for this run ('' when they can)."""
    if config.method != "lora" or not config.cache_frozen_blocks:
        return _("off")
    n = config.lora_last_n_blocks
    if n <= 0 or n >= num_blocks(vision):
        return _("LoRA adapts every block")
    if config.augment:
        return _("augmentation is on (random crops change what the frozen blocks see), so they "
                 "run on every step; turn augmentation off to compute them once per image")
    return ""


def prefix_states(vision: nn.Module, pixel_values: torch.Tensor, k: int) -> torch.Tensor:
    """Hidden states after the first k encoder blocks: [B, tokens, width]."""
    family = family_of_module(vision)
    hidden = family.front(vision, pixel_values)
    for layer in family.blocks(vision)[:k]:
        hidden = run_block(layer, hidden)
    return hidden


def suffix_embeddings(vision: nn.Module, hidden: torch.Tensor, k: int, family=None) -> torch.Tensor:
    """Image embeddings from the states after block k: the remaining blocks, then the family's
    pooling (final norm of the CLS token and projection for CLIP, the attention-pooling head
    for SigLIP): what its embedding is."""
    family = family or family_of_module(vision)
    for layer in family.blocks(vision)[k:]:
        hidden = run_block(layer, hidden)
    return family.back(vision, hidden)


class SuffixClassifier(nn.Module):
    """The trainable part of a classifier whose first k blocks are cached: states -> logits.

    It holds the classifier itself, so its parameters are the classifier's (LoRA + head),
    and DDP can wrap it like the full model.
    """

    def __init__(self, classifier: nn.Module, k: int):
        super().__init__()
        self.classifier = classifier
        self.k = k

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        dtype = next(self.classifier.head.parameters()).dtype
        return self.classifier.head(suffix_embeddings(self.classifier.vision, hidden.to(dtype),
                                                      self.k, self.classifier.family))


class StateStore:
    """Where the cached states live: a float32 tensor in memory, or a float16 memory map."""

    def __init__(self, shape: tuple[int, ...], max_bytes: int, disk_dir: Path | None):
        self.shape = shape
        self._file = None
        if int(np.prod(shape)) * 4 <= max_bytes:
            self.tensor = torch.empty(shape, dtype=torch.float32)
            self.where = "memory"
            return
        folder = disk_dir or Path(tempfile.gettempdir())
        folder.mkdir(parents=True, exist_ok=True)
        # an anonymous temporary file: removed by the OS when closed (or the process ends)
        self._file = tempfile.TemporaryFile(dir=folder, prefix="frozen-states-")
        array = np.memmap(self._file, dtype=np.float16, mode="w+", shape=shape)
        self.tensor = torch.from_numpy(array)
        self.where = "disk"

    @property
    def megabytes(self) -> float:
        return self.tensor.numel() * self.tensor.element_size() / 2**20

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


@torch.no_grad()
def compute_states(images: torch.Tensor, to_pixels: Callable[[torch.Tensor], torch.Tensor],
                   vision: nn.Module, k: int, device: torch.device, autocast, batch_size: int,
                   max_bytes: int, disk_dir: Path | None, progress: ProgressFn,
                   cancel: Callable[[], bool] | None = None) -> StateStore:
    """Run every image (uint8 [N,3,R,R] from the decode cache) through the first k blocks."""
    was_training = vision.training
    vision.eval()
    n = images.shape[0]
    progress(0, n)
    store = None
    try:
        for start in range(0, n, batch_size):
            if cancel is not None and cancel():
                from engine.data.cache import CacheCancelled

                raise CacheCancelled()
            pixels = to_pixels(images[start:start + batch_size].to(device))
            with autocast():
                states = prefix_states(vision, pixels, k).float().cpu()
            if store is None:
                store = StateStore((n, *states.shape[1:]), max_bytes, disk_dir)
            store.tensor[start:start + len(states)] = states.to(store.tensor.dtype)
            progress(min(n, start + batch_size), n)
    except BaseException:
        if store is not None:
            store.close()
        raise
    finally:
        vision.train(was_training)
    if store is None:  # no image at all: an empty store of the right rank
        store = StateStore((0, 1, 1), max_bytes, disk_dir)
    return store


def states_dir(cache_dir: str) -> Path:
    """The folder for a disk-backed store: in the run's cache folder, or beside the default
    decode cache."""
    from engine.data.cache import default_cache_dir

    if cache_dir:
        return Path(cache_dir) / "frozen-states"
    return default_cache_dir().parent / "frozen-states"


__all__ = ["base_tower", "frozen_blocks", "why_not", "prefix_states", "suffix_embeddings",
           "SuffixClassifier", "StateStore", "compute_states", "states_dir", "num_blocks"]
