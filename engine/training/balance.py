"""Balanced classes: which remedy a run uses for a skewed training split, and the remedies.

- weighted-loss: cross-entropy with class weights w_c = N / (K * n_c) (inverse frequency,
  normalised so that the weights average 1 over the images: sum_c n_c * w_c = N). A class
  with half the average number of images counts twice per image; the loss of a balanced
  set is unchanged.
- balanced-sampler: each epoch draws N training images with replacement, each image with
  probability 1 / (K' * n_c) (K' classes present), so every class is drawn equally often on
  average. The draw is a pure function of (seed, epoch), like engine.training.batches'
  permutation: every process of a DDP run draws the same order and takes its share of it
  (rank_batch), and a resumed run sees the same batches. It only picks rows of the training
  split, so it works the same over images, embeddings or cached frozen-block states.
- auto: weighted-loss when the largest class has AUTO_RATIO times the training images of
  the smallest or more, else none.
"""
from __future__ import annotations

import torch

from engine.i18n import _

MODES = ("auto", "none", "weighted-loss", "balanced-sampler")
AUTO_RATIO = 3.0  # auto balances from this largest/smallest class ratio on


def class_counts(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Training images per class [K] (int64)."""
    return torch.bincount(labels.long().cpu(), minlength=num_classes)


def imbalance(counts: torch.Tensor) -> float:
    """Largest class / smallest class, over the classes that have training images."""
    present = counts[counts > 0]
    return float(present.max()) / float(present.min()) if len(present) else 1.0


def choose(mode: str, counts: torch.Tensor, class_names: list[str]) -> tuple[str, str]:
    """(the remedy used: none | weighted-loss | balanced-sampler, the log line saying why)."""
    ratio = imbalance(counts)
    present = [i for i in range(len(counts)) if counts[i] > 0]
    big = max(present, key=lambda i: int(counts[i])) if present else 0
    small = min(present, key=lambda i: int(counts[i])) if present else 0
    values = dict(ratio=ratio, big=class_names[big] if present else "",
                  small=class_names[small] if present else "",
                  n_big=int(counts[big]) if present else 0,
                  n_small=int(counts[small]) if present else 0, limit=AUTO_RATIO)
    if mode == "auto":
        if ratio >= AUTO_RATIO:
            return "weighted-loss", _(
                "Classes are imbalanced ({big}: {n_big} training images, {small}: {n_small}; "
                "{ratio:.1f}x), so the loss is weighted by inverse class frequency "
                "(class_balance auto; 'none' turns it off).").format(**values)
        return "none", _("Classes are balanced enough ({ratio:.1f}x between the largest and "
                         "the smallest, under {limit:.0f}x): the loss is not "
                         "weighted.").format(**values)
    if mode == "weighted-loss":
        return mode, _("The loss is weighted by inverse class frequency (largest/smallest "
                       "class {ratio:.1f}x).").format(**values)
    if mode == "balanced-sampler":
        return mode, _("Training batches draw every class equally often (largest/smallest "
                       "class {ratio:.1f}x).").format(**values)
    return "none", ""


def loss_weights(counts: torch.Tensor) -> torch.Tensor:
    """w_c = N / (K' * n_c) for the K' classes with images (0 for the others): float32 [K]."""
    counts = counts.double()
    present = counts > 0
    weights = torch.zeros_like(counts)
    weights[present] = counts.sum() / (int(present.sum()) * counts[present])
    return weights.float()


def balanced_order(labels: torch.Tensor, seed: int, epoch: int) -> torch.Tensor:
    """An epoch's training positions [N]: drawn with replacement, every class equally likely."""
    labels = labels.long().cpu()
    counts = torch.bincount(labels).double()
    present = int((counts > 0).sum())
    probs = 1.0 / (present * counts[labels])
    g = torch.Generator().manual_seed(seed * 100_003 + epoch + 7_919)
    return torch.multinomial(probs, len(labels), replacement=True, generator=g)


def describe_used(mode: str, chosen: str, counts: torch.Tensor, class_names: list[str]) -> dict:
    """What run.json records about the balancing."""
    record = {"mode": mode, "used": chosen, "ratio": round(imbalance(counts), 4),
              "train_counts": {n: int(c) for n, c in zip(class_names, counts.tolist())}}
    if chosen == "weighted-loss":
        record["weights"] = {n: round(float(w), 6)
                             for n, w in zip(class_names, loss_weights(counts).tolist())}
    return record
