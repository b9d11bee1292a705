"""The learning-rate range test's arithmetic: the LR schedule, the smoothed loss, when to stop
and which LR to suggest. Pure functions over lists of floats (engine.training.lr_finder runs
the steps; tests check the rule on synthetic curves).

The method is fastai's `lr_find` (Leslie Smith's range test): the LR grows exponentially
from START_LR to END_LR, the loss is smoothed with a debiased exponential moving average,
and the test stops once the smoothed loss exceeds DIVERGED_FACTOR x its best.

The suggestion is fastai's `valley` rule (its default since fastai 2.5): the longest stretch
over which the smoothed loss keeps falling, and the LR about half-way down it. It beats
"minimum / 10" because the minimum sits where the loss is about to blow up and moves with
the noise, and it beats "steepest" because a single steep, noisy point decides that one.
A guard keeps the suggestion where the loss had fallen below its start: a suggestion must
never lie in the diverging part.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

START_LR = 1e-7
END_LR = 10.0
MAX_STEPS = 100  # fastai's num_it
MIN_STEPS = 40  # a tiny dataset (one batch) repeats it: fewer steps show the same curve
DIVERGED_FACTOR = 4.0
MAX_SUGGESTION = 1.0  # the largest LR a config accepts (engine.config: lr, head_lr)


def scan_steps(batches_per_epoch: int) -> int:
    """Steps of the test: MAX_STEPS, fewer when one epoch holds only a few batches (they are
    cycled: the same images over and over add little past a few passes)."""
    return max(MIN_STEPS, min(MAX_STEPS, 5 * max(1, batches_per_epoch)))


def lr_at(step: int, steps: int, start: float = START_LR, end: float = END_LR) -> float:
    """The LR of step `step` (0-based) of `steps`: exponential from `start` to `end`."""
    return start * (end / start) ** (step / max(1, steps - 1))


def smoothing_beta(steps: int) -> float:
    """The moving average's weight: 0.98 (fastai's) at 100 steps, the same share of the
    scan (about half of it) at fewer steps."""
    return 1.0 - 2.0 / max(steps, 4)


class Smoother:
    """Debiased exponential moving average of the loss; knows when it has diverged."""

    def __init__(self, beta: float) -> None:
        self.beta, self.avg, self.count = beta, 0.0, 0
        self.best = math.inf

    def add(self, loss: float) -> float:
        self.count += 1
        self.avg = self.beta * self.avg + (1 - self.beta) * loss
        smoothed = self.avg / (1 - self.beta ** self.count)
        self.best = min(self.best, smoothed)
        return smoothed

    def diverged(self, smoothed: float) -> bool:
        return not math.isfinite(smoothed) or smoothed > DIVERGED_FACTOR * self.best


@dataclass
class Suggestion:
    lr: float | None  # None: the curve never fell, there is nothing to suggest
    index: int  # its point on the curve (-1 with no suggestion)
    rule: str  # "valley", or "minimum/10" when the valley fell in the rising part
    limit_lr: float | None = None  # the first LR where the smoothed loss rose above its start
    notes: list[str] = field(default_factory=list)


def valley_index(losses: Sequence[float]) -> tuple[int, int] | None:
    """(start, end) of the longest strictly falling subsequence of `losses` (fastai's valley),
    or None when it is a single point (the loss never fell)."""
    n = len(losses)
    if n < 2:
        return None
    lds = [1] * n
    max_start = max_end = 0
    for i in range(1, n):
        for j in range(i):
            if losses[i] < losses[j] and lds[i] < lds[j] + 1:
                lds[i] = lds[j] + 1
        if lds[max_end] < lds[i]:
            max_end = i
            max_start = max_end - lds[max_end]
    if max_end == 0:
        return None
    return max(0, max_start), max_end


def first_rise(smoothed: Sequence[float], skip: int = 0) -> int | None:
    """The first point after the curve's lowest one where the smoothed loss is above its
    starting value or not finite (None when there is none): from there on the LR makes
    things worse than not training at all. The start is the point `skip` (the average needs
    a few batches before it says more than one batch's loss); noise before the lowest point
    does not count."""
    finite = next((i for i, v in enumerate(smoothed) if not math.isfinite(v)), len(smoothed))
    skip = min(skip, max(0, finite - 1))
    if finite == 0:
        return None
    start = smoothed[skip]
    low = min(range(skip, finite), key=lambda i: smoothed[i])
    for i in range(low + 1, len(smoothed)):
        if i >= finite or smoothed[i] > start:
            return i
    return None


def suggest(lrs: Sequence[float], smoothed: Sequence[float], steps: int) -> Suggestion:
    """The suggested LR of a finished range test (see the module docstring).

    As fastai does, the first tenth of the planned steps (where the LR is too small to
    change anything and the average still settles) and the last five points (where the
    average lags behind a blow-up) are left out of the valley search."""
    n = len(smoothed)
    finite = next((i for i, v in enumerate(smoothed) if not math.isfinite(v)), n)
    lo, hi = steps // 10, min(finite, n - 5)
    if hi - lo < 3:  # too short a curve: use all of it
        lo, hi = 0, finite
    limit = first_rise(smoothed, lo)
    limit_lr = lrs[limit] if limit is not None else None
    found = valley_index(list(smoothed[lo:hi]))
    if found is None:
        return Suggestion(None, -1, "valley", limit_lr)
    start, end = found
    sections = (end - start) / 3
    index = lo + start + int(sections) + int(sections / 2)
    rule = "valley"
    if limit is not None and index >= limit:  # never where the loss is worse than at start
        low = min(range(lo, min(limit, finite)), key=lambda i: smoothed[i])
        target = lrs[low] / 10
        index = min(range(low + 1), key=lambda i: abs(math.log(lrs[i] / target)))
        rule = "minimum/10"
    lr = min(float(lrs[index]), MAX_SUGGESTION)
    return Suggestion(lr, index, rule, limit_lr)
