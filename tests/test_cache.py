"""Decode cache: decode once, reuse across runs, invalidate per file, bounded memory."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from broken_corpus import jpeg_bytes
from engine.data.cache import (CacheCancelled, DecodeCache, cache_bytes, cache_resolution,
                          clear_disk_cache, decode_to_array, default_cache_dir, disk_cache_size)


@pytest.fixture
def photos(tmp_path) -> list[str]:
    folder = tmp_path / "photos"
    folder.mkdir()
    paths = []
    for i in range(6):
        path = folder / f"{i}.jpg"
        path.write_bytes(jpeg_bytes(i, (40 + 8 * i, 30)))
        paths.append(str(path))
    return paths


def test_resolution_and_size_arithmetic():
    assert cache_resolution(224) == 256 and cache_resolution(32) == 36
    assert cache_resolution(336) == 384
    assert round(cache_bytes(1400, 256) / 1e6) == 275


def test_first_load_decodes_second_cache_reuses_everything(photos, tmp_path):
    first = DecodeCache(36, disk_dir=tmp_path / "c").load(photos)
    assert first.images.shape == (6, 3, 36, 36) and first.images.dtype == torch.uint8
    assert (first.decoded, first.reused, first.kept, first.failed) == (6, 0, list(range(6)), [])
    assert first.bytes == cache_bytes(6, 36) and not first.on_disk
    second = DecodeCache(36, disk_dir=tmp_path / "c").load(photos)  # a new run, same folder
    assert (second.decoded, second.reused) == (0, 6)
    assert torch.equal(first.images, second.images)
    assert "0 decoded, 6 reused" in second.summary()


def test_changing_one_file_re_decodes_just_that_file(photos, tmp_path):
    DecodeCache(36, disk_dir=tmp_path / "c").load(photos)
    old = Path(photos[2]).stat()
    Path(photos[2]).write_bytes(jpeg_bytes(99, (50, 30)))
    os.utime(photos[2], ns=(old.st_atime_ns, old.st_mtime_ns))  # same mtime: size differs
    os.utime(photos[4], ns=(old.st_atime_ns, old.st_mtime_ns + 10**9))  # touched only
    result = DecodeCache(36, disk_dir=tmp_path / "c").load(photos)
    assert (result.decoded, result.reused) == (2, 4)
    expected = decode_to_array(photos[2], 36)
    assert np.array_equal(result.images[2].numpy(), expected)
    assert (DecodeCache(36, disk_dir=tmp_path / "c").load(photos).decoded) == 0


def test_other_resolution_is_a_separate_entry(photos, tmp_path):
    DecodeCache(36, disk_dir=tmp_path / "c").load(photos)
    result = DecodeCache(40, disk_dir=tmp_path / "c").load(photos)
    assert result.decoded == 6 and result.images.shape[-1] == 40


def test_broken_images_are_skipped_reported_and_remembered(photos, tmp_path):
    broken = Path(photos[0]).with_name("broken.jpg")
    broken.write_bytes(jpeg_bytes(5)[:300])
    paths = [photos[0], str(broken), photos[1], str(broken.with_name("gone.jpg"))]
    result = DecodeCache(36, disk_dir=tmp_path / "c").load(paths)
    assert result.kept == [0, 2] and result.images.shape[0] == 2
    reasons = {Path(p.path).name: p.reason for p in result.failed}
    assert "truncated" in reasons["broken.jpg"] and "not found" in reasons["gone.jpg"]
    again = DecodeCache(36, disk_dir=tmp_path / "c").load(paths)
    assert again.decoded == 0 and [p.reason for p in again.failed] == [p.reason for p in result.failed]
    assert torch.equal(again.images, result.images)


def test_over_budget_spills_to_a_memory_mapped_file(photos, tmp_path):
    in_memory = DecodeCache(36, disk_dir=tmp_path / "c").load(photos)
    spilled = DecodeCache(36, disk_dir=tmp_path / "c", max_memory_mb=0).load(photos)
    assert spilled.on_disk and "memory-mapped" in spilled.summary()
    assert torch.equal(spilled.images, in_memory.images)
    assert len(list((tmp_path / "c" / "sets").glob("*.npy"))) == 1
    again = DecodeCache(36, disk_dir=tmp_path / "c", max_memory_mb=0).load(photos)
    assert again.on_disk and again.decoded == 0 and torch.equal(again.images, in_memory.images)
    assert again.images[torch.tensor([5, 0])].shape == (2, 3, 36, 36)  # batches index it


def test_stored_as_plain_npy_never_pickle(photos, tmp_path):
    DecodeCache(36, disk_dir=tmp_path / "c").load(photos)
    files = [p for p in (tmp_path / "c").rglob("*") if p.is_file()]
    assert files and all(p.suffix == ".npy" for p in files)
    arr = np.load(files[0], allow_pickle=False)
    assert arr.dtype == np.uint8 and arr.shape == (3, 36, 36)
    assert disk_cache_size(tmp_path / "c") >= 6 * 3 * 36 * 36
    clear_disk_cache(tmp_path / "c")
    assert disk_cache_size(tmp_path / "c") == 0


def test_without_disk_nothing_is_written(photos, tmp_path):
    result = DecodeCache(36, disk_dir=tmp_path / "c", use_disk=False).load(photos)
    assert result.decoded == 6 and not (tmp_path / "c").exists()


def test_corrupt_entry_is_re_decoded(photos, tmp_path):
    cache = DecodeCache(36, disk_dir=tmp_path / "c")
    first = cache.load(photos)
    entry = cache._entry_path(cache.entry_key(photos[0]))
    entry.write_bytes(b"\x93NUMPY garbage")
    result = cache.load(photos)
    assert result.decoded == 1 and torch.equal(result.images, first.images)


def test_framing_is_the_centre_square_with_exif_rotation(tmp_path):
    img = Image.new("RGB", (90, 30), (255, 0, 0))
    img.paste((0, 255, 0), (30, 0, 60, 30))  # the middle third is green
    arr = decode_to_array(img, 12)
    assert arr.shape == (3, 12, 12) and arr[1].min() > 200 and arr[0].max() < 60
    # left half red, right half blue, tagged "rotate 90° clockwise": red ends up on top
    sideways = Image.new("RGB", (64, 32), (255, 0, 0))
    sideways.paste((0, 0, 255), (32, 0, 64, 32))
    exif = Image.Exif()
    exif[0x0112] = 6
    sideways.save(tmp_path / "r.jpg", exif=exif.tobytes(), quality=95)
    arr = decode_to_array(str(tmp_path / "r.jpg"), 16).astype(int)
    top, bottom = arr[:, 1:6], arr[:, 10:15]
    assert top[0].min() > 200 and top[2].max() < 60
    assert bottom[2].min() > 200 and bottom[0].max() < 60


def test_default_dir_follows_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("LORA_STUDIO_CACHE_DIR", str(tmp_path / "x"))
    assert default_cache_dir() == tmp_path / "x"
    monkeypatch.delenv("LORA_STUDIO_CACHE_DIR")
    monkeypatch.setenv("LORA_STUDIO_HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / "cache" / "decode"
    assert DecodeCache(32).disk_dir == tmp_path / "home" / "cache" / "decode"


def test_progress_and_cancel(photos, tmp_path):
    calls = []
    DecodeCache(36, use_disk=False).load(photos, progress=lambda d, t: calls.append((d, t)))
    assert calls[0] == (0, 6) and calls[-1] == (6, 6) and len(calls) == 7
    with pytest.raises(CacheCancelled):
        DecodeCache(36, use_disk=False).load(photos, cancel=lambda: True)


def test_cached_pixels_match_a_direct_decode(learnable_dir, tmp_path):
    paths = sorted(str(p) for p in learnable_dir.rglob("*.jpg"))[:8]
    result = DecodeCache(cache_resolution(64), disk_dir=tmp_path / "c").load(paths)
    for row, i in enumerate(result.kept):
        assert np.array_equal(result.images[row].numpy(), decode_to_array(paths[i], 73))


def test_raising_the_pixel_cap_retries_refused_images(photos, tmp_path):
    strict = DecodeCache(36, disk_dir=tmp_path / "c", max_pixels=1000).load(photos[:2])
    assert strict.kept == [] and "above the limit" in strict.failed[0].reason
    relaxed = DecodeCache(36, disk_dir=tmp_path / "c").load(photos[:2])
    assert relaxed.kept == [0, 1] and relaxed.decoded == 2
