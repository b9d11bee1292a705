"""Evaluate a saved run on a split of its dataset or on any labelled folder.

Writes <run>/report/: report.json (sorted JSON, everything below), confusion_matrix.png
and errors.csv (misclassified files, most confident mistakes first). Images go through
the decode cache and the Predictor's path: framed as the base model's processor frames
them, decoded straight to the input size (engine.use.predict.prediction_resolution).
"""
from __future__ import annotations

import csv
import datetime as dt
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import torch

from engine.errors import UserError
from engine.i18n import _
from engine.safe_read import damaged, read_json

SPLITS = ("train", "val", "test")
TOP_K = 5  # top-5 accuracy is reported when there are more classes than this


@dataclass
class Report:
    accuracy: float
    top5_accuracy: float | None  # None with 5 classes or fewer (it would always be 100 %)
    per_class: list[dict]  # {name, folder, precision, recall, f1, support}
    confusion: list[list[int]]  # [true][predicted] counts
    class_names: list[str]
    errors: list[dict]  # misclassified {path, true, predicted, confidence}, most confident first
    report_dir: str
    samples: list[dict] = field(default_factory=list)  # every image, same keys as errors
    source: str = "test"  # "train" | "val" | "test" | the evaluated folder
    skipped: list[dict] = field(default_factory=list)  # {path, reason}: unreadable or missing
    macro_f1: float = 0.0
    run_name: str = ""
    created: str = ""
    # temperature, ece, ece_before, reliability, reliability_before (engine.use.calibration)
    # on these images; status and fit: what training decided (its calibration_summary)
    calibration: dict = field(default_factory=dict)
    # the test-time augmentation used: mode, views, temperature and, where it was fitted, the
    # validation accuracy without (val_accuracy_off) and with it (engine.use.tta)
    tta: dict = field(default_factory=dict)

    @property
    def num_images(self) -> int:
        return len(self.samples)

    def cell_samples(self, true_index: int, predicted_index: int) -> list[dict]:
        """The images of one confusion-matrix cell (for the GUI's strip of thumbnails)."""
        t, p = self.class_names[true_index], self.class_names[predicted_index]
        return [s for s in self.samples if s["true"] == t and s["predicted"] == p]

    def to_dict(self) -> dict:
        return {**asdict(self), "num_images": self.num_images}

    def calibration_text(self) -> str:
        """What training did with the confidence, and (a second line) the calibration error
        on these images."""
        from engine.use.calibration import CALIBRATED, describe

        cal = self.calibration
        fit = cal.get("fit") or {"temperature": cal["temperature"]}  # a report from before
        here = (_("On these images: expected calibration error {after:.1%} ({before:.1%} "
                  "uncalibrated).") if cal.get("status") == CALIBRATED else
                _("On these images: expected calibration error {after:.1%}.")).format(
            after=cal["ece"], before=cal["ece_before"])
        return describe(fit) + "\n  " + here

    def summary(self) -> str:
        """A few lines for the command line."""
        source = _(self.source) if self.source in SPLITS else self.source  # "test": a split
        values = dict(run=self.run_name, n=self.num_images, source=source,
                      accuracy=self.accuracy, k=TOP_K, top5=self.top5_accuracy, f1=self.macro_f1)
        if self.top5_accuracy is not None:
            first = _("{run}: {n} images ({source}), accuracy {accuracy:.1%}, top-{k} {top5:.1%}, "
                      "macro F1 {f1:.3f}")
        else:
            first = _("{run}: {n} images ({source}), accuracy {accuracy:.1%}, macro F1 {f1:.3f}")
        lines = [first.format(**values)]
        from engine.i18n import columns, pad

        head = _("class")
        width = max(columns(c["name"]) for c in self.per_class)
        start = any("start_recall" in c for c in self.per_class)  # recall before training
        lines.append(f"  {pad(head, width)}  " + _("precision  recall     f1  images") +
                     ("  " + _("recall at start") if start else ""))
        for c in self.per_class:
            was = c.get("start_recall")
            lines.append(f"  {pad(c['name'], width)}  {c['precision']:9.3f}  {c['recall']:6.3f}  "
                         f"{c['f1']:5.3f}  {c['support']:6d}" +
                         (f"  {was:15.3f}" if was is not None else ""))
        if self.tta:
            from engine.use.tta import describe as describe_tta

            lines.append("  " + describe_tta(self.tta))
        if self.calibration:
            lines.append("  " + self.calibration_text())
        if self.skipped:
            lines.append(_("  {n} image(s) skipped (unreadable or missing).").format(
                n=len(self.skipped)))
        lines.append(_("  {n} misclassified; report written to {folder}").format(
            n=len(self.errors), folder=self.report_dir))
        return "\n".join(lines)


