"""The on-disk cache of image embeddings: one raw float32 .npy per (model key, content
hash), a safetensors head per (model key, classes, prompts), and a memo of each folder's
content hashes by file size and time, so unchanged files are not read again.

Nothing here unpickles (np.load with allow_pickle=False, safetensors); a damaged or
unwritable entry only costs the time to compute it again.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch.nn import functional as F

FORMAT = 1  # bump when stored embeddings would change


@dataclass
class Head:
    """A linear head over unit-length embeddings: logits = scale * v @ weight.T + bias."""

    weight: torch.Tensor  # [C, D]
    bias: torch.Tensor  # [C]
    scale: float
    temperature: float = 1.0

    def logits(self, vectors: torch.Tensor) -> torch.Tensor:
        emb = F.normalize(vectors.float(), dim=-1)
        return (self.scale * emb @ self.weight.t() + self.bias) / self.temperature


def content_hash(path: str | os.PathLike) -> str:
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def default_embedding_cache() -> Path:
    """Beside the decode cache: <cache>/../embeddings."""
    from engine.data.cache import default_cache_dir

    return default_cache_dir().parent / "embeddings"


def _head_key(key: str, classes: list[str], templates: list[str]) -> str:
    return hashlib.sha256(json.dumps([key, classes, templates]).encode()).hexdigest()[:24]


def file_hashes(paths, store: Path, report, check: Callable[[], None]
                ) -> tuple[dict[str, str], list[dict]]:
    """{path: content hash}, read again only for files whose size or time changed since the
    last pass (a memo per folder, so reopening 20,000 photos does not read 20,000 files)."""
    memo_path = store / "hashes" / (hashlib.sha256(
        os.path.commonpath(paths).encode() if paths else b"").hexdigest()[:16] + ".json")
    try:
        memo = json.loads(memo_path.read_text(encoding="utf-8"))
        memo = memo if isinstance(memo, dict) else {}
    except (OSError, ValueError):
        memo = {}
    hashes, failed, fresh = {}, [], {}
    for i, p in enumerate(paths):
        check()  # raises when the pass was cancelled
        try:
            st = os.stat(p)
            seen = memo.get(p)
            stamp = [st.st_size, st.st_mtime_ns]
            if isinstance(seen, list) and len(seen) == 3 and seen[:2] == stamp:
                hashes[p] = str(seen[2])
            else:
                hashes[p] = content_hash(p)
            fresh[p] = stamp + [hashes[p]]
        except OSError as exc:
            failed.append({"path": p, "reason": exc.strerror or str(exc)})
        report("hash", i + 1, len(paths))
    if fresh != memo:
        _atomic(memo_path, lambda tmp: tmp.write_text(json.dumps(fresh), encoding="utf-8"))
    return hashes, failed


def _vector_path(store: Path, key: str, h: str) -> Path:
    return store / f"v{FORMAT}" / key / h[:2] / f"{h}.npy"


def read_vector(store: Path, key: str, h: str) -> np.ndarray | None:
    path = _vector_path(store, key, h)
    try:
        arr = np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None
    return arr.astype(np.float32) if arr.ndim == 1 and np.isfinite(arr).all() else None


def read_failure(store: Path, key: str, h: str) -> str | None:
    """Why this picture could not be embedded last time (it is unreadable), or None."""
    try:
        return _vector_path(store, key, h).with_suffix(".fail").read_text(encoding="utf-8")
    except (OSError, ValueError):
        return None


def write_failure(store: Path, key: str, h: str, reason: str) -> None:
    path = _vector_path(store, key, h).with_suffix(".fail")
    _atomic(path, lambda tmp: tmp.write_text(reason, encoding="utf-8"))


def _atomic(target: Path, write: Callable[[Path], None]) -> None:
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write(tmp)
        os.replace(tmp, target)
    except OSError:  # a cache that cannot be written only costs time next time
        tmp.unlink(missing_ok=True) if tmp.parent.is_dir() else None


def write_vector(store: Path, key: str, h: str, v: np.ndarray) -> None:
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            np.save(fh, np.asarray(v, dtype=np.float32), allow_pickle=False)

    _atomic(_vector_path(store, key, h), write)


def _head_path(store: Path, key: str, classes, templates) -> Path:
    return store / f"v{FORMAT}" / key / f"head-{_head_key(key, classes, templates)}.safetensors"


def read_head(store, key, classes, templates) -> tuple[Head | None, str]:
    from safetensors.torch import load_file

    path = _head_path(store, key, classes, templates)
    try:
        t = load_file(str(path))
    except Exception:  # absent or damaged: the model is loaded and the head rebuilt
        return None, ""
    if "none" in t:
        return None, bytes(t["none"].tolist()).decode("utf-8", "replace") or "-"
    return Head(t["weight"], t["bias"], float(t["scale"][0]), float(t["temperature"][0])), ""


def write_head(store, key, classes, templates, head: Head | None, no_head: str) -> None:
    from safetensors.torch import save_file

    if head is None:
        tensors = {"none": torch.tensor(list((no_head or "-").encode("utf-8")), dtype=torch.uint8)}
    else:
        tensors = {"weight": head.weight.contiguous(), "bias": head.bias.contiguous(),
                   "scale": torch.tensor([head.scale]),
                   "temperature": torch.tensor([head.temperature])}
    _atomic(_head_path(store, key, classes, templates), lambda tmp: save_file(tensors, str(tmp)))
