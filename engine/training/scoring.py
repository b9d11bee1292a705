"""One evaluation pass over prepared inputs: loss, accuracy and per-class accuracy.

Training's validation and test scores and the zero-shot baseline all come from here, so
the numbers they print are comparable.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch.nn import functional as F


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
