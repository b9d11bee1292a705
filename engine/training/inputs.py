"""The training loop's view of the data: one tensor of inputs plus row lists per split.

For LoRA the inputs are the decode cache's uint8 images, augmented per batch on the fly.
For the linear probe they are the frozen tower's embeddings of the framed images,
computed once, so an epoch is a few matrix multiplies. For LoRA on the last N blocks without
augmentation they are the frozen blocks' hidden states (engine/block_cache.py).
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from engine.data.augment import Augmenter
from engine.data.cache import DecodeCache, cache_resolution
from engine.config import TrainConfig
from engine.data.index import (DatasetIndex, listed_folder, load_split, missing_listed,
                               scan_dataset)
from engine.data.validation import Problem
from engine.errors import UserError
from engine.i18n import _

SPLITS = ("train", "val", "test")
ProgressFn = Callable[[int, int], None]


@dataclass
class SplitRows:
    rows: torch.Tensor  # int64 row numbers into TrainData.inputs
    labels: torch.Tensor  # int64 class labels
    paths: list[str]

    def __len__(self) -> int:
        return len(self.rows)


@dataclass
class TrainData:
    inputs: torch.Tensor  # uint8 [N,3,R,R] images, float [N,D] embeddings or [N,T,W] states
    splits: dict[str, SplitRows]
    failed: list[Problem]  # images the cache could not read (skipped)
    summary: str  # one line about the cache, for a Log event
    close: Callable[[], None] = lambda: None  # frees what holds the inputs (a temporary file)

    def batch(self, split: str, positions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        part = self.splits[split]
        return self.inputs[part.rows[positions]], part.labels[positions]

    def split_inputs(self, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        """(inputs, labels) of a whole split, for evaluation."""
        part = self.splits[split]
        return _RowView(self.inputs, part.rows), part.labels


class _RowView:
    """inputs[rows] without copying the whole split: indexing goes through `rows`."""

    def __init__(self, inputs: torch.Tensor, rows: torch.Tensor):
        self.inputs, self.rows = inputs, rows

    def __getitem__(self, idx: torch.Tensor) -> torch.Tensor:
        return self.inputs[self.rows[idx]]

    def __len__(self) -> int:
        return len(self.rows)


def load_index(config: TrainConfig, resume_dir: Path | None, progress: ProgressFn) -> DatasetIndex:
    """The run's dataset: its saved split when resuming, otherwise a fresh scan of data_dir."""
    if resume_dir is not None and (resume_dir / "split.json").is_file():
        return _own_split(resume_dir, config.data_dir)
    return scan_dataset(config.data_dir, val_fraction=config.val_fraction,
                        test_fraction=config.test_fraction, seed=config.split_seed,
                        progress=progress)


def _own_split(run_dir: Path, data_dir: str = "") -> DatasetIndex:
    """A resumed run's own split.json, whatever dataset the window has open; its images are
    looked for where the split lists them, else in `data_dir` when that is a folder (their
    new place: engine.training.resume lets a resume name it). When they are gone so that it
    cannot train, say where they were expected and what to do."""
    index = load_split(run_dir / "split.json")  # a damaged file: load_split says so
    if not index.errors:
        return index
    data = json.loads((run_dir / "split.json").read_text(encoding="utf-8"))
    if data_dir and Path(data_dir).is_dir() and \
            Path(data_dir).resolve() != Path(listed_folder(data)).resolve():
        moved = load_split(data, root=data_dir)
        if not moved.errors:
            return moved
    gone, total, folder = missing_listed(data)
    if gone:
        raise UserError(_(
            "This run's images are missing: {gone} of {total} files its split.json lists are "
            "no longer in {folder} (was the dataset moved or renamed?). Put them back there to "
            "continue the run, or name their new place: python -m engine train --resume-from "
            "{run} --data-dir NEW_PLACE (evaluate takes --data-root NEW_PLACE).").format(
            gone=gone, total=total, folder=folder, run=run_dir))
    return index


