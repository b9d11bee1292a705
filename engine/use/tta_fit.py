"""Fitting a test-time augmentation's temperature on a run's validation split, and opening
a predictor with a TTA mode (engine.use.tta says what the views and the averaging are).

Apart from engine.use.tta because it reads the run's split as evaluation does
(engine.use.evaluate), which the Predictor itself never needs.
"""
from __future__ import annotations

import torch

from engine.errors import UserError
from engine.i18n import _
from engine.use.tta import VIEWS, check_tta, fit, view_probabilities


def val_view_probabilities(predictor, mode: str, batch_size: int = 32,
                           progress=None) -> tuple[torch.Tensor, torch.Tensor]:
    """([V, N, C] view probabilities, labels [N]) of the run's validation images."""
    from engine.data.cache import DecodeCache
    from engine.use.evaluate import _cache_dir, _samples_from_split

    _index, samples, _skipped = _samples_from_split(predictor.run_dir, "val", None)
    config = predictor.run.get("config") or {}
    cache = DecodeCache(predictor.resolution, framing=predictor.framing,
                        max_memory_mb=int(config.get("cache_max_mb", 2048)),
                        disk_dir=_cache_dir(config))
    probs, labels = [], []
    for start in range(0, len(samples), batch_size):
        part = samples[start:start + batch_size]
        result = cache.load([s.path for s in part])
        if result.kept:
            probs.append(view_probabilities(predictor, result.images, mode))
            labels.extend(part[i].label for i in result.kept)
        if progress:
            progress(min(len(samples), start + batch_size), len(samples))
    if not probs:
        raise UserError(_("None of this run's validation images could be read."))
    return torch.cat(probs, dim=1), torch.tensor(labels, dtype=torch.long)


def use_tta(predictor, mode: str, *, save: bool = True, progress=None) -> list[str]:
    """Make `predictor` predict with TTA `mode`, with that mode's temperature: the one in
    run.json, else fitted now on the validation split (and saved into run.json when `save`).
    Returns warnings for the user (e.g. no validation images: the run's own temperature)."""
    check_tta(mode)
    predictor.tta, predictor.tta_temperature = mode, predictor.temperature
    predictor.tta_info = {"mode": mode, "views": VIEWS[mode],
                          "temperature": predictor.temperature}
    if mode == "off":
        return []
    calibration = dict(predictor.run.get("calibration") or {})
    fitted = dict(calibration.get("tta") or {})
    entry = fitted.get(mode)
    warnings: list[str] = []
    if not isinstance(entry, dict) or "temperature" not in entry:
        try:
            probs, labels = val_view_probabilities(predictor, mode, progress=progress)
            entry = fit(probs, labels, predictor.temperature)
        except UserError as exc:
            entry = None
            warnings.append(_("The temperature for test-time augmentation '{mode}' could not "
                              "be fitted ({reason}), so the run's temperature without it is "
                              "used.").format(mode=mode, reason=str(exc).rstrip(".")))
        if entry is not None:
            fitted[mode] = entry
            calibration["tta"] = fitted
            predictor.run["calibration"] = calibration
            if save:
                _save(predictor.run_dir, mode, entry)
    if entry is not None:
        predictor.tta_temperature = float(entry["temperature"])
    predictor.tta_info = {"mode": mode, "views": VIEWS[mode],
                          "temperature": predictor.tta_temperature}
    if entry is not None:
        predictor.tta_info.update(val_accuracy_off=entry["val_accuracy_off"],
                                  val_accuracy=entry["val_accuracy"])
    return warnings


def _save(run_dir, mode: str, entry: dict) -> None:
    """Add a TTA temperature to run.json's calibration (a folder that cannot be written
    just keeps it in memory: it is fitted again next time)."""
    from engine.runs import write_json_atomic
    from engine.safe_read import read_json

    try:
        run = read_json(run_dir / "run.json")
        calibration = dict(run.get("calibration") or {})
        calibration["tta"] = {**dict(calibration.get("tta") or {}), mode: entry}
        run["calibration"] = calibration
        write_json_atomic(run_dir / "run.json", run)
    except (OSError, UserError):
        pass
