"""Predictor: a saved run folder -> top-k labels with probabilities for images.

Images are framed as the base model's own processor frames them (engine.data.framing) and
decoded straight to the model's input size with the processor's filter, so the pixels are
the processor's (within one grey level; see prediction_resolution). Runs made before the
engine read the processor keep their old path exactly (the centre square at the cache
resolution, then engine.data.augment.Augmenter.eval_batch's resize). A run folder is read
from JSON and safetensors only, and its adapter config is checked before peft sees it, so a
run folder received from a stranger cannot run code.
"""
from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence, Union

import torch
from PIL import Image

from engine.errors import UserError
from engine.data.imageio import IMAGE_EXTENSIONS, ImageProblem, to_rgb
from engine.data.validation import Problem
from engine.i18n import _

LOW_CONFIDENCE = 0.5  # top-1 probability below this is flagged: the user should not trust it
# The label of an image no class fits well enough (when asked for). It is data (written into
# exported CSV/JSON files as the label), so it stays English; front ends show their own words.
NOT_SURE = "not sure"
InputItem = Union[str, os.PathLike, Image.Image]


@dataclass
class Prediction:
    source: str  # file path, or "<image N>" for an in-memory picture
    top: list[tuple[str, float]]  # (label, probability), most likely first
    error: str = ""  # why this input has no prediction (unreadable file, ...)
    threshold: float = LOW_CONFIDENCE
    not_sure_below: float = 0.0  # below this top probability the answer is "not sure"

    @property
    def best_guess(self) -> str:
        return self.top[0][0] if self.top else ""

    @property
    def not_sure(self) -> bool:
        """None of the classes is likely enough: the image may show none of them."""
        return not self.error and bool(self.top) and self.confidence < self.not_sure_below

    @property
    def label(self) -> str:
        return NOT_SURE if self.not_sure else self.best_guess

    @property
    def confidence(self) -> float:
        return self.top[0][1] if self.top else 0.0

    @property
    def low_confidence(self) -> bool:
        return not self.error and self.confidence < self.threshold

    def to_dict(self) -> dict:
        return {"source": self.source, "label": self.label, "confidence": self.confidence,
                "low_confidence": self.low_confidence, "error": self.error,
                "not_sure": self.not_sure, "best_guess": self.best_guess,
                "top": [{"label": name, "probability": p} for name, p in self.top]}


def expand_inputs(paths: Sequence[str | os.PathLike]) -> tuple[list[str], list[Problem]]:
    """Files as given, folders -> their images (recursively, sorted); missing -> problems.

    A file named explicitly is kept whatever its suffix (decoding decides and explains);
    inside folders only files with an image suffix count, hidden files are skipped.
    """
    images: list[str] = []
    problems: list[Problem] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            found = sorted(str(p) for p in path.rglob("*") if p.is_file()
                           and p.suffix.lower() in IMAGE_EXTENSIONS
                           and not any(part.startswith(".") for part in p.relative_to(path).parts))
            if not found:
                problems.append(Problem(str(path), _("no images in this folder")))
            images.extend(found)
        elif path.is_file():
            images.append(str(path))
        else:
            problems.append(Problem(str(path), _("file not found (moved or deleted?)"), "error"))
    return images, problems


def export_target(path: str | os.PathLike) -> tuple[Path, str, Path]:
    """(path, ".csv" or ".json", the temporary file written first and renamed into place)
    for a predictions export; a plain error for any other file type."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise UserError(_("Cannot export predictions to '{name}': use a .csv or .json file "
                          "name.").format(name=path.name))
    path.parent.mkdir(parents=True, exist_ok=True)
    return path, suffix, path.with_name(f".{path.name}.tmp")


def export_predictions(predictions: Sequence[Prediction], path: str | os.PathLike) -> Path:
    """Write predictions as .json (full top-k lists) or .csv (one row per input)."""
    path, suffix, tmp = export_target(path)
    if suffix == ".json":
        tmp.write_text(json.dumps([p.to_dict() for p in predictions], indent=1,
                                  ensure_ascii=False) + "\n", encoding="utf-8")
    else:
        k = max((len(p.top) for p in predictions), default=1)
        header = ["source", "label", "confidence", "low_confidence", "error", "best_guess"]
        for i in range(2, k + 1):
            header += [f"label_{i}", f"probability_{i}"]
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            for p in predictions:
                row = [p.source, p.label, f"{p.confidence:.6f}" if p.top else "",
                       int(p.low_confidence), p.error, p.best_guess]
                for name, prob in p.top[1:]:
                    row += [name, f"{prob:.6f}"]
                writer.writerow(row)
    os.replace(tmp, path)
    return path


def prediction_resolution(info) -> int:
    """The side a picture is decoded at for prediction, evaluation, heat maps and the data
    check. A run with a framing: the model's input size, so the processor's one resize is
    the only resampling (measured on photos of 160 to 1600 px: the processor's pixels but
    for one grey level on about 0.01 % of the values; training's cache square plus a second
    resize is off by up to 0.1-0.14 in normalised units). A run from before framings: the
    cache resolution it was trained and evaluated with, so it predicts exactly as before."""
    from engine.data.cache import cache_resolution

    return info.image_size if info.framing is not None else cache_resolution(info.image_size)


def check_base_model(info, classifier) -> list[str]:
    """Refuse a base model that cannot match the run; warn when it may differ from training's."""
    from engine.model.classifier import ModelLoadError, _fingerprint

    vision = classifier.vision
    config = (vision.get_base_model() if hasattr(vision, "get_base_model") else vision).config
    # a family that interpolates its position embeddings (DINOv2: config 518, processor
    # 224) takes any input size; the others only the size they were built for
    if not classifier.family.any_input_size and int(config.image_size) != info.image_size:
        raise ModelLoadError(_("The base model '{ref}' takes {size} px images but this run was "
                               "trained at {trained} px: it needs the base model it was trained "
                               "with.").format(ref=info.ref, size=config.image_size,
                                               trained=info.image_size))
    if info.fingerprint and _fingerprint(info.ref, config) != info.fingerprint:
        return [_("The base model '{ref}' is not byte-identical to the one this run was trained "
                  "on (its files changed); predictions may differ from the run's reports.")
                .format(ref=info.ref)]
    return []


