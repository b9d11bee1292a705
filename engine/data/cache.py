"""Decode cache: every image is decoded, rotated, converted and resized once, into uint8.

Images are stored as the region of the picture the base model's own processor keeps
(engine.data.framing: CLIP's centre square, DINOv2's central 224/256, SigLIP's whole
picture squashed), resized with the processor's filter to `cache_resolution(image_size)`
(the model's size plus a margin for random crops), so later epochs are tensor slicing
and a few tensor ops: no JPEG is decoded twice.

Two levels:
- per-file entries on disk (<dir>/r<R>/<key[:2]>/<key>.npy, raw uint8 .npy, never pickle),
  keyed by the file's real path, size and mtime, the resolution and the framing: a second
  run over the same folder decodes nothing, changing one file re-decodes just that file,
  and two families that frame differently never share an entry;
- the whole set as one uint8 tensor [N, 3, R, R]: in memory while it fits `max_memory_mb`,
  otherwise a memory-mapped .npy file on disk, so memory use stays bounded.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from PIL import Image

from engine.data.framing import Framing
from engine.data.imageio import DEFAULT_MAX_PIXELS, ImageProblem, open_image
from engine.data.validation import Problem, ProgressFn
from engine.i18n import _

CACHE_FORMAT = 2  # bump when the stored pixels would change (2: the processor's framing)
KEEP_SETS = 3  # memory-mapped whole-set files kept on disk (older ones are deleted)


class CacheCancelled(Exception):
    """load() was cancelled through its `cancel` callable."""


def cache_resolution(image_size: int) -> int:
    """Cached side for a model input size: 224 -> 256, 32 -> 36 (room for random crops)."""
    return max(image_size + 2, image_size * 8 // 7)


def cache_bytes(num_images: int, resolution: int) -> int:
    """Bytes for N cached images: 1,400 at 256 px are 275 MB."""
    return num_images * 3 * resolution * resolution


def default_cache_dir() -> Path:
    """LORA_STUDIO_CACHE_DIR, else <LORA_STUDIO_HOME>/cache/decode, else the user cache dir."""
    if os.environ.get("LORA_STUDIO_CACHE_DIR"):
        return Path(os.environ["LORA_STUDIO_CACHE_DIR"])
    if os.environ.get("LORA_STUDIO_HOME"):
        return Path(os.environ["LORA_STUDIO_HOME"]) / "cache" / "decode"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(base) / "lora-studio" / "decode"


def decode_to_array(source: str | Path | bytes | Image.Image, resolution: int,
                    max_pixels: int = DEFAULT_MAX_PIXELS,
                    framing: Framing | None = None) -> np.ndarray:
    """One image -> uint8 [3, R, R]: the region `framing` keeps, resized to R x R with the
    processor's filter (at R = the model's input size, what the processor itself computes).

    `framing` None is the framing of runs made before the engine read the processor:
    the centre square, shortest side resized to R, bicubic (CLIP's framing); those runs
    keep exactly the pixels they were trained and evaluated with. Raises ImageProblem.
    """
    if framing is None:
        return _legacy_decode(source, resolution, max_pixels)
    # JPEGs may decode shrunk (draft) while the kept region keeps 2x the output's pixels:
    # the processor's filter then does the last, visible step, as on the full image
    img = source if isinstance(source, Image.Image) else open_image(
        source, max_pixels, draft_size=framing.draft_side(resolution))
    img = img.convert("RGB") if img.mode != "RGB" else img
    # crop + resize in one resampling pass; no reducing_gap, as the processor (it would
    # shrink by whole factors with a box filter first: faster, a little different)
    img = img.resize((resolution, resolution), framing.resample, box=framing.box(*img.size))
    return np.ascontiguousarray(np.asarray(img, dtype=np.uint8).transpose(2, 0, 1))


def _legacy_decode(source, resolution: int, max_pixels: int) -> np.ndarray:
    """The centre square, shortest side resized to R: the cache's pixels before framings."""
    img = source if isinstance(source, Image.Image) else open_image(source, max_pixels,
                                                                     draft_size=resolution)
    img = img.convert("RGB") if img.mode != "RGB" else img
    w, h = img.size
    side = min(w, h)
    box = ((w - side) / 2, (h - side) / 2, (w + side) / 2, (h + side) / 2)
    # crop + resize in one resampling pass; reducing_gap makes big downscales fast
    img = img.resize((resolution, resolution), Image.Resampling.BICUBIC, box=box,
                     reducing_gap=3.0)
    return np.ascontiguousarray(np.asarray(img, dtype=np.uint8).transpose(2, 0, 1))


@dataclass
class CacheResult:
    images: torch.Tensor  # uint8 [K, 3, R, R]; rows follow `kept`
    kept: list[int]  # indices into the requested paths that decoded fine
    failed: list[Problem]  # the others, with the reason
    decoded: int  # images decoded in this call
    reused: int  # images taken from the disk cache
    bytes: int  # size of `images`
    on_disk: bool = False  # True: `images` is memory-mapped from a file, not in RAM

    def summary(self) -> str:
        where = _("memory-mapped from disk") if self.on_disk else _("in memory")
        res = self.images.shape[-1] if self.images.ndim == 4 else 0
        text = _("{n} images cached at {res} px: {mb:,.1f} MB {where} ({decoded} decoded, "
                 "{reused} reused from the disk cache)").format(
            n=len(self.kept), res=res, mb=self.bytes / 1e6, where=where, decoded=self.decoded,
            reused=self.reused)
        if self.failed:
            text += _("; {n} could not be read").format(n=len(self.failed))
        return text


class DecodeCache:
    def __init__(self, resolution: int, *, framing: Framing | None = None,
                 max_memory_mb: int = 2048, disk_dir: str | os.PathLike | None = None,
                 use_disk: bool = True, max_pixels: int = DEFAULT_MAX_PIXELS,
                 workers: int | None = None):
        """`framing`: the base model's (engine.data.framing); None: the centre square
        of runs made before framings (decode_to_array)."""
        self.resolution = int(resolution)
        self.framing = framing
        self.max_memory_bytes = int(max_memory_mb) * 1_000_000  # MB as reported (decimal)
        self.disk_dir = Path(disk_dir) if disk_dir else default_cache_dir()
        self.use_disk = use_disk
        self.max_pixels = max_pixels
        self.workers = workers or min(8, 2 * (os.cpu_count() or 1))

    # ---- per-file entries -------------------------------------------------------------
    def entry_key(self, path: str) -> str | None:
        try:
            st = os.stat(path)
        except OSError:
            return None
        framing = self.framing.key() if self.framing else "centre-square"
        ident = (f"{CACHE_FORMAT}|{self.resolution}|{framing}|{os.path.realpath(path)}|"
                 f"{st.st_size}|{st.st_mtime_ns}")
        return hashlib.blake2b(ident.encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()

    def _entry_path(self, key: str, suffix: str = ".npy") -> Path:
        return self.disk_dir / f"r{self.resolution}" / key[:2] / (key + suffix)

    def _fail_path(self, key: str) -> Path:
        # failures depend on the pixel cap too: raising it must retry refused images
        return self._entry_path(key, f".fail{self.max_pixels}.json")

    def _read_entry(self, key: str) -> np.ndarray | str | None:
        """The cached array, or the cached failure reason, or None."""
        path = self._entry_path(key)
        try:
            arr = np.load(path, allow_pickle=False)
            if arr.dtype == np.uint8 and arr.shape == (3, self.resolution, self.resolution):
                return arr
        except (OSError, ValueError, EOFError):
            pass
        try:
            return json.loads(self._fail_path(key).read_text("utf-8"))["reason"]
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _write(self, target: Path, write: Callable[[Path], None]) -> None:
        """Atomic write (temp file + rename); a full or read-only disk only costs speed."""
        if not self.use_disk:
            return
        tmp = target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            write(tmp)
            os.replace(tmp, target)
        except OSError:
            tmp.unlink(missing_ok=True)

    def _fetch(self, path: str, key: str | None) -> tuple[np.ndarray | None, str | None, bool]:
        """(array, failure reason, decoded now?) for one file; runs on worker threads."""
        if key is None:
            return None, _("file not found (moved or deleted?)"), False
        cached = self._read_entry(key) if self.use_disk else None
        if isinstance(cached, np.ndarray):
            return cached, None, False
        if isinstance(cached, str):  # saved in the language of its decode: a plain one translates
            return None, _(cached), False
        try:
            arr = decode_to_array(path, self.resolution, self.max_pixels, self.framing)
        except ImageProblem as exc:
            reason = str(exc)
            self._write(self._fail_path(key),
                        lambda p: p.write_text(json.dumps({"reason": reason}), "utf-8"))
            return None, reason, True
        self._write(self._entry_path(key), lambda p: _save_npy(p, arr))
        return arr, None, True

    # ---- the whole set -----------------------------------------------------------------
    def _set_path(self, keys: list[str | None]) -> Path:
        """Where the memory-mapped whole set for exactly these entries lives."""
        digest = hashlib.blake2b("\n".join(k or "-" for k in keys).encode(), digest_size=16)
        sets = self.disk_dir / "sets"
        try:
            sets.mkdir(parents=True, exist_ok=True)
        except OSError:  # unwritable cache folder: the temp folder still bounds memory
            sets = Path(tempfile.gettempdir()) / "lora-studio-sets"
            sets.mkdir(parents=True, exist_ok=True)
        return sets / f"r{self.resolution}-{digest.hexdigest()}.npy"

    def _reuse_set(self, path: Path) -> CacheResult | None:
        try:
            meta = json.loads(path.with_suffix(".json").read_text("utf-8"))
            kept = [int(i) for i in meta["kept"]]
            failed = [Problem(p, r) for p, r in meta["failed"]]
            images = torch.from_numpy(np.load(path, mmap_mode="c", allow_pickle=False))[:len(kept)]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return CacheResult(images, kept, failed, 0, len(kept), images.numel(), on_disk=True)

    def load(self, paths: list[str], progress: ProgressFn | None = None,
             cancel: Callable[[], bool] | None = None) -> CacheResult:
        """Decode (or reuse) every path. Unreadable images are skipped and reported."""
        n = len(paths)
        if progress:  # the count is known at once; the files' keys take a while on a slow disk
            progress(0, n)
        keys = [self.entry_key(p) for p in paths]
        shape = (n, 3, self.resolution, self.resolution)
        set_path = None
        if cache_bytes(n, self.resolution) <= self.max_memory_bytes:
            tensor = torch.empty(shape, dtype=torch.uint8)
            target = tensor.numpy()
        else:  # too big for the memory budget: fill a memory-mapped file instead
            set_path = self._set_path(keys)
            reused_set = self._reuse_set(set_path) if set_path.with_suffix(".json").is_file() else None
            if reused_set is not None:
                if progress:
                    progress(n, n)
                return reused_set
            set_path.with_suffix(".json").unlink(missing_ok=True)  # the marker of a complete set
            target = np.lib.format.open_memmap(set_path, mode="w+", dtype=np.uint8, shape=shape)
        kept: list[int] = []
        failed: list[Problem] = []
        decoded = reused = 0
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            try:
                for i, (arr, reason, was_decoded) in enumerate(pool.map(self._fetch, paths, keys)):
                    if cancel and cancel():
                        raise CacheCancelled("image caching was cancelled")
                    if arr is None:
                        failed.append(Problem(paths[i], reason or _("cannot be read")))
                    else:
                        target[len(kept)] = arr
                        kept.append(i)
                    decoded += was_decoded
                    reused += arr is not None and not was_decoded
                    if progress:
                        progress(i + 1, n)
            except BaseException:  # cancelled (or progress raised): drop the queued work now
                pool.shutdown(wait=True, cancel_futures=True)
                raise
        if set_path is None:
            images = tensor[:len(kept)]
        else:
            target.flush()
            del target
            meta = {"kept": kept, "failed": [[p.path, p.reason] for p in failed]}
            marker = set_path.with_suffix(".json.tmp")
            marker.write_text(json.dumps(meta), "utf-8")
            os.replace(marker, set_path.with_suffix(".json"))
            self._prune_sets(set_path)
            images = torch.from_numpy(np.load(set_path, mmap_mode="c"))[:len(kept)]
        return CacheResult(images, kept, failed, decoded, reused, images.numel(),
                           on_disk=set_path is not None)

    def _prune_sets(self, current: Path) -> None:
        sets = sorted(current.parent.glob("r*.npy"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in [p for p in sets if p != current][KEEP_SETS - 1:]:
            try:
                old.with_suffix(".json").unlink(missing_ok=True)
                old.unlink(missing_ok=True)
            except OSError:  # still mapped by another process (Windows): next time
                pass


def _save_npy(path: Path, arr: np.ndarray) -> None:
    with open(path, "wb") as fh:
        np.save(fh, arr, allow_pickle=False)


def disk_cache_size(disk_dir: str | os.PathLike | None = None) -> int:
    """Bytes used by the on-disk decode cache (for a "Clear cache" button)."""
    root = Path(disk_dir) if disk_dir else default_cache_dir()
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) if root.is_dir() else 0


def clear_disk_cache(disk_dir: str | os.PathLike | None = None) -> None:
    root = Path(disk_dir) if disk_dir else default_cache_dir()
    shutil.rmtree(root, ignore_errors=True)


__all__ = ["cache_resolution", "cache_bytes", "default_cache_dir", "decode_to_array",
           "CacheResult", "DecodeCache", "CacheCancelled", "disk_cache_size", "clear_disk_cache"]
