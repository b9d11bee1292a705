"""`python -m engine map`: one row per image, for a labelled dataset and an unsorted folder,
and the folder is only read."""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from run_factory import run_cli
from snapshots import folder_hash

pytestmark = pytest.mark.usefixtures("isolated_home")


def read_map(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and list(rows[0]) == ["path", "x", "y", "label"]
    return rows


def test_map_of_a_labelled_dataset_has_every_image_with_its_class(tmp_path, learnable_dir,
                                                                  tiny_clip_dir, capsys):
    before = folder_hash(learnable_dir)
    out = tmp_path / "map.csv"
    assert run_cli(["map", str(learnable_dir), "--model", str(tiny_clip_dir),
                    "--output", str(out), "--device", "cpu"]) == 0
    rows = read_map(out)
    images = sorted(str(p) for p in Path(learnable_dir).rglob("*.jpg"))
    assert sorted(r["path"] for r in rows) == images
    for r in rows:
        assert r["label"] == Path(r["path"]).parent.name
        assert -1.0 <= float(r["x"]) <= 1.0 and -1.0 <= float(r["y"]) <= 1.0
    assert len({(r["x"], r["y"]) for r in rows}) > len(rows) // 2  # spread, not one dot
    assert f"{len(images)} images mapped" in capsys.readouterr().out
    assert folder_hash(learnable_dir) == before


def test_map_of_an_unsorted_folder_has_every_image_without_a_label(tmp_path, learnable_dir,
                                                                   tiny_clip_dir):
    loose = tmp_path / "phone dump"
    (loose / ".thumbnails").mkdir(parents=True)
    sources = sorted(Path(learnable_dir).rglob("*.jpg"))[::6]
    for i, src in enumerate(sources):  # no class folders: loose images
        shutil.copy(src, loose / f"IMG_{i:04d}.jpg")
    shutil.copy(sources[0], loose / ".thumbnails" / "thumb.jpg")  # hidden: not a photo
    (loose / "notes.txt").write_text("not an image\n")
    before = folder_hash(loose)
    out = tmp_path / "map.csv"
    assert run_cli(["map", str(loose), "--model", str(tiny_clip_dir), "--output", str(out),
                    "--method", "pca", "--device", "cpu"]) == 0
    rows = read_map(out)
    assert sorted(r["path"] for r in rows) == sorted(str(p) for p in loose.glob("IMG_*.jpg"))
    assert len(rows) == len(sources) and all(r["label"] == "" for r in rows)
    assert folder_hash(loose) == before


def test_images_beside_the_class_folders_are_mapped_unlabelled(tmp_path, learnable_dir,
                                                               tiny_clip_dir, copy_of):
    data = copy_of(learnable_dir)
    stray = sorted(data.rglob("*.jpg"))[:2]
    for i, src in enumerate(stray):
        shutil.copy(src, data / f"unsorted_{i}.jpg")
    out = tmp_path / "map.csv"
    assert run_cli(["map", str(data), "--model", str(tiny_clip_dir), "--output", str(out),
                    "--method", "pca", "--device", "cpu"]) == 0
    rows = {r["path"]: r["label"] for r in read_map(out)}
    assert set(rows) == {str(p) for p in data.rglob("*.jpg")}
    assert {p: rows[p] for p in rows if "unsorted_" in p} == {
        str(data / "unsorted_0.jpg"): "", str(data / "unsorted_1.jpg"): ""}
    assert all(rows[str(p)] == p.parent.name for p in stray)


def test_map_is_the_same_for_the_same_seed(tmp_path, learnable_dir, tiny_clip_dir):
    outs = [tmp_path / "a.csv", tmp_path / "b.csv"]
    for out in outs:
        assert run_cli(["map", str(learnable_dir), "--model", str(tiny_clip_dir), "--output",
                        str(out), "--seed", "5", "--device", "cpu"]) == 0
    assert outs[0].read_text() == outs[1].read_text()


def test_map_of_a_folder_without_images_says_so(tmp_path, tiny_clip_dir, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("nothing to see\n")
    assert run_cli(["map", str(empty), "--model", str(tiny_clip_dir), "--output",
                    str(tmp_path / "map.csv")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no images" in err
    assert not (tmp_path / "map.csv").exists()