def prediction_model(classifier, device: torch.device, precision, merge: bool = True):
    """(the classifier made ready to predict, in place; its attention kernel): on `device`, in
    eval mode, LoRA merged into the weights (unless `merge` is False), the frozen weights in
    the compute format of `precision` (engine.hardware.Precision), the attention kernel
    fastest here.

    The merge adds the fp32 LoRA update to the base weights already held in the compute
    format, as training held them (engine.model.compute_format), so a classifier loaded from
    a run folder (fp32 base weights) and the one a run just trained (base weights maybe
    already in bf16) become bit-identical models: a run's own test report predicts exactly
    as `python -m engine evaluate` on its folder does later."""
    from engine.model.compute_format import hold_frozen_weights_in, use_compute_format

    model = classifier.to(device).eval().requires_grad_(False)
    vision = model.vision
    if merge and hasattr(vision, "merge_and_unload"):
        from peft.tuners.tuners_utils import BaseTunerLayer

        if precision.dtype is not None:  # round the base weights first, then add the update
            for layer in vision.modules():
                if isinstance(layer, BaseTunerLayer):
                    hold_frozen_weights_in(layer.get_base_layer(), precision.dtype)
        model.vision = vision.merge_and_unload()
    attention, _why, _saved = use_compute_format(model, "auto", device.type, precision)
    return model, attention


def can_reuse(classifier, device: torch.device, precision) -> bool:
    """Whether prediction_model(classifier, device, precision) gives exactly the model a
    fresh load of the run folder gives: its frozen weights are fp32 (any compute format can
    be made from them) or already in `precision`'s format. Not so after training in bf16
    where prediction computes in fp32 (a CPU without fast bf16 told to train in bf16)."""
    from engine.model.compute_format import frozen_layers

    wanted = precision.dtype or torch.float32
    return all(p.dtype in (torch.float32, wanted) for layer in frozen_layers(classifier)
               for p in layer.parameters(recurse=False) if p.is_floating_point())


