""""Apply to folder": a relabelled image goes to the top of its new class's folder (in the same
split folder, under the class's own folder name), an excluded one under its relative path
beside the dataset; names that are taken get a free one, and the moves made are exactly
the moves listed. Every test compares the whole tree (path -> content hash) before and after.
"""
from __future__ import annotations

import hashlib
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.data.index import scan_dataset
from engine.errors import UserError
from engine.review.decisions import Decision, apply_moves, plan_moves, write_reviewed_csv

pytestmark = pytest.mark.usefixtures("isolated_home")


def make_images(root: Path, rels: list[str]) -> None:
    """A small image at each relative path, every one with different pixels (identical files
    would be dropped as duplicates by the scan)."""
    for rel in rels:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(zlib.crc32(rel.encode()))
        Image.fromarray(rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)).save(path)


def snapshot(top: Path) -> dict[str, str]:
    return {p.relative_to(top).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(top.rglob("*")) if p.is_file()}


def apply_and_check(top: Path, index, decisions: dict[str, Decision], expected: dict[str, str]):
    """Plan, apply, and check: the plan's targets are `expected` (source -> target, relative
    to `top`), apply did exactly the plan, and the tree changed by those moves only."""
    before = snapshot(top)
    moves = plan_moves(index, decisions)
    assert snapshot(top) == before  # planning touches nothing
    rel = lambda p: Path(p).relative_to(top).as_posix()  # noqa: E731
    assert {rel(m.source): rel(m.target) for m in moves} == expected
    done = apply_moves(moves)
    assert done == moves  # every listed move, exactly as listed
    after = dict(before)
    for m in moves:
        after[rel(m.target)] = after.pop(rel(m.source))
    assert snapshot(top) == after  # nothing else moved, nothing overwritten
    return moves


def labels_after(root: Path) -> dict[str, str]:
    index = scan_dataset(root)
    return {s.path: index.classes[s.label].folder for s in index.samples}


def test_a_relabelled_image_in_a_sub_folder_goes_to_the_top_of_its_new_class(tmp_path):
    photos = tmp_path / "photos"
    make_images(photos, ["golden/2019/x.jpg", "golden/2019/deep/y.jpg", "golden/z.jpg",
                         "golden/2019/w.jpg", "beagle/b.jpg", "beagle/2018/c.jpg"])
    index = scan_dataset(photos)
    src = {name: str(photos / name) for name in ("golden/2019/x.jpg", "golden/2019/deep/y.jpg",
                                                 "golden/2019/w.jpg", "beagle/2018/c.jpg")}
    decisions = {src["golden/2019/x.jpg"]: Decision(src["golden/2019/x.jpg"], "relabel", "beagle"),
                 src["golden/2019/deep/y.jpg"]: Decision(src["golden/2019/deep/y.jpg"],
                                                         "relabel", "beagle"),
                 src["beagle/2018/c.jpg"]: Decision(src["beagle/2018/c.jpg"], "relabel",
                                                    "golden"),
                 src["golden/2019/w.jpg"]: Decision(src["golden/2019/w.jpg"], "exclude")}
    apply_and_check(tmp_path, index, decisions, {
        "photos/golden/2019/x.jpg": "photos/beagle/x.jpg",
        "photos/golden/2019/deep/y.jpg": "photos/beagle/y.jpg",
        "photos/beagle/2018/c.jpg": "photos/golden/c.jpg",
        "photos/golden/2019/w.jpg": "photos-excluded/golden/2019/w.jpg"})
    labels = labels_after(photos)
    assert labels[str(photos / "beagle/x.jpg")] == "beagle"
    assert labels[str(photos / "beagle/y.jpg")] == "beagle"
    assert labels[str(photos / "golden/c.jpg")] == "golden"
    assert len(labels) == 5  # the excluded image left the dataset


