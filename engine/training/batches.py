"""Which images each micro-batch holds and how it is augmented: pure functions of its position.

Determinism scheme (what makes resume exact): epoch e visits the training images in
the order of a permutation drawn from a generator seeded with seed + e, and micro-batch
m of epoch e is augmented with a generator seeded from (seed, e, m, rank). A run
resumed at optimizer step s therefore sees exactly the batches and augmentations an
uninterrupted run would, and only the global torch RNG (LoRA dropout) has to be
saved in the checkpoint.
"""
from __future__ import annotations

import torch


def epoch_order(num_train: int, seed: int, epoch: int) -> torch.Tensor:
    """The permutation of training images for `epoch` (same on every process)."""
    g = torch.Generator().manual_seed(seed * 100_003 + epoch)
    return torch.randperm(num_train, generator=g)


def rank_batch(order: torch.Tensor, micro: int, batch_size: int, rank: int,
               world: int) -> torch.Tensor:
    """This process's share of micro-batch `micro` of the epoch order.

    Every process gets at least one image (the tail wraps around to the start), because
    in DDP all processes must take part in every step.
    """
    span = batch_size * world
    chunk = order[micro * span:(micro + 1) * span]
    if len(chunk) < world:
        chunk = torch.cat([chunk, order[:world - len(chunk)]])
    return chunk[rank::world]


def batch_generator(seed: int, epoch: int, micro: int, rank: int,
                    device: torch.device) -> torch.Generator:
    """The augmentation generator of one micro-batch: a pure function of its position."""
    g = torch.Generator(device=device)
    g.manual_seed(((seed * 1_000_003 + epoch) * 1_000_003 + micro) * 64 + rank)
    return g
