"""Test-time augmentation (TTA): a prediction averaged over a few views of each image.

The views are made from the decoded picture (uint8 [B, 3, R, R], the Predictor's decode()
format: the model's input size for runs with a framing) and go through the backend as one
batch, so torch, ONNX Runtime and OpenVINO all compute them alike:

- off: the picture (1 view).
- flip: the picture and its left-right mirror (2 views).
- flip+crops: those two plus 5 crops of side 7/8 R - the four corners and the centre - each
  resized back to R x R (bilinear, antialiased, rounded to uint8) (7 views).

The prediction is the mean of the views' *calibrated* probabilities, softmax(z_v / T). The
temperature T of a TTA mode is fitted for that mode, with the same k-fold decision as
without TTA (engine.use.calibration, on the views' logits [V, N, C]: the likelihood of the
averaged probabilities), so the temperature used with a TTA is the one fitted with it. It is
fitted on the run's validation split the first time the mode is used (or at the end of
training when the config's `tta` names it) and kept in run.json's calibration, under "tta",
with the validation accuracy with and without the views.
"""
from __future__ import annotations

import torch
from torch.nn import functional as F

from engine.errors import UserError
from engine.i18n import _

MODES = ("off", "flip", "flip+crops")
VIEWS = {"off": 1, "flip": 2, "flip+crops": 7}
CROP = 7 / 8  # side of each crop, as a share of the picture's side


def check_tta(mode: str) -> str:
    """`mode` if it is one of MODES, else a plain error naming the choices."""
    if mode not in MODES:
        raise UserError(_("Unknown test-time augmentation '{mode}': choose one of "
                          "{choices}.").format(mode=mode, choices=", ".join(MODES)))
    return mode


def crop_boxes(size: int) -> list[tuple[int, int, int]]:
    """(top, left, side) of flip+crops' crops: top-left, top-right, bottom-left,
    bottom-right, centre."""
    side = max(1, round(size * CROP))
    far, mid = size - side, (size - side) // 2
    return [(0, 0, side), (0, far, side), (far, 0, side), (far, far, side), (mid, mid, side)]


def make_views(images: torch.Tensor, mode: str) -> torch.Tensor:
    """uint8 [B, 3, R, R] -> uint8 [V, B, 3, R, R], the views of `mode` (module docstring)."""
    views = [images]
    if mode in ("flip", "flip+crops"):
        views.append(images.flip(-1))
    if mode == "flip+crops":
        size = images.shape[-1]
        for top, left, side in crop_boxes(size):
            crop = images[..., top:top + side, left:left + side].float()
            resized = F.interpolate(crop, size=(size, size),
                                    mode="bilinear", align_corners=False, antialias=True)
            views.append(resized.round().clamp(0, 255).to(torch.uint8))
    return torch.stack(views)


def retemper(probs: torch.Tensor, t_from: float, t_to: float) -> torch.Tensor:
    """softmax(z / t_to) from softmax(z / t_from): log p = z / t_from - a per-row constant."""
    if t_from == t_to:
        return probs
    return (probs.double().clamp_min(1e-300).log() * (t_from / t_to)).softmax(-1).float()


def view_probabilities(predictor, images: torch.Tensor, mode: str) -> torch.Tensor:
    """[V, B, C] probabilities at the predictor's own temperature, all views in one batch."""
    views = make_views(images, mode)
    v, b = views.shape[:2]
    probs = predictor.view_probabilities(views.reshape(v * b, *views.shape[2:]))
    return probs.reshape(v, b, -1)


def averaged(predictor, images: torch.Tensor) -> torch.Tensor:
    """The predictor's probabilities [B, C] under its TTA mode and that mode's temperature."""
    mode = getattr(predictor, "tta", "off")
    if mode == "off":
        return predictor.view_probabilities(images)
    probs = view_probabilities(predictor, images, mode)
    return retemper(probs, predictor.temperature, predictor.tta_temperature).mean(0)


def fit(view_probs: torch.Tensor, labels: torch.Tensor, temperature: float) -> dict:
    """The calibration of a TTA mode from its views' probabilities [V, N, C] on the
    validation split (computed at `temperature`), with the accuracy with and without TTA."""
    from engine.use.calibration import calibration_summary

    logits = view_probs.double().clamp_min(1e-300).log() * temperature  # z up to a constant
    summary = calibration_summary(logits, labels)
    return {**summary, "views": int(view_probs.shape[0]),
            "val_accuracy_off": float((view_probs[0].argmax(-1) == labels).double().mean()),
            "val_accuracy": float((view_probs.mean(0).argmax(-1) == labels).double().mean())}


def describe(info: dict) -> str:
    """One line for a report: which TTA and what it did to the validation accuracy."""
    mode = info.get("mode", "off")
    if mode == "off":
        return _("Test-time augmentation: off.")
    if "val_accuracy" not in info:
        return _("Test-time augmentation: {mode} ({views} views).").format(
            mode=mode, views=info.get("views", 0))
    return _("Test-time augmentation: {mode} ({views} views, temperature {t:.2f}); on the "
             "validation split accuracy {off:.1%} without it, {on:.1%} with it "
             "({delta:+.1f} points).").format(
        mode=mode, views=info.get("views", 0), t=info.get("temperature", 1.0),
        off=info["val_accuracy_off"], on=info["val_accuracy"],
        delta=100 * (info["val_accuracy"] - info["val_accuracy_off"]))
