"""Embeddings of an unsorted folder, cached on disk so reopening the folder costs nothing.

Each image's embedding is stored under (model key, content hash): the model key names the
weights that embed (a base model's fingerprint, or a run's base fingerprint plus its
adapter's bytes), the content hash names the picture whatever its file name or place. So
a renamed or copied photo is not embedded twice, and a changed file is. When every image
is in the cache, the model is not even loaded (its zero-shot head is cached too).

The cache itself is engine.review.embedding_store. The source folder is only read.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch.nn import functional as F

from engine.errors import UserError
from engine.i18n import _
from engine.review.embedding_store import (Head, content_hash, default_embedding_cache,
                                           file_hashes, read_failure, read_head, read_vector,
                                           write_failure, write_head, write_vector)

Progress = Callable[[str, int, int], None]  # (stage, done, total): hash, decode, embed


class SortCancelled(Exception):
    """The embedding pass was cancelled through its `cancel` callable."""


@dataclass
class FolderEmbeddings:
    paths: list[str]  # readable images, in the order of `vectors`
    vectors: torch.Tensor  # [N, D] float32, unit length
    source: str  # what embedded them, in words
    head: Head | None = None  # zero-shot (or the run's) head over `classes`, when there is one
    no_head: str = ""  # why there is none
    failed: list[dict] = field(default_factory=list)  # {path, reason}
    reused: int = 0  # embeddings taken from the cache

    def __len__(self) -> int:
        return len(self.paths)


def list_images(folder: str | os.PathLike) -> list[str]:
    """Every image file under `folder` (sub-folders included, hidden ones skipped), sorted,
    as absolute paths: the proposals CSV and the sorted dataset stay valid from anywhere."""
    from engine.data.imageio import IMAGE_EXTENSIONS

    root = Path(os.path.abspath(Path(folder).expanduser()))
    if not root.is_dir():
        raise UserError(_("{path} is not a folder of images.").format(path=folder))
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        found += [os.path.join(dirpath, f) for f in filenames
                  if not f.startswith(".") and Path(f).suffix.lower() in IMAGE_EXTENSIONS]
    return sorted(found)


def model_key(model_ref: str | None = None, run_dir: str | None = None) -> str | None:
    """What names the embedding weights, without loading them; None when unknown (a hub id
    not downloaded yet: the model must be loaded to know its commit)."""
    from engine.model.classifier import _fingerprint
    from engine.safe_read import read_json

    if run_dir:
        run = Path(run_dir)
        meta = read_json(run / "run.json")
        h = hashlib.sha256(str(meta.get("base_model", {}).get("fingerprint", "")).encode())
        adapter = run / "adapter" / "adapter_model.safetensors"
        if adapter.is_file():
            h.update(content_hash(adapter).encode())
        return "run-" + h.hexdigest()[:24]
    if not Path(model_ref).expanduser().exists():
        from engine.model.hub import cached_commit

        if not cached_commit(model_ref):
            return None
    return "base-" + hashlib.sha256(f"{model_ref}|{_fingerprint(model_ref, None)}".encode()
                                    ).hexdigest()[:24]


class _Loaded:
    """The model, loaded once the cache misses something."""

    def __init__(self, model_ref, run_dir, classes, templates, device, precision):
        from engine.hardware import resolve_device_type, resolve_precision

        self.dev = torch.device(resolve_device_type(device))
        self.prec = resolve_precision(precision, self.dev.type)
        self.head, self.no_head = None, ""
        if run_dir:
            from engine.use.predict import Predictor

            p = Predictor(run_dir, device=self.dev.type, precision=self.prec.name)
            self.embed, self.augmenter, self.info = p.model.embed, p.augmenter, p.info
            self.source = _("run {name}").format(name=p.name)
            self.head, self.no_head = _run_head(p.model.head, p.class_names, classes)
            self.key = model_key(run_dir=run_dir)
            return
        from engine.data.augment import Augmenter
        from engine.model.classifier import build_classifier
        from engine.model.compute_format import use_compute_format

        model, info = build_classifier(model_ref, classes, head_init="zero-shot",
                                       templates=templates, method="linear-probe")
        model.to(self.dev).eval().requires_grad_(False)
        use_compute_format(model.vision, "auto", self.dev.type, self.prec)
        self.embed, self.info = model.embed, info
        self.augmenter = Augmenter.for_model(info, augment=False)
        self.source = _("base model {model}").format(model=model_ref)
        self.no_head = model.no_zero_shot
        if not self.no_head:
            h = model.head
            self.head = Head(h.weight.detach().float().cpu(), h.bias.detach().float().cpu(),
                             float(h.scale))
        self.key = model_key(model_ref) or "base-" + hashlib.sha256(
            f"{model_ref}|{info.fingerprint}".encode()).hexdigest()[:24]


def _run_head(head, run_classes: list[str], classes: list[str]) -> tuple[Head | None, str]:
    """The run's head restricted to `classes` (in their order), when it knows them all."""
    order = [run_classes.index(c) for c in classes if c in run_classes]
    if len(order) != len(classes):
        missing = ", ".join(c for c in classes if c not in run_classes)
        return None, _("the run was not trained on {classes}").format(classes=missing)
    idx = torch.tensor(order)
    return Head(head.weight.detach().float().cpu()[idx], head.bias.detach().float().cpu()[idx],
                float(head.scale), float(head.temperature)), ""