def test_taken_names_get_a_free_name_and_nothing_is_overwritten(tmp_path):
    photos = tmp_path / "photos"
    make_images(photos, ["golden/2019/x.jpg", "golden/2020/x.jpg", "golden/2019/Q.jpg",
                         "golden/2020/q.jpg", "golden/2019/w.jpg", "beagle/x.jpg",
                         "beagle/x (2).jpg"])
    make_images(tmp_path / "photos-excluded", ["golden/2019/w.jpg"])  # excluded earlier
    index = scan_dataset(photos)
    paths = [str(photos / r) for r in ("golden/2019/x.jpg", "golden/2020/x.jpg",
                                       "golden/2019/Q.jpg", "golden/2020/q.jpg")]
    decisions = {p: Decision(p, "relabel", "beagle") for p in paths}
    w = str(photos / "golden/2019/w.jpg")
    decisions[w] = Decision(w, "exclude")
    apply_and_check(tmp_path, index, decisions, {
        "photos/golden/2019/x.jpg": "photos/beagle/x (3).jpg",
        "photos/golden/2020/x.jpg": "photos/beagle/x (4).jpg",
        # the same name where file names ignore case (Windows, macOS): one plan everywhere
        "photos/golden/2019/Q.jpg": "photos/beagle/Q.jpg",
        "photos/golden/2020/q.jpg": "photos/beagle/q (2).jpg",
        "photos/golden/2019/w.jpg": "photos-excluded/golden/2019/w (2).jpg"})
    labels = labels_after(photos)
    assert all(labels[str(photos / f"beagle/x ({n}).jpg")] == "beagle" for n in (3, 4))
    assert labels[str(photos / "beagle/Q.jpg")] == labels[str(photos / "beagle/q (2).jpg")] \
        == "beagle"


def test_split_folders_keep_each_image_in_its_split(tmp_path):
    data = tmp_path / "data"
    make_images(data, [f"{split}/{cls}/{i}.jpg" for split in ("train", "val", "test")
                       for cls in ("golden", "beagle") for i in range(2)]
                + ["train/golden/2019/a.jpg", "val/golden/b.jpg", "test/beagle/old/c.jpg",
                   "test/golden/d.jpg"])
    (data / "test/beagle/0.jpg").unlink()
    (data / "test/beagle/1.jpg").unlink()
    index = scan_dataset(data)
    assert index.layout == "split-folders"
    split_before = {s.path: s.split for s in index.samples}
    a, b, c = (str(data / r) for r in ("train/golden/2019/a.jpg", "val/golden/b.jpg",
                                       "test/beagle/old/c.jpg"))
    d = str(data / "test/golden/d.jpg")
    decisions = {a: Decision(a, "relabel", "beagle"), b: Decision(b, "relabel", "beagle"),
                 c: Decision(c, "relabel", "golden"), d: Decision(d, "exclude")}
    apply_and_check(tmp_path, index, decisions, {
        "data/train/golden/2019/a.jpg": "data/train/beagle/a.jpg",
        "data/val/golden/b.jpg": "data/val/beagle/b.jpg",
        "data/test/beagle/old/c.jpg": "data/test/golden/c.jpg",
        "data/test/golden/d.jpg": "data-excluded/test/golden/d.jpg"})
    rescanned = scan_dataset(data)
    labels = {s.path: (rescanned.classes[s.label].folder, s.split) for s in rescanned.samples}
    assert labels[str(data / "train/beagle/a.jpg")] == ("beagle", split_before[a])
    assert labels[str(data / "val/beagle/b.jpg")] == ("beagle", split_before[b])
    assert labels[str(data / "test/golden/c.jpg")] == ("golden", split_before[c])


