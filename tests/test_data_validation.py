"""Bad input gets a clear report, never a crash; nothing in the user's folder is modified."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from broken_corpus import (bomb_png, exif_rotated_jpeg, jpeg_bytes, make_broken_corpus,
                           noisy_image, snapshot)
from engine.data.cache import DecodeCache
from engine.data.index import DatasetError, format_report, scan_dataset
from engine.errors import UserError
from engine.data.imageio import ImageProblem, check_image, open_image


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return make_broken_corpus(tmp_path_factory.mktemp("broken"))


@pytest.fixture(scope="module")
def corpus_index(corpus):
    return scan_dataset(corpus.root)


def _rel(corpus, path: str) -> str:
    return os.path.relpath(path, corpus.root).replace(os.sep, "/")


def test_every_bad_file_is_reported_with_a_plain_reason(corpus, corpus_index):
    reasons = {_rel(corpus, p.path): p.reason for p in corpus_index.problems}
    for rel, words in corpus.bad.items():
        assert rel in reasons, f"{rel} not reported"
        assert words.lower() in reasons[rel].lower(), (rel, reasons[rel])
    used = {_rel(corpus, s.path) for s in corpus_index.samples}
    assert not used & set(corpus.bad)
    assert all(p.severity == "warning" for p in corpus_index.problems)
    assert not corpus_index.errors  # bad files are skipped; enough good ones remain


def test_odd_but_valid_images_are_used_and_litter_is_silent(corpus, corpus_index):
    used = {_rel(corpus, s.path) for s in corpus_index.samples}
    assert set(corpus.usable_odd) <= used
    mentioned = {_rel(corpus, p.path) for p in corpus_index.problems} | used
    assert not mentioned & set(corpus.ignored)
    notes = " ".join(corpus_index.notes)
    assert "EXIF rotation" in notes and "CMYK" in notes and "I;16" in notes
    assert "Ignored 6 hidden or system files" in notes
    assert "Ignored" in format_report(corpus_index)


def test_non_ascii_names_survive_the_split_file(tmp_path):
    _write_images(tmp_path, {f"chats_été/{i}_猫.png": (20, 20) for i in range(3)}
                  | {f"chiens/{i}.png": (20, 20) for i in range(3, 6)})
    index = scan_dataset(tmp_path)
    assert index.class_names == ["chats été", "chiens"] and not index.problems
    index.save_split(tmp_path / "split.json")
    from engine.data.index import load_split

    assert load_split(tmp_path / "split.json").samples == index.samples


def test_nothing_in_the_users_folder_is_modified(corpus, tmp_path):
    before = snapshot(corpus.root)
    index = scan_dataset(corpus.root)
    paths = [s.path for s in index.samples] + [str(corpus.root / rel) for rel in corpus.bad]
    result = DecodeCache(36, disk_dir=tmp_path / "cache").load(paths)
    for path in paths:
        try:
            open_image(path)
        except ImageProblem:
            pass
    index.save_split(tmp_path / "split.json")
    assert {paths[i] for i in result.kept} >= {s.path for s in index.samples}
    failed = {_rel(corpus, p.path) for p in result.failed}
    assert {"cats/empty.jpg", "cats/truncated.jpg", "cats/notes.jpg", "dogs/bomb.png"} <= failed
    assert snapshot(corpus.root) == before


def test_header_only_scan_is_still_safe(corpus):
    index = scan_dataset(corpus.root, verify=False)
    reasons = {_rel(corpus, p.path): p.reason for p in index.problems}
    assert "decompression bomb" in reasons["dogs/bomb.png"]
    assert "not a picture" in reasons["cats/notes.jpg"]
    # A header-only scan lets damaged pixel data through: the cache reports it later.
    assert "cats/cut_end.jpg" not in reasons
    cache = DecodeCache(36, use_disk=False)
    failed = {_rel(corpus, p.path): p.reason for p in cache.load([s.path for s in index.samples]).failed}
    assert "truncated" in failed["cats/cut_end.jpg"]


def test_progress_reports_done_and_total(learnable_dir):
    calls = []
    scan_dataset(learnable_dir, progress=lambda done, total: calls.append((done, total)))
    assert calls[0] == (0, 120) and calls[-1] == (120, 120)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_raising_from_progress_stops_the_scan(learnable_dir):
    calls = []

    def progress(done: int, total: int) -> None:
        calls.append(done)
        if done == 5:
            raise KeyboardInterrupt  # what a GUI cancel does: unwind out of the scan

    with pytest.raises(KeyboardInterrupt):
        scan_dataset(learnable_dir, progress=progress)
    assert calls[-1] == 5


def test_cheap_checks_catch_truncation_anywhere():
    whole = jpeg_bytes(3, (200, 150))
    progressive = _jpeg(noisy_image(4, (200, 150)), progressive=True)
    png = _png_bytes(noisy_image(5, (200, 150)))
    for data in (whole, progressive, png):
        assert check_image(data).width == 200
        assert check_image(data + b"trailing bytes some cameras add").width == 200
        for cut in range(60, len(data) - 1, 997):
            with pytest.raises(ImageProblem, match="truncated"):
                check_image(data[:cut])
            with pytest.raises(ImageProblem):
                open_image(data[:cut])


def _jpeg(img: Image.Image, **save) -> bytes:
    import io

    buf = io.BytesIO()
    img.save(buf, "JPEG", **save)
    return buf.getvalue()


# ---- open_image: rotation, colour modes, limits ------------------------------------------------
def test_exif_rotation_is_applied():
    img = open_image(exif_rotated_jpeg(1, size=(64, 32), orientation=6))
    assert img.size == (32, 64) and img.mode == "RGB"
    assert check_image(exif_rotated_jpeg(1)).rotated


@pytest.mark.parametrize("mode", ["L", "LA", "P", "PA", "RGBA", "CMYK", "1", "I", "F", "I;16"])
def test_any_colour_mode_becomes_rgb(mode, tmp_path):
    if mode == "I;16":
        img = Image.fromarray(np.full((20, 24), 40000, dtype=np.uint16))
    else:
        img = noisy_image(3, (24, 20)).convert(mode)
    path = tmp_path / ("x.tiff" if mode in ("CMYK", "I", "F", "PA") else "x.png")
    img.save(path)
    out = open_image(path)
    assert out.mode == "RGB" and out.size == (24, 20)
    if mode == "I;16":  # 16-bit scaled to 8-bit, not clipped to white
        assert np.asarray(out).max() == 40000 // 257


def test_transparent_pixels_become_white():
    img = Image.new("RGBA", (20, 20), (255, 0, 0, 0))
    img.paste((0, 0, 255, 255), (0, 0, 10, 20))
    arr = np.asarray(open_image(_png_bytes(img)))
    assert tuple(arr[5, 2]) == (0, 0, 255) and tuple(arr[5, 15]) == (255, 255, 255)


def _png_bytes(img: Image.Image) -> bytes:
    import io

    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def test_pixel_cap_is_a_parameter():
    with pytest.raises(ImageProblem, match="above the limit of 0.001 megapixels"):
        open_image(jpeg_bytes(0, (64, 48)), max_pixels=1000)
    with pytest.raises(ImageProblem, match="decompression bomb"):
        check_image(bomb_png(20_000, 20_000))
    assert check_image(jpeg_bytes(0, (64, 48)), max_pixels=4000).width == 64


def test_small_images_follow_min_side(tmp_path):
    _write_images(tmp_path, {"a/1.png": (12, 40), "a/2.png": (40, 40), "b/3.png": (40, 40),
                             "b/4.png": (40, 40), "a/5.png": (40, 40), "a/6.png": (40, 40),
                             "b/7.png": (40, 40)})
    assert len(scan_dataset(tmp_path).problems) == 1
    assert not scan_dataset(tmp_path, min_side=8).problems


def _write_images(root: Path, sizes: dict[str, tuple[int, int]]) -> None:
    for i, (rel, size) in enumerate(sizes.items()):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        noisy_image(i, size).save(root / rel)


# ---- dataset-level errors say what to do -----------------------------------------------------------
def test_one_class_is_an_error(tmp_path):
    _write_images(tmp_path, {"cats/1.png": (32, 32), "cats/2.png": (32, 32)})
    [error] = scan_dataset(tmp_path).errors
    assert "only one class" in error.reason and "Add a sub-folder" in error.reason


def test_tiny_and_empty_classes_are_errors(tmp_path):
    _write_images(tmp_path, {"a/1.png": (32, 32), "a/2.png": (32, 32), "b/1.png": (32, 32)})
    (tmp_path / "c").mkdir()
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "broken.jpg").write_bytes(b"junk")
    errors = {Path(p.path).name: p.reason for p in scan_dataset(tmp_path).errors}
    assert "'b' has only 1 usable image" in errors["b"] and "at least 2" in errors["b"]
    assert "'c' is empty" in errors["c"] and "remove the folder" in errors["c"]
    assert "'d' is empty" in errors["d"]  # its only file is broken: nothing usable
    assert "a" not in errors


def test_no_images_at_all(tmp_path):
    _write_images(tmp_path, {"loose.png": (32, 32)})
    index = scan_dataset(tmp_path)
    assert "no usable images" in index.errors[0].reason
    assert "not inside a class folder" in index.problems[0].reason


def test_imbalance_is_a_warning(tmp_path):
    sizes = {f"big/{i}.png": (20, 20) for i in range(20)} | {"small/0.png": (20, 20),
                                                             "small/1.png": (20, 20)}
    _write_images(tmp_path, sizes)
    index = scan_dataset(tmp_path, val_fraction=0, test_fraction=0)
    [warning] = index.problems
    assert "fewer training images" in warning.reason and not index.errors


def test_duplicate_across_splits_is_removed_from_evaluation(tmp_path):
    for split, names in (("train", ["a", "b"]), ("val", ["c", "d"]), ("test", ["e", "f"])):
        for cls in ("x", "y"):
            for n in names:
                path = tmp_path / split / cls / f"{n}.jpg"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(jpeg_bytes(ord(cls) * 1000 + ord(n)))
    (tmp_path / "test" / "x" / "leak.jpg").write_bytes((tmp_path / "train" / "x" / "a.jpg").read_bytes())
    index = scan_dataset(tmp_path)
    [problem] = index.problems
    assert problem.path.endswith("leak.jpg") and "removed from test" in problem.reason
    assert sum(index.counts()["x"].values()) == 6


def test_source_errors_raise_user_errors(tmp_path):
    (tmp_path / "photo.jpg").write_bytes(jpeg_bytes(0))
    with pytest.raises(DatasetError, match="does not exist"):
        scan_dataset(tmp_path / "missing")
    with pytest.raises(DatasetError, match="is a file, not a folder"):
        scan_dataset(tmp_path / "photo.jpg")
    with pytest.raises(UserError, match="fractions"):
        scan_dataset(tmp_path, val_fraction=0.5, test_fraction=0.5)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads everything")
def test_unreadable_file_is_reported(tmp_path):
    _write_images(tmp_path, {f"{c}/{i}.png": (20, 20) for c in "ab" for i in range(3)})
    os.chmod(tmp_path / "a" / "0.png", 0)
    reasons = [p.reason for p in scan_dataset(tmp_path).problems]
    assert reasons == ["no permission to read this file"]
