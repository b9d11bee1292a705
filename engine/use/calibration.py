"""Calibrated confidence: temperature scaling, expected calibration error, reliability bins.

A fine-tuned classifier's softmax is usually over-confident: it says 95 % where it is
right 80 % of the time. Temperature scaling (Guo et al., 2017) divides the logits by one
number T, fitted on the validation split to minimise the negative log-likelihood; it
never changes which class wins, only how sure the model says it is. The expected
calibration error (ECE) is the gap between confidence and accuracy, averaged over
confidence bins weighted by how many images fall in each.
"""
from __future__ import annotations

import torch
from torch.nn import functional as F

BINS = 15  # the usual number of equal-width confidence bins
T_RANGE = (0.05, 20.0)


def fit_temperature(logits: torch.Tensor, labels: torch.Tensor, steps: int = 200) -> float:
    """The T > 0 minimising cross-entropy(logits / T, labels) (L-BFGS on log T)."""
    logits = logits.detach().double()
    labels = labels.detach().long()
    if len(labels) == 0 or bool((logits.argmax(-1) == labels).all()):
        # without a single mistake the likelihood only grows as T shrinks towards 0, which
        # would make every answer "100 %": there is nothing to calibrate against
        return 1.0
    log_t = torch.zeros((), dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([log_t], lr=0.5, max_iter=steps, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = F.cross_entropy(logits / log_t.exp(), labels)
        loss.backward()
        return loss

    optimizer.step(closure)
    t = float(log_t.detach().exp())
    if t != t:  # NaN: the logits were degenerate; keep them as they are
        return 1.0
    return min(max(t, T_RANGE[0]), T_RANGE[1])


def reliability(probs: torch.Tensor, labels: torch.Tensor, bins: int = BINS) -> list[dict]:
    """Per confidence bin: its range, mean confidence, accuracy and image count."""
    confidence, predicted = probs.max(-1)
    correct = (predicted == labels).double()
    rows = []
    for i in range(bins):
        lower, upper = i / bins, (i + 1) / bins
        inside = (confidence > lower) & (confidence <= upper) if i else confidence <= upper
        n = int(inside.sum())
        rows.append({"lower": lower, "upper": upper, "count": n,
                     "confidence": float(confidence[inside].double().mean()) if n else None,
                     "accuracy": float(correct[inside].mean()) if n else None})
    return rows


def expected_calibration_error(probs: torch.Tensor, labels: torch.Tensor,
                               bins: int = BINS) -> float:
    total = max(1, len(labels))
    return sum(r["count"] / total * abs(r["accuracy"] - r["confidence"])
               for r in reliability(probs, labels, bins) if r["count"])


def uncalibrated(probs: torch.Tensor, temperature: float) -> torch.Tensor:
    """The probabilities before temperature scaling, from the calibrated ones:
    softmax(T * log p) = softmax(logits), since log p = logits / T - a per-row constant."""
    return (probs.clamp_min(1e-12).log() * temperature).softmax(-1)


def calibration_summary(logits: torch.Tensor, labels: torch.Tensor) -> dict:
    """Fit T on (logits, labels) and say what it changed: the dict run.json records."""
    t = fit_temperature(logits, labels)
    before = F.softmax(logits.double(), -1)
    after = F.softmax(logits.double() / t, -1)
    return {"temperature": round(t, 6), "fitted_on": "val", "images": int(len(labels)),
            "ece_before": round(expected_calibration_error(before, labels), 6),
            "ece_after": round(expected_calibration_error(after, labels), 6),
            "nll_before": round(float(F.nll_loss(before.log(), labels)), 6),
            "nll_after": round(float(F.nll_loss(after.log(), labels)), 6)}
