"""The gradients of one optimiser update, and what happens when they do not fit in memory.

An update sums the gradients of `grad_accum` micro-batches of `batch_size` images. Each
micro-batch is gathered, augmented (and MixUp/CutMix-ed) whole, exactly as the data plan
says; its forward and backward passes may then run in smaller chunks. Chunks start as the
whole micro-batch. When a step runs out of memory (torch.OutOfMemoryError, or the CPU
allocator's "can't allocate memory"), MemoryFallback halves the chunk, which is doubling
the gradient accumulation at half the batch: the effective batch (images per update)
stays the same, the update in progress is redone from its first micro-batch with the
same images and augmentations (no image skipped or counted twice), and the run goes on
from the same step. At a chunk of one image there is nothing left to halve: the error
goes up and the run ends with the plain out-of-memory message (engine.training.failures).
"""
from __future__ import annotations

import contextlib
import math
from typing import Callable

import torch
from torch.nn import functional as F

from engine.i18n import _
from engine.training.batches import batch_generator, rank_batch
from engine.training.failures import is_out_of_memory


def chunks(n: int, size: int) -> list[tuple[int, int]]:
    """[start, end) of consecutive chunks of at most `size` of n items."""
    return [(a, min(a + size, n)) for a in range(0, n, max(1, size))]


class MemoryFallback:
    """The chunk size the forward/backward passes run at (None: the whole micro-batch)."""

    def __init__(self, batch_size: int, grad_accum: int):
        self.batch_size, self.grad_accum = batch_size, grad_accum
        self.chunk: int | None = None
        self.notes: list[str] = []  # log lines not yet shown (the loop yields them)

    @property
    def micro_batch(self) -> int:
        """Images per forward/backward pass now."""
        return min(self.chunk or self.batch_size, self.batch_size)

    @property
    def accumulation(self) -> int:
        """Forward/backward passes per update now (at least; a last short micro-batch of an
        epoch may need fewer)."""
        return self.grad_accum * math.ceil(self.batch_size / self.micro_batch)

    def run(self, step: Callable[[], list], optimizer: torch.optim.Optimizer,
            device: torch.device) -> list:
        """step(), redone at half the chunk each time it runs out of memory."""
        while True:
            try:
                return step()
            except Exception as exc:
                optimizer.zero_grad(set_to_none=True)  # the partial sums of the failed try
                if not is_out_of_memory(exc) or self.micro_batch <= 1:
                    raise
                self.halve(device)

    def halve(self, device: torch.device) -> None:
        old, old_accum = self.micro_batch, self.accumulation
        self.chunk = max(1, old // 2)
        if device.type == "cuda":
            torch.cuda.empty_cache()
        self.notes.append(_(
            "Out of memory at batch size {old} (gradient accumulation {old_accum}): the step "
            "is redone and training goes on with batch size {new} and gradient accumulation "
            "{accum}, so each update still sees {effective} images.").format(
            old=old, old_accum=old_accum, new=self.micro_batch, accum=self.accumulation,
            effective=self.batch_size * self.grad_accum))

    def take_notes(self) -> list[str]:
        notes, self.notes = self.notes, []
        return notes


def accumulate(learner, order: torch.Tensor, epoch: int, group: range) -> list:
    """Backward the loss of every micro-batch of `group` (gradients summed in the model);
    returns (loss, logits, labels) per micro-batch for the step statistics. With MixUp or
    CutMix the loss is the cross-entropy with the soft targets, and the statistics' labels
    are each image's dominant label (the one with the larger share)."""
    config, setup, device = learner.config, learner.setup, learner.device
    weight = getattr(learner, "class_weights", None)
    size = learner.memory.micro_batch
    seen = []
    for m in group:
        x, y = learner.data.batch("train", rank_batch(order, m, config.batch_size, setup.rank,
                                                      setup.world))
        y = y.to(device, non_blocking=True)
        gen = batch_generator(config.seed, epoch, m, setup.rank, device)
        with learner.autocast():
            x = learner.train_inputs(x, gen)
        target = None
        if learner.mixer is not None:
            x, target, _mix = learner.mixer(x, y, learner.num_classes, gen)
        parts = chunks(len(y), size)
        loss_sum, logits_all = 0.0, []
        for i, (a, b) in enumerate(parts):
            sync = m == group[-1] and i == len(parts) - 1  # DDP all-reduces on the last one
            with contextlib.nullcontext() if sync else setup.accelerator.no_sync(learner.net):
                with learner.autocast():
                    logits = learner.net(x[a:b])
                loss = F.cross_entropy(logits.float(), y[a:b] if target is None else target[a:b],
                                       weight=weight)
                share = (b - a) / len(y)  # the micro-batch's mean loss, chunk by chunk
                learner.scaler.scale(loss * (share / len(group))).backward()
            loss_sum = loss_sum + loss.detach() * share
            logits_all.append(logits.detach())
        seen.append((loss_sum, torch.cat(logits_all), y if target is None else target.argmax(-1)))
    return seen


__all__ = ["MemoryFallback", "accumulate", "chunks"]
