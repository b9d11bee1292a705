"""Calibrated confidence: temperature scaling, expected calibration error, reliability bins.

A fine-tuned classifier's softmax is usually over-confident: it says 95 % where it is
right 80 % of the time. Temperature scaling (Guo et al., 2017) divides the logits by one
number T, fitted on the validation split to minimise the negative log-likelihood (NLL); it
never changes which class wins, only how sure the model says it is. The expected
calibration error (ECE) is the gap between confidence and accuracy, averaged over
confidence bins weighted by how many images fall in each.

Calibration must never make things worse, and a temperature scored on the images it was
fitted on always looks better than it is: on a few dozen images the fit follows the one or
two mistakes there are (a run fitted T 0.51 and its error went from 16.4 % to 22.7 %; the
demo's 16 images gave T 0.58, and a wrong answer then read 97 %). So `calibration_summary`
decides by k-fold cross-validation on the validation split: the images are dealt into
FOLDS folds, each fold's images are divided by a temperature fitted on the other folds, and
these held-out probabilities are compared with the uncalibrated ones. The temperature
fitted on the whole split is kept only when, on held-out images, it lowers both the ECE
and the NLL, and it does not raise the ECE of the split it was fitted on either (a guard:
the NLL's minimum can have a worse ECE); otherwise T stays 1 and the run says why, with
the numbers. Cross-validation
rather than shrinking T towards 1: a shrinkage strength would be one more guess, and it
cannot tell when temperature scaling hurts, which the held-out score measures directly.
The folds are dealt by class in image order (no random numbers), and L-BFGS in float64 on
the CPU is deterministic, so the same logits always give the same decision.

Below MIN_IMAGES validation images the run stays uncalibrated (see the constant).
"""
from __future__ import annotations

import torch
from torch.nn import functional as F

from engine.i18n import _

BINS = 15  # the usual number of equal-width confidence bins
T_RANGE = (0.05, 20.0)
FOLDS = 5  # cross-validation folds for the keep-or-not decision
# Fewer validation images than this and the run stays uncalibrated: each held-out fold
# would hold under 4 images, one image would move the calibration error by more than
# 5 points (more than temperature scaling usually changes it), and the fit would follow the
# one or two mistakes there are. 20 is also what a small real dataset (10 classes, 2
# validation images each) reaches, so real runs are calibrated; the 16-image demo is not.
MIN_IMAGES = 20

# calibration_summary()["status"]: what the run did with its confidence
CALIBRATED, NOT_HELPFUL, TOO_FEW, NO_MISTAKES = ("calibrated", "not_helpful", "too_few_images",
                                                "no_mistakes")


def probabilities(logits: torch.Tensor, t: torch.Tensor | float = 1.0) -> torch.Tensor:
    """softmax(logits / t): [N, C] logits, or the views of test-time augmentation [V, N, C]
    (engine.use.tta), whose probabilities are averaged over the views."""
    probs = F.softmax(logits / t, -1)
    return probs.mean(0) if logits.dim() == 3 else probs