def embed_images(paths: list[str], classes: list[str], *, model_ref: str | None = None,
                 run_dir: str | None = None, templates: list[str] | None = None,
                 device: str = "auto", precision: str = "auto", batch_size: int = 64,
                 cache_dir: str | os.PathLike | None = None,
                 embed_cache: str | os.PathLike | None = None,
                 progress: Progress | None = None,
                 cancel: Callable[[], bool] | None = None) -> FolderEmbeddings:
    """Embeddings of `paths` with the base model `model_ref` (or the run's tower), plus the
    head naming `classes` when one exists. Raises SortCancelled when `cancel()` says so."""
    from engine.config import DEFAULT_TEMPLATES

    if not (model_ref or run_dir):
        raise UserError(_("Name a base model (or a run) to compute the image embeddings with."))
    templates = list(templates or DEFAULT_TEMPLATES)
    store = Path(embed_cache or default_embedding_cache())
    report = progress or (lambda *a: None)

    def check() -> None:
        if cancel and cancel():
            raise SortCancelled("embedding was cancelled")

    hashes, failed = file_hashes(paths, store, report, check)

    def lookup(key: str | None) -> tuple[dict, list[dict], list[str]]:
        """(cached vectors, known unreadable, still to embed) under model `key`."""
        found, unreadable, todo = {}, [], []
        for p, h in hashes.items():
            v = read_vector(store, key, h) if key else None
            reason = read_failure(store, key, h) if key and v is None else None
            if v is not None:
                found[p] = v
            elif reason is not None:  # unreadable last time, and unchanged since
                unreadable.append({"path": p, "reason": reason})
            else:
                todo.append(p)
        return found, unreadable, todo

    key = model_key(model_ref, run_dir)
    vectors, unreadable, missing = lookup(key)
    head, no_head = read_head(store, key, classes, templates) if key else (None, "")
    loaded = None
    if missing or (head is None and not no_head):
        loaded = _Loaded(model_ref, run_dir, classes, templates, device, precision)
        if loaded.key != key:  # a hub model's commit is known only now
            vectors, unreadable, missing = lookup(loaded.key)
        key, head, no_head = loaded.key, loaded.head, loaded.no_head
        write_head(store, key, classes, templates, head, no_head)
    reused = len(vectors)
    failed += unreadable
    if missing:
        fresh, bad = _embed(loaded, missing, batch_size, cache_dir, report, cancel)
        for f in bad:
            write_failure(store, key, hashes[f["path"]], f["reason"])
        failed += bad
        for p, v in fresh.items():
            write_vector(store, key, hashes[p], v)
            vectors[p] = v
    kept = [p for p in paths if vectors.get(p) is not None]
    stacked = torch.from_numpy(np.stack([vectors[p] for p in kept])) if kept else torch.zeros(0, 1)
    source = loaded.source if loaded else (_("run {name}").format(name=Path(run_dir).name)
                                           if run_dir else _("base model {model}").format(
                                               model=model_ref))
    return FolderEmbeddings(paths=kept, vectors=F.normalize(stacked.float(), dim=-1),
                            source=source, head=head, no_head=no_head, failed=failed,
                            reused=reused)


def _embed(loaded: _Loaded, paths, batch_size, cache_dir, report, cancel):
    from engine.data.cache import CacheCancelled, DecodeCache
    from engine.use.predict import prediction_resolution

    cache = DecodeCache(prediction_resolution(loaded.info), framing=loaded.info.framing,
                        disk_dir=cache_dir)
    try:
        got = cache.load(paths, progress=lambda d, t: report("decode", d, t), cancel=cancel)
    except CacheCancelled:
        raise SortCancelled("embedding was cancelled") from None
    out = {}
    report("embed", 0, len(got.kept))
    with torch.no_grad():
        for start in range(0, len(got.kept), batch_size):
            if cancel and cancel():
                raise SortCancelled("embedding was cancelled")
            rows = got.images[start:start + batch_size]
            with loaded.prec.autocast():
                emb = loaded.embed(loaded.augmenter.eval_batch(rows.to(loaded.dev)))
            emb = F.normalize(emb.float(), dim=-1).cpu().numpy()
            for i, v in zip(got.kept[start:start + batch_size], emb):
                out[paths[i]] = v
            report("embed", min(len(got.kept), start + batch_size), len(got.kept))
    return out, [{"path": p.path, "reason": p.reason} for p in got.failed]


