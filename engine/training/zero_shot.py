"""CLIP's zero-shot accuracy on a labelled dataset, without training.

This is the baseline a fine-tuned run is compared with (the tutorial's "~60 %"). It is
measured with exactly the pieces training uses for its step-0 validation pass: the same
dataset scan and split, the same zero-shot head (engine.model.classifier.build_classifier with
TrainConfig's default prompt templates), the same decode cache and evaluation crop
(framed as the base model's processor frames pictures), and the same
engine.training.scoring.evaluate. So the number here equals the step-0 "zero-shot"
Evaluation of a training run on the same model, data and split.

No LoRA is added: a fresh LoRA adapter (B = 0) leaves the model's outputs unchanged.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable

from engine.config import TrainConfig
from engine.errors import UserError
from engine.i18n import _

SPLIT_CHOICES = ("val", "test", "train", "all")
# progress(stage, done, total); stage is "scan" (checking files) or "decode" (caching images)
StageProgress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class ZeroShotResult:
    model: str  # the base model as the user named it (hub id or folder)
    fingerprint: str  # hub commit hash or a hash of the local folder
    data: str  # the dataset's root folder
    split: str  # "val" | "test" | "train" | "all"
    accuracy: float  # share of the split's images whose top class is right
    loss: float  # mean cross-entropy of the zero-shot head
    num_images: int  # images scored (unreadable ones are skipped)
    classes: list[str]  # display names, in label order (the prompts use them)
    per_class: dict[str, float]  # class -> accuracy, for classes with images in the split
    counts: dict[str, int]  # class -> images scored (0 for a class absent from the split)
    device: str = ""
    precision: str = ""
    templates: list[str] = field(default_factory=list)
    problems: list[dict[str, str]] = field(default_factory=list)  # skipped files, warnings

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _select(index, split: str):
    """The index restricted to `split` ("all" keeps every image); a UserError when empty."""
    if split not in SPLIT_CHOICES:
        raise UserError(_("Unknown split '{split}': choose {choices}.").format(
            split=split, choices=", ".join(SPLIT_CHOICES)))
    if not index.samples:
        reasons = " ".join(p.reason for p in index.errors) or _("it holds no usable images.")
        raise UserError(_("{path} is not a usable dataset: {reasons}").format(
            path=index.root, reasons=reasons))
    if len({s.label for s in index.samples}) < 2:
        raise UserError(_("{path} has images of only one class; zero-shot accuracy needs at "
                          "least 2 classes (one sub-folder of images per class).").format(
            path=index.root))
    if split == "all":
        return index
    samples = [s for s in index.samples if s.split == split]
    if not samples:
        counts = {name: len(index.split(name)) for name in ("train", "val", "test")}
        have = ", ".join(f"{name} {n}" for name, n in counts.items())
        raise UserError(_("The dataset has no {split} images ({have}). Choose another split "
                          "with --split, or a {split} fraction above 0 for an automatic "
                          "split.").format(split=split, have=have))
    return dataclasses.replace(index, samples=samples)


def zero_shot_accuracy(model: str, data: str, split: str = "val", *,
                       val_fraction: float | None = None, test_fraction: float | None = None,
                       seed: int | None = None, device: str = "auto", precision: str = "auto",
                       batch_size: int | None = None, num_threads: int | None = None,
                       progress: StageProgress | None = None) -> ZeroShotResult:
    """Zero-shot accuracy of base model `model` on the `split` of dataset folder `data`.

    Unset options take TrainConfig's defaults, so the split and the head are those a
    training run with default settings would use. Unreadable images are skipped and listed
    in `problems`. Raises UserError for a folder that is not a dataset or an empty split.
    """
    import torch

    from engine.data.augment import Augmenter
    from engine.data.index import scan_dataset
    from engine.hardware import resolve_device_type, resolve_precision, set_threads
    from engine.model.hub import fetch_model
    from engine.model.classifier import build_classifier
    from engine.model.compute_format import use_compute_format
    from engine.training.inputs import SPLITS, SplitRows, cache_images
    from engine.training.scoring import evaluate

    if batch_size is not None and batch_size < 1:
        raise UserError(_("The batch size must be at least 1 (got {value}).").format(
            value=batch_size))
    defaults = TrainConfig()
    config = defaults.replace(
        model=model, data_dir=str(data), device=device, precision=precision,
        val_fraction=defaults.val_fraction if val_fraction is None else val_fraction,
        test_fraction=defaults.test_fraction if test_fraction is None else test_fraction,
        split_seed=defaults.split_seed if seed is None else seed,
        batch_size=batch_size or defaults.batch_size)
    report = (lambda stage: (lambda d, t: progress(stage, d, t))) if progress else \
        (lambda stage: (lambda d, t: None))

    dev = torch.device(resolve_device_type(config.device))
    prec = resolve_precision(config.precision, dev.type)
    if num_threads is not None:
        set_threads(num_threads)
    index = scan_dataset(config.data_dir, val_fraction=config.val_fraction,
                         test_fraction=config.test_fraction, seed=config.split_seed,
                         progress=report("scan"))
    chosen = _select(index, split)

    fetch_model(config.model, report("download"))  # a hub id: downloaded once, with progress
    classifier, info = build_classifier(
        config.model, index.class_names, head_init="zero-shot",
        templates=config.prompt_templates, method="linear-probe", seed=config.seed)
    if classifier.family.has_text and classifier.no_zero_shot:
        raise UserError(_("{model} cannot classify images by their class names: {reason}. "
                          "Train it instead (its classifier starts from the class prototypes), "
                          "or choose a checkpoint folder with its tokenizer files.").format(
            model=config.model, reason=classifier.no_zero_shot))
    if not classifier.family.has_text:
        raise UserError(_("{family} has no text tower, so it cannot classify images by their "
                          "class names: train it (its classifier starts from the class "
                          "prototypes), or choose a CLIP or SigLIP model.").format(
            family=classifier.family.title))
    classifier.to(dev).eval()
    use_compute_format(classifier.vision, config.attention, dev.type, prec)  # as training does
    augmenter = Augmenter.for_model(info, augment=False)
    cached = cache_images(chosen, info, config, report("decode"))
    try:
        names = [split] if split != "all" else list(SPLITS)
        parts = [cached.splits[name] for name in names]
        cached.splits["scored"] = SplitRows(torch.cat([p.rows for p in parts]),
                                            torch.cat([p.labels for p in parts]),
                                            [path for p in parts for path in p.paths])
        inputs, labels = cached.split_inputs("scored")
        if len(labels) == 0:
            raise UserError(_("None of the {count} {split} images could be read: check that "
                              "the files are images and still in place.").format(
                count=len(chosen.samples), split=split))
        scored = evaluate(lambda x: classifier(augmenter.eval_batch(x)), inputs, labels,
                          index.class_names, config.batch_size or 32, dev,  # 0: auto
                          prec.autocast)
    finally:
        cached.close()
    seen = torch.bincount(labels, minlength=len(index.class_names)).tolist()
    problems = [{"path": p.path, "reason": p.reason, "severity": p.severity}
                for p in list(index.problems) + list(cached.failed)]
    return ZeroShotResult(
        model=info.ref, fingerprint=info.fingerprint, data=index.root, split=split,
        accuracy=scored.accuracy, loss=scored.loss, num_images=scored.count,
        classes=list(index.class_names), per_class=dict(scored.per_class),
        counts=dict(zip(index.class_names, seen)), device=str(dev), precision=prec.name,
        templates=list(config.prompt_templates), problems=problems)