def fit_temperature(logits: torch.Tensor, labels: torch.Tensor, steps: int = 200) -> float:
    """The T > 0 minimising the negative log-likelihood of probabilities(logits, T) (L-BFGS
    on log T); [V, N, C] logits: of the view-averaged probabilities."""
    logits = logits.detach().double()
    labels = labels.detach().long()
    if len(labels) == 0 or bool((probabilities(logits).argmax(-1) == labels).all()):
        # without a single mistake the likelihood only grows as T shrinks towards 0, which
        # would make every answer "100 %": there is nothing to calibrate against
        return 1.0
    log_t = torch.zeros((), dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([log_t], lr=0.5, max_iter=steps, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        t = log_t.exp()
        loss = F.cross_entropy(logits / t, labels) if logits.dim() == 2 else \
            _nll(probabilities(logits, t), labels)
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


def folds(labels: torch.Tensor, k: int = FOLDS) -> list[torch.Tensor]:
    """Image indices dealt into k folds class by class, in image order: every fold gets its
    share of each class, and the same labels always give the same folds."""
    order = sorted(range(len(labels)), key=lambda i: (int(labels[i]), i))
    return [torch.tensor(order[f::k], dtype=torch.long) for f in range(k)]


def held_out_probabilities(logits: torch.Tensor, labels: torch.Tensor,
                           k: int = FOLDS) -> torch.Tensor:
    """Each image's probabilities divided by a temperature fitted without it (k-fold)."""
    logits, labels = logits.detach().double(), labels.detach().long()
    probs = torch.empty(logits.shape[-2:], dtype=logits.dtype)
    for held in folds(labels, k):
        rest = torch.ones(len(labels), dtype=torch.bool)
        rest[held] = False
        t = fit_temperature(logits[..., rest, :], labels[rest])
        probs[held] = probabilities(logits[..., held, :], t)
    return probs


def _nll(probs: torch.Tensor, labels: torch.Tensor):
    """Mean negative log-likelihood (a tensor: fit_temperature differentiates it)."""
    return F.nll_loss(probs.clamp_min(1e-300).log(), labels)


def calibration_summary(logits: torch.Tensor, labels: torch.Tensor) -> dict:
    """Decide the run's temperature on (logits, labels), the validation split, and say what
    happened: the dict run.json records (see the module docstring).

    status: CALIBRATED (temperature kept; ece/nll before and after are on held-out images,
    ece_fitted on all of them), NOT_HELPFUL (T 1; tried_* hold what the fitted temperature
    did: tried_ece and tried_nll on held-out images, tried_ece_fitted on all of them),
    TOO_FEW (fewer than MIN_IMAGES images; T 1) or NO_MISTAKES (nothing to fit on; T 1)."""
    logits, labels = logits.detach().double(), labels.detach().long()
    n = int(len(labels))
    before = probabilities(logits)
    ece_before = expected_calibration_error(before, labels)
    nll_before = float(_nll(before, labels))
    summary = {"status": CALIBRATED, "temperature": 1.0, "fitted_on": "val", "images": n,
               "minimum_images": MIN_IMAGES, "folds": 0,
               "ece_before": round(ece_before, 6), "ece_after": round(ece_before, 6),
               "nll_before": round(nll_before, 6), "nll_after": round(nll_before, 6)}
    if n < MIN_IMAGES:
        return {**summary, "status": TOO_FEW}
    if bool((before.argmax(-1) == labels).all()):
        return {**summary, "status": NO_MISTAKES}
    t = fit_temperature(logits, labels)
    held_out = held_out_probabilities(logits, labels)
    ece_after, nll_after = expected_calibration_error(held_out, labels), float(_nll(held_out,
                                                                                   labels))
    # and a guard: the temperature saved must not raise the error of the images it was
    # fitted on either (a T minimising the NLL can: the log's 16.4 % -> 22.7 %)
    ece_fitted = expected_calibration_error(probabilities(logits, t), labels)
    summary["folds"] = FOLDS
    if ece_after < ece_before and nll_after < nll_before and ece_fitted < ece_before:
        return {**summary, "temperature": round(t, 6), "ece_after": round(ece_after, 6),
                "nll_after": round(nll_after, 6), "ece_fitted": round(ece_fitted, 6)}
    return {**summary, "status": NOT_HELPFUL, "tried_temperature": round(t, 6),
            "tried_ece": round(ece_after, 6), "tried_nll": round(nll_after, 6),
            "tried_ece_fitted": round(ece_fitted, 6)}


def describe(summary: dict) -> str:
    """The sentence a log or a report gives a calibration_summary(): what the run did."""
    status = summary.get("status")
    values = dict(images=summary.get("images", 0), minimum=summary.get("minimum_images",
                                                                         MIN_IMAGES),
                  temperature=summary.get("temperature", 1.0),
                  before=summary.get("ece_before", 0.0), after=summary.get("ece_after", 0.0),
                  tried=summary.get("tried_temperature", 1.0),
                  tried_ece=summary.get("tried_ece", 0.0),
                  nll_before=summary.get("nll_before", 0.0),
                  tried_nll=summary.get("tried_nll", 0.0),
                  tried_fitted=summary.get("tried_ece_fitted", 0.0))
    if status == TOO_FEW:
        text = _("The confidence stays uncalibrated: {images} validation images are too few to "
                 "calibrate on (at least {minimum} are needed).")
    elif status == NO_MISTAKES:
        text = _("The confidence stays uncalibrated: the model made no mistake on the {images} "
                 "validation images, so there is nothing to calibrate against.")
    elif status == NOT_HELPFUL and values["tried_ece"] < values["before"] and \
            values["tried_nll"] < values["nll_before"]:  # better held out, worse where fitted
        text = _("The confidence stays uncalibrated: a temperature of {tried:.2f} lowered the "
                 "expected calibration error on held-out validation images ({before:.1%} -> "
                 "{tried_ece:.1%}) but not on the images it was fitted on ({before:.1%} -> "
                 "{tried_fitted:.1%}).")
    elif status == NOT_HELPFUL:
        text = _("The confidence stays uncalibrated: temperature scaling did not help on "
                 "held-out validation images (a temperature of {tried:.2f} gave expected "
                 "calibration error {before:.1%} -> {tried_ece:.1%}, log-loss "
                 "{nll_before:.3f} -> {tried_nll:.3f}).")
    elif status == CALIBRATED or summary.get("temperature", 1.0) != 1.0:
        text = _("Calibrated the confidence on {images} validation images: temperature "
                 "{temperature:.2f}, expected calibration error on held-out images {before:.1%} "
                 "-> {after:.1%}.") if status == CALIBRATED else \
            _("Calibrated the confidence: temperature {temperature:.2f}.")  # an older run.json
    else:
        text = _("The confidence is uncalibrated.")
    return text.format(**values)