def load_report(folder: str | os.PathLike) -> Report | None:
    """The saved report of a run folder (or of a report folder itself); None if there is none."""
    import dataclasses
    import json

    folder = Path(folder)
    path = folder / "report.json" if (folder / "report.json").is_file() else folder / "report" / "report.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    names = {f.name for f in dataclasses.fields(Report)}
    try:
        return Report(**{k: v for k, v in data.items() if k in names})
    except TypeError:  # an older or foreign file missing required fields
        return None


def _class_map(run_classes: list[dict], found: list, source: str) -> dict[int, int]:
    """Folder classes (engine.data.index.ClassInfo) -> run class index, by folder or display name."""
    keys: dict[str, int] = {}
    for i, c in enumerate(run_classes):
        for key in (c["folder"], c["display_name"]):
            keys.setdefault(key, i)
            keys.setdefault(key.casefold(), i)
    mapping, unknown = {}, []
    for j, c in enumerate(found):
        hit = next((keys[k] for k in (c.folder, c.display_name, c.folder.casefold(),
                                      c.display_name.casefold()) if k in keys), None)
        if hit is None:
            unknown.append(c.folder)
        else:
            mapping[j] = hit
    if unknown:
        known = ", ".join(c["folder"] for c in run_classes)
        raise UserError(_("{source} has classes this model was not trained on: {unknown}. Its "
                          "class folders must be named like the run's classes ({known}); rename "
                          "or remove the others.").format(source=source,
                                                          unknown=", ".join(unknown), known=known))
    return mapping


def _samples_from_split(run_dir: Path, split: str, data_root: str | None):
    from engine.data.index import listed_folder, listed_paths, load_split

    if split not in SPLITS:
        raise UserError(_("Unknown split '{split}': choose train, val or test (or a folder).")
                        .format(split=split))
    split_json = run_dir / "split.json"
    if not split_json.is_file():
        raise UserError(_("{run} has no split.json, so its {split} images are unknown. Evaluate "
                          "on a folder of labelled images instead.").format(run=run_dir,
                                                                           split=split))
    advice = _("Evaluate on a folder of labelled images instead, or restore the run folder from "
               "a backup.")
    data = read_json(split_json, advice=advice)
    try:
        index = load_split(data, root=data_root)
    except UserError as exc:  # entries missing or of the wrong type
        raise damaged(split_json, _("has the wrong contents"), str(exc).rstrip("."),
                      advice) from None
    # load_split reports missing files of every split; keep those of the evaluated one
    listed = {path for name, path, _cls in listed_paths(data, data_root) if name == split}
    skipped = [{"path": p.path, "reason": p.reason} for p in index.problems
               if p.severity != "error" and p.path in listed]
    samples = index.split(split)
    if not samples:
        if skipped:
            raise UserError(_("The {split} images listed in split.json are missing from {root} "
                              "(was the dataset moved?). Give its new location (--data-root) or "
                              "evaluate on a folder.").format(
                split=split, root=data_root or listed_folder(data)))
        raise UserError(_("This run has no {split} images (its {split} share was 0). Evaluate "
                          "another split or a folder of labelled images.").format(split=split))
    return index, samples, skipped


def _samples_from_folder(folder: str):
    from engine.data.index import scan_dataset

    index = scan_dataset(folder, val_fraction=0.0, test_fraction=0.0, verify=False)
    skipped = [{"path": p.path, "reason": p.reason} for p in index.problems
               if p.severity != "error"]
    if not index.samples:
        raise UserError(_("{folder} holds no labelled images: it needs one sub-folder per class "
                          "(named like the run's classes) with images inside.").format(
            folder=folder))
    return index, index.samples, skipped