def cache_images(index: DatasetIndex, info, config: TrainConfig,
                 progress: ProgressFn, cancel: Callable[[], bool] | None = None) -> TrainData:
    """Decode every image of every split once (or reuse the disk cache), framed as the base
    model's processor frames it (`info`: engine.model.classifier.BaseModelInfo), with a
    margin around the input size for random crops."""
    cache = DecodeCache(cache_resolution(info.image_size), framing=info.framing,
                        max_memory_mb=config.cache_max_mb, disk_dir=config.cache_dir or None)
    samples = [s for name in SPLITS for s in index.split(name)]
    result = cache.load([s.path for s in samples], progress=progress, cancel=cancel)
    splits: dict[str, list[tuple[int, int, str]]] = {name: [] for name in SPLITS}
    for row, i in enumerate(result.kept):
        s = samples[i]
        splits[s.split].append((row, s.label, s.path))
    parts = {name: SplitRows(torch.tensor([r for r, _y, _p in rows], dtype=torch.long),
                             torch.tensor([y for _r, y, _p in rows], dtype=torch.long),
                             [p for _r, _y, p in rows])
             for name, rows in splits.items()}
    return TrainData(result.images, parts, list(result.failed), result.summary())


@torch.no_grad()
def embed_images(data: TrainData, embed: Callable[[torch.Tensor], torch.Tensor],
                 augmenter: Augmenter, device: torch.device, autocast, batch_size: int,
                 progress: ProgressFn) -> TrainData:
    """The linear probe's inputs: embeddings of the framed images (no augmentation)."""
    n = data.inputs.shape[0]
    chunks = []
    progress(0, n)
    for start in range(0, n, batch_size):
        pixels = augmenter.eval_batch(data.inputs[start:start + batch_size].to(device))
        with autocast():
            chunks.append(embed(pixels).float())
        progress(min(n, start + batch_size), n)
    inputs = torch.cat(chunks) if chunks else torch.zeros(0, 1, device=device)
    return TrainData(inputs, data.splits, data.failed, data.summary)


def cache_states(data: TrainData, vision, augmenter: Augmenter, frozen: int,
                 device: torch.device, autocast, config: TrainConfig, progress: ProgressFn,
                 cancel: Callable[[], bool] | None = None) -> TrainData:
    """The inputs of LoRA on the last blocks: every image's states after the frozen blocks."""
    from engine.model.block_cache import compute_states, states_dir

    store = compute_states(data.inputs, augmenter.eval_batch, vision, frozen, device, autocast,
                           config.batch_size, config.cache_max_mb * 2**20,
                           states_dir(config.cache_dir), progress, cancel)
    n = store.shape[0]
    mb = store.megabytes
    size = f"{mb:,.0f} MB" if mb >= 10 else f"{mb:.1f} MB"
    last = config.lora_last_n_blocks
    if store.where == "memory":
        if last == 1:
            text = _("Frozen blocks 1-{frozen} computed once for {images} images ({size} in "
                     "memory): each step runs only the last block.")
        else:
            text = _("Frozen blocks 1-{frozen} computed once for {images} images ({size} in "
                     "memory): each step runs only the last {blocks} blocks.")
    elif last == 1:
        text = _("Frozen blocks 1-{frozen} computed once for {images} images ({size} in a "
                 "temporary file on disk (float16)): each step runs only the last block.")
    else:
        text = _("Frozen blocks 1-{frozen} computed once for {images} images ({size} in a "
                 "temporary file on disk (float16)): each step runs only the last {blocks} "
                 "blocks.")
    summary = text.format(frozen=frozen, images=n, size=size, blocks=last)
    return TrainData(store.tensor, data.splits, data.failed, summary, close=store.close)


GPU_SHARE = 0.25  # at most this share of a GPU's free memory holds the inputs


def fits_on_device(nbytes: int, free_bytes: int, share: float = GPU_SHARE) -> bool:
    return nbytes <= free_bytes * share


def place_inputs(data: TrainData, device: torch.device) -> tuple[TrainData, str]:
    """On a GPU, move the whole input tensor into GPU memory when it fits (GPU_SHARE of what
    is free): batches are then gathered and augmented there, with no host copy per step.
    Returns (data, a sentence for the log, or '' when nothing moved)."""
    if device.type != "cuda" or data.inputs.device.type == "cuda":
        return data, ""
    free, _total = torch.cuda.mem_get_info(device)
    nbytes = data.inputs.numel() * data.inputs.element_size()
    if not fits_on_device(nbytes, free):
        return data, _("The inputs ({size:,.0f} MB) stay in host memory: they do not fit "
                       "{share:.0%} of the GPU's free memory.").format(size=nbytes / 2**20,
                                                                      share=GPU_SHARE)
    moved = dataclasses.replace(data, inputs=data.inputs.to(device))
    return moved, _("Inputs kept in GPU memory ({size:,.0f} MB): no host copy per "
                    "step.").format(size=nbytes / 2**20)
