"""Image embeddings of every image of a dataset: from the base model's frozen tower, or
from a trained run's (LoRA merged), one decode-cache pass and one forward pass each, with
the pixels the Predictor gives the model (the model's own processor's framing)."""
from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from typing import Callable

import torch
from torch.nn import functional as F

from engine.errors import UserError
from engine.i18n import _

Progress = Callable[[str, int, int], None]  # (stage, done, total)
THUMB = 16  # side of the grey thumbnails that confirm near-duplicates pixel by pixel


def thumbnails(images: torch.Tensor) -> torch.Tensor:
    """uint8 [B, 3, R, R] -> [B, THUMB*THUMB]: grey, area-averaged, centred, unit length, so
    a dot product is the thumbnails' correlation (1: the same picture, whatever its size)."""
    grey = images.float().mean(1, keepdim=True)
    small = F.adaptive_avg_pool2d(grey, THUMB).flatten(1)
    return F.normalize(small - small.mean(1, keepdim=True), dim=-1)


@dataclass
class Embedded:
    """The readable images of an index with their unit-length embeddings."""

    paths: list[str]
    labels: torch.Tensor  # [N] class indices of the index
    splits: list[str]
    vectors: torch.Tensor  # [N, D] float32, L2-normalised
    thumbs: torch.Tensor  # [N, 256]: 16x16 grey thumbnails, centred and unit-length
    class_names: list[str]
    source: str  # what made the embeddings: the base model or the run
    failed: list[dict] = field(default_factory=list)  # {path, reason}

    def __len__(self) -> int:
        return len(self.paths)


def _base_embedder(model_ref: str, class_names: list[str], device: torch.device, precision):
    from engine.data.augment import Augmenter
    from engine.model.classifier import build_classifier
    from engine.model.compute_format import use_compute_format

    model, info = build_classifier(model_ref, class_names, head_init="random",
                                   method="linear-probe")
    model.to(device).eval().requires_grad_(False)
    use_compute_format(model.vision, "auto", device.type, precision)
    return model.embed, Augmenter.for_model(info, augment=False), info


def embed_dataset(index, *, model_ref: str | None = None, run_dir: str | None = None,
                  device: str = "auto", precision: str = "auto", batch_size: int = 64,
                  cache_dir: str | None = None,
                  progress: Progress | None = None) -> Embedded | None:
    """Embeddings of every sample of `index` (unreadable images are skipped and listed).

    With `run_dir` the run's fine-tuned tower embeds (its features know the classes
    better); otherwise the base model `model_ref` (CLIP's frozen tower) does.

    Under torchrun / accelerate launch with several processes each one decodes and embeds
    its batches (engine.data.shards) and the first one gets every image's embedding, in
    order, exactly as one process computes them; the other processes get None (the rest
    of the work is the first one's alone).
    """
    from engine.data.cache import DecodeCache
    from engine.data.shards import batches_of, start
    from engine.hardware import resolve_device_type, resolve_precision
    from engine.use.predict import prediction_resolution

    if not index.samples:
        raise UserError(_("{path} holds no usable images to check.").format(path=index.root))
    shards = start(device)  # before the device: under a launch, cuda is this process's GPU
    dev = torch.device(resolve_device_type(device))
    prec = resolve_precision(precision, dev.type)
    if run_dir:
        from engine.use.predict import Predictor

        predictor = Predictor(run_dir, device=dev.type, precision=prec.name)
        embed, augmenter, info = predictor.model.embed, predictor.augmenter, predictor.info
        source = _("run {name}").format(name=predictor.name)
    else:
        if not model_ref:
            raise UserError(_("Name a base model (or a run) to compute the image embeddings "
                              "with."))
        embed, augmenter, info = _base_embedder(model_ref, index.class_names, dev, prec)
        source = _("base model {model}").format(model=model_ref)
    report = (lambda stage: (lambda d, t: progress(stage, d, t))) if progress else \
        (lambda stage: None)
    # the prediction path: framed as the model's processor frames pictures, decoded
    # straight to its input size (a run from before framings: exactly as it predicts)
    cache = DecodeCache(prediction_resolution(info), framing=info.framing, disk_dir=cache_dir)
    mine = batches_of(len(index.samples), batch_size, shards)  # all of them in one process
    loaded = cache.load([index.samples[i].path for i in mine], progress=report("decode"))
    kept = list(loaded.kept)
    vectors, thumbs = [], []
    step = report("embed")
    if step:  # the first batch takes a while: say at once that embedding began
        step(0, len(kept))
    with torch.no_grad():
        # a batch is the images of `batch_size` files in a row (fewer where one failed to
        # decode): the batches N processes form are one process's, so are the numbers
        for first in range(0, len(mine), batch_size):
            lo, hi = bisect_left(kept, first), bisect_left(kept, first + batch_size)
            if lo == hi:
                continue
            rows = loaded.images[lo:hi]
            with prec.autocast():
                emb = embed(augmenter.eval_batch(rows.to(dev)))
            vectors.append(F.normalize(emb.float(), dim=-1).cpu())
            thumbs.append(thumbnails(rows))
            if step:
                step(hi, len(kept))
    failed = [(mine[i], p.path, p.reason) for i, p in zip(_missing(len(mine), kept), loaded.failed)]
    found = ([mine[i] for i in kept], torch.cat(vectors) if vectors else torch.zeros(0, 1),
             torch.cat(thumbs) if thumbs else torch.zeros(0, THUMB * THUMB), failed)
    if shards is not None:
        found = _gathered(*found, shards)
        if found is None:
            return None
    positions, vectors, thumbs, failed = found
    samples = [index.samples[i] for i in positions]
    return Embedded(paths=[s.path for s in samples],
                    labels=torch.tensor([s.label for s in samples], dtype=torch.long),
                    splits=[s.split for s in samples], vectors=vectors, thumbs=thumbs,
                    class_names=list(index.class_names), source=source,
                    failed=[{"path": path, "reason": reason} for _i, path, reason in failed])


def _missing(count: int, kept: list[int]) -> list[int]:
    """The positions below `count` that are not in `kept`, in order."""
    held = set(kept)
    return [i for i in range(count) if i not in held]


def _gathered(positions: list[int], vectors: torch.Tensor, thumbs: torch.Tensor,
              failed: list[tuple[int, str, str]], shards):
    """Every process's (sample positions, vectors, thumbnails, failures) on the first
    process, in the samples' order; None on the others."""
    from engine.data.shards import finish, gather_json, gather_tensors

    listed = gather_json([positions, failed], shards)
    all_vectors, all_thumbs = gather_tensors(vectors, shards), gather_tensors(thumbs, shards)
    finish(shards)  # the rest is the first process's alone
    if listed is None:
        return None
    positions = [i for part, _f in listed for i in part]
    order = torch.tensor(sorted(range(len(positions)), key=positions.__getitem__),
                         dtype=torch.long)
    failed = sorted(tuple(f) for _p, part in listed for f in part)
    return (sorted(positions), torch.cat(all_vectors)[order], torch.cat(all_thumbs)[order],
            failed)
