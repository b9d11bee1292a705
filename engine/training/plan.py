"""The step plan of a run: how many micro-batches and optimiser updates, and the LR schedule."""
from __future__ import annotations

import math
from dataclasses import dataclass


def lr_factor(step: int, total_steps: int, warmup_steps: int) -> float:
    """Multiplier of the peak LR for optimizer update `step` (0-based): linear warmup, cosine to 0."""
    if step < warmup_steps:
        return (step + 1) / (warmup_steps + 1)
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


@dataclass(frozen=True)
class Plan:
    """How many micro-batches and optimizer steps the run has."""

    micro_per_epoch: int  # micro-batches per epoch (per process)
    steps_per_epoch: int  # optimizer updates per epoch
    total_steps: int
    epochs: int  # epochs actually started (fewer than configured when max_steps ends early)
    warmup_steps: int

    def micro_start(self, step_in_epoch: int, grad_accum: int) -> int:
        return min(self.micro_per_epoch, step_in_epoch * grad_accum)


def make_plan(num_train: int, batch_size: int, world: int, grad_accum: int, epochs: int,
              max_steps: int, warmup_ratio: float) -> Plan:
    micro = max(1, math.ceil(num_train / (batch_size * world)))
    per_epoch = math.ceil(micro / grad_accum)
    total = epochs * per_epoch
    if max_steps > 0:
        total = max_steps
    n_epochs = math.ceil(total / per_epoch)
    return Plan(micro, per_epoch, total, n_epochs, int(round(warmup_ratio * total)))