def _cache_dir(config: dict) -> str | None:
    """The run's cache folder if it exists here (a run from elsewhere names foreign paths)."""
    folder = config.get("cache_dir") or ""
    return folder if folder and os.path.isdir(folder) else None


def _predict_all(predictor, paths: list[str], batch_size: int, progress, config: dict):
    """Probabilities [K, C] for the readable paths, their indices, and the unreadable ones."""
    from engine.data.cache import DecodeCache

    cache = DecodeCache(predictor.resolution, framing=predictor.framing,
                        max_memory_mb=int(config.get("cache_max_mb", 2048)),
                        disk_dir=_cache_dir(config))
    probs, kept, failed = [], [], []
    total = len(paths)
    if progress:
        progress(0, total)
    for start in range(0, total, batch_size):
        result = cache.load(paths[start:start + batch_size])
        if result.kept:
            probs.append(predictor.probabilities(result.images))
        kept.extend(start + i for i in result.kept)
        failed.extend({"path": p.path, "reason": p.reason} for p in result.failed)
        if progress:
            progress(min(total, start + batch_size), total)
    n_classes = len(predictor.class_names)
    return (torch.cat(probs) if probs else torch.zeros(0, n_classes)), kept, failed


def compute_metrics(y_true: torch.Tensor, probs: torch.Tensor, class_names: list[str],
                    folders: list[str]) -> dict:
    """accuracy, top-5, per-class precision/recall/F1 (scikit-learn) and the confusion matrix."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    n = len(class_names)
    y_pred = probs.argmax(-1)
    labels = list(range(n))
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true.numpy(), y_pred.numpy(), labels=labels, zero_division=0)
    top5 = None
    if n > TOP_K:
        hits = (probs.topk(TOP_K, dim=-1).indices == y_true[:, None]).any(-1)
        top5 = float(hits.sum()) / len(hits)
    present = support > 0  # macro F1 over the classes this evaluation has images of
    return {
        "accuracy": float((y_pred == y_true).sum()) / max(1, len(y_true)),
        "top5_accuracy": top5,
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "per_class": [{"name": class_names[i], "folder": folders[i],
                       "precision": float(precision[i]), "recall": float(recall[i]),
                       "f1": float(f1[i]), "support": int(support[i])} for i in labels],
        "confusion": confusion_matrix(y_true.numpy(), y_pred.numpy(), labels=labels).tolist(),
    }


def _calibration(probs: torch.Tensor, y_true: torch.Tensor, temperature: float,
                 fit: dict | None = None) -> dict:
    """How well the confidence matches the accuracy here, with and without the run's
    temperature (1 for runs trained before calibration existed, or left uncalibrated), and
    what training decided (`fit`: run.json's calibration)."""
    from engine.use.calibration import (CALIBRATED, expected_calibration_error, reliability,
                                        uncalibrated)

    fit = dict(fit) if isinstance(fit, dict) else {}
    before = uncalibrated(probs, temperature) if temperature != 1.0 else probs
    status = fit.get("status") or (CALIBRATED if temperature != 1.0 else "uncalibrated")
    return {"temperature": temperature, "status": status, "fit": fit,
            "ece": round(expected_calibration_error(probs, y_true), 6),
            "ece_before": round(expected_calibration_error(before, y_true), 6),
            "reliability": reliability(probs, y_true),
            "reliability_before": reliability(before, y_true)}


def evaluate_run(run_dir: str | os.PathLike, split: str = "test", folder: str | None = None,
                 progress: Callable[[int, int], None] | None = None, *, predictor=None,
                 batch_size: int = 32, data_root: str | None = None,
                 report_dir: str | os.PathLike | None = None) -> Report:
    """Evaluate `run_dir` on its `split` (from split.json) or on a labelled `folder`.

    Writes report.json, confusion_matrix.png and errors.csv to `report_dir` (default
    <run>/report) and returns the Report. `predictor` reuses an already loaded model.
    """
    from engine.use.predict import Predictor

    run_dir = Path(run_dir)
    predictor = predictor or Predictor(run_dir)
    meta = predictor.run
    if folder:
        index, samples, skipped = _samples_from_folder(folder)
        source = str(Path(folder).resolve())
    else:
        index, samples, skipped = _samples_from_split(run_dir, split, data_root)
        source = split
    run_classes = meta.get("classes") or [{"folder": n, "display_name": n}
                                          for n in predictor.class_names]
    mapping = _class_map(run_classes, index.classes, source)
    paths = [s.path for s in samples]
    probs, kept, failed = _predict_all(predictor, paths, max(1, batch_size), progress,
                                       meta.get("config") or {})
    skipped += failed
    if not kept:
        raise UserError(_("None of the {n} images of {source} could be read.").format(
            n=len(paths), source=source))
    y_true = torch.tensor([mapping[samples[i].label] for i in kept], dtype=torch.long)
    names = predictor.class_names
    metrics = compute_metrics(y_true, probs, names, [c["folder"] for c in run_classes])
    started = (meta.get("start_recall") or {}).get(source) if not folder else None
    for row in metrics["per_class"] if isinstance(started, dict) else []:
        if row["name"] in started:  # training measured the starting model on this split
            row["start_recall"] = float(started[row["name"]])
    tta = dict(getattr(predictor, "tta_info", {}) or {"mode": "off"})
    fit = meta.get("calibration")
    temperature = predictor.temperature
    if tta.get("mode", "off") != "off":  # the temperature fitted with these views
        temperature = predictor.tta_temperature
        fit = ((fit or {}).get("tta") or {}).get(tta["mode"]) if isinstance(fit, dict) else None
    conf, pred = probs.max(-1)
    rows = [{"path": paths[i], "true": names[int(t)], "predicted": names[int(p)],
             "confidence": round(float(c), 6)}
            for i, t, p, c in zip(kept, y_true, pred, conf)]
    errors = sorted((r for r in rows if r["true"] != r["predicted"]),
                    key=lambda r: (-r["confidence"], r["path"]))
    out = Path(report_dir) if report_dir else run_dir / "report"
    report = Report(report_dir=str(out), samples=rows, errors=errors, class_names=list(names),
                    source=source, skipped=skipped, run_name=predictor.name,
                    created=dt.datetime.now().isoformat(timespec="seconds"),
                    calibration=_calibration(probs, y_true, temperature, fit), tta=tta,
                    **metrics)
    write_report(report)
    return report


def write_report(report: Report) -> None:
    """report.json + confusion_matrix.png + errors.csv, each written atomically."""
    from engine.use.report_png import save_confusion_matrix
    from engine.runs import write_json_atomic

    out = Path(report.report_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out / "report.json", report.to_dict())
    source = _(report.source) if report.source in SPLITS else Path(report.source).name
    title = _("{run} · {source} · {n} images · accuracy {accuracy:.1%}").format(
        run=report.run_name, source=source, n=report.num_images,
        accuracy=report.accuracy)
    save_confusion_matrix(report.confusion, report.class_names, out / "confusion_matrix.png",
                          title=title)
    cal = report.calibration
    if cal:
        from engine.use.reliability_png import save_reliability

        if cal["temperature"] != 1.0:
            save_reliability(out / "reliability.png", cal["reliability"],
                             cal["reliability_before"],
                             title=_("{run} · {source} · temperature {t:.2f}").format(
                                 run=report.run_name, source=source, t=cal["temperature"]),
                             ece_after=cal["ece"], ece_before=cal["ece_before"])
        else:  # uncalibrated: one set of bars, named so
            save_reliability(out / "reliability.png", cal["reliability"], None,
                             title=_("{run} · {source} · uncalibrated").format(
                                 run=report.run_name, source=source),
                             ece_after=cal["ece"], calibrated=False)
    tmp = out / ".errors.csv.tmp"
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["path", "true", "predicted", "confidence"])
        writer.writeheader()
        writer.writerows(report.errors)
    os.replace(tmp, out / "errors.csv")