@pytest.mark.parametrize("base", ["Images", ""])
def test_stanford_dogs_moves_use_the_class_folder_name(tmp_path, base):
    dogs = tmp_path / "dogs"
    chihuahua, beagle = f"{base}/n02085620-Chihuahua".lstrip("/"), \
        f"{base}/n02088364-beagle".lstrip("/")
    make_images(dogs, [f"{chihuahua}/n02085620_{i}.jpg" for i in range(3)]
                + [f"{beagle}/n02088364_{i}.jpg" for i in range(3)]
                + [f"{chihuahua}/extra/n02085620_9.jpg"])
    index = scan_dataset(dogs)
    assert index.layout == "stanford-dogs"
    nested = str(dogs / chihuahua / "extra/n02085620_9.jpg")
    flat = str(dogs / beagle / "n02088364_0.jpg")
    gone = str(dogs / chihuahua / "n02085620_1.jpg")
    decisions = {nested: Decision(nested, "relabel", "beagle"),  # the display name
                 flat: Decision(flat, "relabel", "n02085620-Chihuahua"),  # the folder name
                 gone: Decision(gone, "exclude")}
    prefix = f"dogs/{base}/".replace("//", "/")
    moves = apply_and_check(tmp_path, index, decisions, {
        f"{prefix}n02085620-Chihuahua/extra/n02085620_9.jpg":
            f"{prefix}n02088364-beagle/n02085620_9.jpg",
        f"{prefix}n02088364-beagle/n02088364_0.jpg": f"{prefix}n02085620-Chihuahua/n02088364_0.jpg",
        f"{prefix}n02085620-Chihuahua/n02085620_1.jpg":
            f"dogs-excluded/{base}/n02085620-Chihuahua/n02085620_1.jpg".replace("//", "/")})
    assert {m.reason for m in moves} == {"relabelled to beagle", "relabelled to Chihuahua",
                                         "excluded"}
    labels = labels_after(dogs)
    assert labels[str(dogs / beagle / "n02085620_9.jpg")] == "n02088364-beagle"
    assert labels[str(dogs / chihuahua / "n02088364_0.jpg")] == "n02085620-Chihuahua"


def test_flat_class_folders(tmp_path):
    data = tmp_path / "colours"
    make_images(data, [f"{c}/{c}_{i}.jpg" for c in ("red", "green") for i in range(4)])
    index = scan_dataset(data)
    wrong, keep, out = (str(data / r) for r in ("green/green_0.jpg", "green/green_1.jpg",
                                                "red/red_3.jpg"))
    same = str(data / "red/red_0.jpg")
    decisions = {wrong: Decision(wrong, "relabel", "red"), keep: Decision(keep, "keep"),
                 out: Decision(out, "exclude"),
                 same: Decision(same, "relabel", "red")}  # already red: no move
    apply_and_check(tmp_path, index, decisions, {
        "colours/green/green_0.jpg": "colours/red/green_0.jpg",
        "colours/red/red_3.jpg": "colours-excluded/red/red_3.jpg"})
    assert labels_after(data)[str(data / "red/green_0.jpg")] == "red"


def test_a_file_that_appears_after_planning_is_not_overwritten(tmp_path):
    data = tmp_path / "colours"
    make_images(data, [f"{c}/{c}_{i}.jpg" for c in ("red", "green") for i in range(3)])
    index = scan_dataset(data)
    src = str(data / "green/green_0.jpg")
    moves = plan_moves(index, {src: Decision(src, "relabel", "red")})
    (data / "red/green_0.jpg").write_bytes(b"arrived meanwhile")
    done = apply_moves(moves)
    assert Path(done[0].target) == data / "red/green_0 (2).jpg"  # apply reports what it did
    assert (data / "red/green_0.jpg").read_bytes() == b"arrived meanwhile"


def test_a_failed_save_leaves_no_file(tmp_path):
    data = tmp_path / "colours"
    make_images(data, [f"{c}/{c}_{i}.jpg" for c in ("red", "green") for i in range(3)])
    index = scan_dataset(data)
    src = str(data / "green/green_0.jpg")
    out = tmp_path / "home" / "reviewed" / "r.csv"
    with pytest.raises(UserError, match="no such class"):
        write_reviewed_csv(index, {src: Decision(src, "relabel", "purple")}, out)
    assert not out.parent.exists() or not any(out.parent.iterdir())


def test_a_disk_error_while_saving_leaves_no_file(tmp_path, monkeypatch):
    import engine.review.decisions as decisions_module

    data = tmp_path / "colours"
    make_images(data, [f"{c}/{c}_{i}.jpg" for c in ("red", "green") for i in range(3)])
    index = scan_dataset(data)
    out = tmp_path / "home" / "reviewed" / "r.csv"

    def disk_full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(decisions_module.os, "replace", disk_full)
    with pytest.raises(OSError):
        write_reviewed_csv(index, {}, out)
    monkeypatch.undo()
    assert list(out.parent.iterdir()) == []  # the temporary file is gone too