class Predictor:
    """A trained run, ready to classify images. Loading takes a few seconds (base model)."""

    backend = "torch"  # what computes (engine.use.backends); other backends subclass this
    agreement: dict = {}  # vs torch fp32 (engine.use.onnx_cache); the reference itself: none

    def __init__(self, run_dir: str | os.PathLike, device: str = "auto", merge: bool = True,
                 precision: str = "auto", low_confidence: float = LOW_CONFIDENCE,
                 not_sure_below: float = 0.0, *, classifier=None):
        """`classifier`: the run's classifier already in memory (the one a run just trained,
        holding exactly the weights the folder saved), used instead of loading a second copy
        and turned into the prediction model in place (merged, eval mode). Where it cannot
        give exactly what a fresh load gives (see can_reuse) the folder is loaded instead and
        `classifier` is left as it is; `reused` says which happened."""
        from engine.data.augment import Augmenter
        from engine.hardware import resolve_device_type, resolve_precision
        from engine.model.classifier import BaseModelInfo, load_run_classifier
        from engine.model.safety import check_run_folder

        self.run_dir = Path(run_dir)
        self.device = torch.device(resolve_device_type(device))
        self.precision = resolve_precision(precision, self.device.type)
        self.reused = classifier is not None and can_reuse(classifier, self.device,
                                                           self.precision)
        if self.reused:
            meta = check_run_folder(self.run_dir)
        else:
            classifier, meta = load_run_classifier(self.run_dir, merge=False)
        self.run: dict = meta
        self.info = BaseModelInfo.from_dict(meta["base_model"])
        self.class_names: list[str] = [str(n) for n in meta["class_names"]]
        self.warnings: list[str] = check_base_model(self.info, classifier)
        self.framing = self.info.framing  # None: a run from before framings (centre square)
        self.resolution = prediction_resolution(self.info)
        self.augmenter = Augmenter.for_model(self.info, augment=False)
        self.low_confidence = low_confidence
        self.not_sure_below = not_sure_below  # 0: always name a class
        self.model, self.attention = prediction_model(classifier, self.device, self.precision,
                                                      merge)

    @property
    def temperature(self) -> float:
        """The calibration temperature the probabilities are divided by (1: uncalibrated)."""
        return float(self.model.head.temperature)

    @property
    def name(self) -> str:
        return str(self.run.get("name") or self.run_dir.name)

    def decode(self, item: InputItem):
        """One input -> uint8 [3, R, R] numpy array, framed as the base model's processor
        frames it (raises ImageProblem)."""
        from engine.data.cache import decode_to_array

        if isinstance(item, Image.Image):
            item = to_rgb(item)  # transparency -> white, as for files
        return decode_to_array(item, self.resolution, framing=self.framing)

    tta, tta_temperature, tta_info = "off", 1.0, {}  # engine.use.tta.use_tta sets them

    def probabilities(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 [B, 3, R, R] (decode() format) -> float32 probabilities [B, classes] on the
        CPU, averaged over the views of the test-time augmentation in use (engine.use.tta)."""
        from engine.use.tta import averaged

        return averaged(self, images)

    @torch.no_grad()
    def view_probabilities(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 [B, 3, R, R] -> float32 probabilities [B, classes] on the CPU, one per image."""
        pixels = self.augmenter.eval_batch(images.to(self.device))
        with self.precision.autocast():
            logits = self.model(pixels)
        return logits.float().softmax(-1).cpu()

    def _top(self, probs: torch.Tensor, k: int) -> list[list[tuple[str, float]]]:
        values, indices = probs.topk(min(k, probs.shape[-1]), dim=-1)
        return [[(self.class_names[i], float(v)) for v, i in zip(vs.tolist(), ix.tolist())]
                for vs, ix in zip(values, indices)]

    def predict(self, inputs: Sequence[InputItem], top_k: int = 5, batch_size: int = 32,
                progress: Callable[[int, int], None] | None = None,
                control=None) -> list[Prediction]:
        """Top-k predictions, one per image, in input order (folders expand in place).

        Unreadable inputs get a Prediction with `error` set; the others continue.
        `control` (engine.training.control.TrainControl) is checked between batches: after a stop
        the predictions made so far are returned.
        """
        slots, batch_size = self._slots(inputs), max(1, batch_size)
        total = len(slots)
        results: list[Prediction | None] = [s if isinstance(s, Prediction) else None for s in slots]
        pending = [i for i, s in enumerate(slots) if not isinstance(s, Prediction)]
        done = total - len(pending)
        if progress:
            progress(done, total)
        for chunk, batch, rows, errors in self._decoded_batches(slots, pending, batch_size):
            if control is not None and control.stop_requested:
                break
            for i, error in errors.items():
                results[i] = self._prediction(slots[i][0], [], error)
            if rows:
                tops = self._top(self.probabilities(torch.stack(rows)), top_k)
                for i, top in zip(batch, tops):
                    results[i] = self._prediction(slots[i][0], top)
            done += len(chunk)
            if progress:
                progress(done, total)
        return [r for r in results if r is not None]

    def _decoded_batches(self, slots: list, pending: list[int], batch_size: int):
        """(indices, kept indices, uint8 rows, {index: error}) per batch of `pending`; the
        next batch is decoded in a background thread while the caller computes this one.
        Decoding and framing a folder of photos takes about a third of the time ViT-B/32
        takes on 2 cores with a fast backend (bench "backends"): overlapped, most of it is
        hidden (PIL releases the GIL while it decodes and resizes)."""
        from concurrent.futures import ThreadPoolExecutor

        def decode(chunk: list[int]):
            batch, rows, errors = [], [], {}
            for i in chunk:
                try:
                    rows.append(torch.from_numpy(self.decode(slots[i][1])))
                    batch.append(i)
                except ImageProblem as exc:
                    errors[i] = str(exc)
            return chunk, batch, rows, errors

        chunks = [pending[s:s + batch_size] for s in range(0, len(pending), batch_size)]
        if len(chunks) < 2:  # nothing to overlap
            yield from (decode(chunk) for chunk in chunks)
            return
        with ThreadPoolExecutor(1, thread_name_prefix="decode-ahead") as pool:
            future = pool.submit(decode, chunks[0])
            for n in range(len(chunks)):
                decoded = future.result()
                if n + 1 < len(chunks):
                    future = pool.submit(decode, chunks[n + 1])
                yield decoded

    def _prediction(self, source: str, top: list, error: str = "") -> Prediction:
        return Prediction(source, top, error, threshold=self.low_confidence,
                          not_sure_below=self.not_sure_below)

    def _slots(self, inputs: Sequence[InputItem]) -> list:
        """Each input -> (source, item) to decode, or a finished error Prediction."""
        slots: list = []
        for n, item in enumerate(inputs, start=1):
            if isinstance(item, Image.Image):
                slots.append((getattr(item, "filename", "") or _("<image {n}>").format(n=n), item))
                continue
            paths, problems = expand_inputs([item])
            slots.extend((p, p) for p in paths)
            slots.extend(self._prediction(p.path, [], p.reason) for p in problems)
        return slots
