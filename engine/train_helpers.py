"""Small pure pieces of the training loop, kept out of train.py so it reads top to bottom.

Determinism scheme (what makes resume exact): epoch e visits the training images in
the order of a permutation drawn from a generator seeded with seed + e, and micro-batch
m of epoch e is augmented with a generator seeded from (seed, e, m, rank). A run
resumed at optimizer step s therefore sees exactly the batches and augmentations an
uninterrupted run would, and only the global torch RNG (LoRA dropout) has to be
saved in the checkpoint.
"""
from __future__ import annotations

import math
import os
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import torch
from torch.nn import functional as F

from engine.events import Progress


# --- schedule -------------------------------------------------------------------------
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


# --- data order -----------------------------------------------------------------------
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


# --- evaluation -----------------------------------------------------------------------
@dataclass(frozen=True)
class EvalResult:
    loss: float
    accuracy: float
    per_class: dict[str, float]
    count: int


@torch.no_grad()
def evaluate(logits_of: Callable[[torch.Tensor], torch.Tensor], inputs: torch.Tensor,
             labels: torch.Tensor, class_names: list[str], batch_size: int, device: torch.device,
             autocast, reduce: Callable[[torch.Tensor], torch.Tensor] = lambda t: t,
             rank: int = 0, world: int = 1) -> EvalResult:
    """Loss, accuracy and per-class accuracy of `logits_of` over (inputs, labels).

    Each process scores every world-th sample; `reduce` sums the counts across processes.
    """
    k = len(class_names)
    correct = torch.zeros(k, dtype=torch.float64, device=device)
    seen = torch.zeros(k, dtype=torch.float64, device=device)
    loss_sum = torch.zeros(1, dtype=torch.float64, device=device)
    mine = torch.arange(rank, len(labels), world)
    for start in range(0, len(mine), batch_size):
        idx = mine[start:start + batch_size]
        y = labels[idx].to(device)
        with autocast():
            logits = logits_of(inputs[idx].to(device, non_blocking=True))
        logits = logits.float()
        loss_sum += F.cross_entropy(logits, y, reduction="sum").double()
        hit = (logits.argmax(-1) == y).double()
        correct.index_add_(0, y, hit)
        seen.index_add_(0, y, torch.ones_like(hit))
    totals = reduce(torch.cat([correct, seen, loss_sum])).cpu()
    correct, seen, loss_sum = totals[:k], totals[k:2 * k], totals[2 * k]
    n = float(seen.sum())
    per_class = {name: float(correct[i] / seen[i]) for i, name in enumerate(class_names)
                 if seen[i] > 0}
    return EvalResult(loss=float(loss_sum) / max(n, 1.0), accuracy=float(correct.sum()) / max(n, 1.0),
                      per_class=per_class, count=int(n))


# --- blocking work with live progress ---------------------------------------------------
def with_progress(stage: str, message: str, work: Callable[[Callable[[int, int], None]], Any],
                  min_interval_s: float = 0.1) -> Iterator[Progress]:
    """Run work(progress) in a thread, yielding Progress events while it reports.

    Use as `result = yield from with_progress(...)`: the generator returns work's result
    (or re-raises its exception), so a front end sees live progress of a blocking call.
    """
    updates: queue.Queue = queue.Queue()
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = work(lambda done, total: updates.put((done, total)))
        except BaseException as exc:  # re-raised in the caller's thread below
            outcome["error"] = exc
        finally:
            updates.put(None)

    thread = threading.Thread(target=run, name=f"lora-studio-{stage}", daemon=True)
    thread.start()
    last_sent = 0.0
    while True:
        item = updates.get()
        while item is not None and not updates.empty():  # skip to the newest report
            nxt = updates.get()
            if nxt is None:
                updates.put(None)
                break
            item = nxt
        if item is None:
            break
        done, total = item
        now = time.monotonic()
        if now - last_sent >= min_interval_s or done >= total:
            last_sent = now
            yield Progress(stage=stage, done=int(done), total=int(total), message=message)
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


# --- processes ------------------------------------------------------------------------
def launched_distributed() -> bool:
    """True under torchrun / accelerate launch with more than one process."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def make_accelerator(device_type: str):
    """An Accelerator for this process: plain single-device, or DDP when launched so.

    Mixed precision is done by our own autocast (Precision.autocast), so accelerate runs
    with mixed_precision='no'. Outside a distributed launch the shared accelerate state
    is reset first, so one process (the GUI) can train on cpu, then cuda, and so on.
    """
    from accelerate import Accelerator
    from accelerate.state import AcceleratorState

    if not launched_distributed():
        try:
            AcceleratorState._reset_state(True)
        except AttributeError:  # older/newer accelerate without the reset hook
            pass
    return Accelerator(cpu=device_type == "cpu", mixed_precision="no")
