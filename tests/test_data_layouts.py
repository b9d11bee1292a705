"""Dataset discovery: the four layouts, display names, splits and split.json, the scan CLI."""
from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from broken_corpus import jpeg_bytes
from engine.cli import main as cli
from engine.data.index import (DatasetError, assign_splits, format_report, load_split, scan_dataset,
                         split_counts)
from engine.demo.dataset import make_demo_dataset
from engine.data.layouts import readable_name


def _images(folder: Path, names: list[str], seed: int = 0) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(names):
        (folder / name).write_bytes(jpeg_bytes(seed + i))


def _per_class(index) -> dict[str, Counter]:
    out: dict[str, Counter] = {}
    for s in index.samples:
        out.setdefault(index.classes[s.label].folder, Counter())[s.split] += 1
    return out


# ---- layout 1: root/{train,val,test}/<class>/* ---------------------------------------------
def test_split_folders_layout(learnable_split_dir):
    index = scan_dataset(learnable_split_dir)
    assert index.layout == "split-folders" and index.split_source == "folders"
    assert "train/val/test" in index.layout_description
    assert index.class_names == ["blue triangle", "green square", "red circle"]
    assert index.counts() == {c: {"train": 24, "val": 8, "test": 8}
                              for c in ("blue_triangle", "green_square", "red_circle")}
    assert index.problems == []
    for s in index.samples:
        assert Path(s.path).is_absolute() and Path(s.path).is_file()
        assert Path(s.path).parts[-3] == s.split
        assert Path(s.path).parts[-2] == index.classes[s.label].folder


def test_split_folders_with_missing_val_and_alias_names(tmp_path):
    make_demo_dataset(tmp_path / "d", num_classes=2, splits={"Training": 4, "testing": 2})
    index = scan_dataset(tmp_path / "d")
    assert index.layout == "split-folders"
    assert index.counts() == {"red_circle": {"train": 4, "val": 0, "test": 2},
                              "green_square": {"train": 4, "val": 0, "test": 2}}
    assert index.errors == [] and index.problems == []  # no val folder at all: not a problem


def test_class_missing_from_one_split_is_reported(tmp_path):
    root = tmp_path / "d"
    for k, (split, n) in enumerate((("train", 4), ("val", 2), ("test", 2))):
        _images(root / split / "cat", [f"c{i}.jpg" for i in range(n)], seed=100 * k)
    _images(root / "train" / "dog", [f"d{i}.jpg" for i in range(4)], seed=500)
    _images(root / "test" / "dog", ["d9.jpg"], seed=600)  # dog: no val images
    _images(root / "test" / "fox", ["f0.jpg", "f1.jpg"], seed=700)  # fox: never in train
    index = scan_dataset(root)
    reasons = {(Path(p.path).name, p.severity): p.reason for p in index.problems}
    assert "no val images" in reasons[("dog", "warning")]
    assert "no training images" in reasons[("fox", "error")]
    assert [p.severity for p in index.problems].count("error") == 1


def test_stray_folders_and_loose_images_are_reported(tmp_path):
    make_demo_dataset(tmp_path / "d", num_classes=2, splits={"train": 3, "val": 1})
    _images(tmp_path / "d" / "extra" / "cat", ["x.jpg"])
    _images(tmp_path / "d" / "train", ["loose.jpg"], seed=50)
    (tmp_path / "d" / "README.md").write_text("about this data")
    index = scan_dataset(tmp_path / "d")
    reasons = {Path(p.path).name: p.reason for p in index.problems}
    assert "class folders must be inside them" in reasons["extra"]
    assert "not inside a class folder" in reasons["loose.jpg"]
    assert "README.md" not in reasons  # notes, not a warning: top-level files are normal
    assert any("other files" in n for n in index.notes)


def test_a_class_named_test_without_train_folder_is_a_class(tmp_path):
    for k, cls in enumerate(("exam", "test", "quiz")):
        _images(tmp_path / cls, [f"{i}.jpg" for i in range(3)], seed=10 * k)
    index = scan_dataset(tmp_path)
    assert index.layout == "class-folders" and index.class_names == ["exam", "quiz", "test"]


# ---- layout 2: root/<class>/* split automatically ---------------------------------------------
def test_class_folders_layout_is_split_automatically(learnable_dir):
    index = scan_dataset(learnable_dir, val_fraction=0.2, test_fraction=0.1, seed=3)
    assert index.layout == "class-folders" and index.split_source == "automatic"
    assert index.seed == 3 and index.val_fraction == 0.2 and index.test_fraction == 0.1
    for counts in index.counts().values():
        assert counts == {"train": 21, "val": 6, "test": 3}
    assert any("seed 3" in n for n in index.notes)


def test_nested_folders_inside_a_class_belong_to_it(tmp_path):
    _images(tmp_path / "cats" / "2019" / "summer", ["a.jpg", "b.jpg"])
    _images(tmp_path / "dogs", ["c.jpg", "d.jpg"], seed=10)
    index = scan_dataset(tmp_path)
    assert {c.folder for c in index.classes} == {"cats", "dogs"}
    assert sum(index.counts()["cats"].values()) == 2


def test_same_seed_same_split_different_seed_differs(learnable_dir):
    a = scan_dataset(learnable_dir, seed=1)
    b = scan_dataset(learnable_dir, seed=1)
    c = scan_dataset(learnable_dir, seed=2)
    assert a.samples == b.samples
    assert {s.path: s.split for s in a.samples} != {s.path: s.split for s in c.samples}
    assert a.counts() == c.counts()  # same sizes, different files


@pytest.mark.parametrize("n", [3, 4, 5, 7, 10, 31])
def test_stratified_every_class_in_every_split_from_three_images(n):
    train, val, test = split_counts(n, 0.15, 0.15)
    assert train + val + test == n and min(train, val, test) >= 1


def test_split_counts_small_and_zero_fractions():
    assert split_counts(1, 0.15, 0.15) == (1, 0, 0)
    assert split_counts(2, 0.15, 0.15) == (1, 1, 0)
    assert split_counts(2, 0.0, 0.15) == (1, 0, 1)
    assert split_counts(10, 0.0, 0.0) == (10, 0, 0)
    assert split_counts(100, 0.2, 0.1) == (70, 20, 10)


def test_adding_a_file_to_one_class_keeps_the_other_classes_split():
    base = {"a": [f"a{i}" for i in range(20)], "b": [f"b{i}" for i in range(20)]}
    before = assign_splits(base, 0.15, 0.15, seed=5)
    after = assign_splits({**base, "b": base["b"] + ["b_new"]}, 0.15, 0.15, seed=5)
    assert {p: s for p, s in before.items() if p.startswith("a")} == \
        {p: s for p, s in after.items() if p.startswith("a")}


def test_split_json_round_trip_reproduces_exactly(learnable_dir, tmp_path):
    index = scan_dataset(learnable_dir, seed=9).with_display_names({"red_circle": "a red disc"})
    index.save_split(tmp_path / "split.json")
    data = json.loads((tmp_path / "split.json").read_text())
    assert data["seed"] == 9 and {c["folder"] for c in data["classes"]} == set(index.counts())
    assert all(not Path(f["path"]).is_absolute() for f in data["files"]["train"])
    for source in (tmp_path / "split.json", index.to_split_json()):
        loaded = load_split(source)
        assert loaded.split_source == "split.json"
        assert loaded.samples == index.samples and loaded.classes == index.classes
        assert loaded.class_names[index.class_names.index("a red disc")] == "a red disc"


def test_load_split_with_moved_root_and_missing_files(learnable_dir, tmp_path):
    index = scan_dataset(learnable_dir, seed=4)
    moved = shutil.copytree(learnable_dir, tmp_path / "moved")
    gone = index.split("test")[0]
    (moved / Path(gone.path).relative_to(learnable_dir)).unlink()
    loaded = load_split(index.to_split_json(), root=moved)
    assert len(loaded.samples) == len(index.samples) - 1
    assert all(s.path.startswith(str(moved)) for s in loaded.samples)
    assert [p.reason for p in loaded.problems] == ["listed in split.json but missing now"]


def test_load_split_rejects_other_json(tmp_path):
    (tmp_path / "x.json").write_text('{"hello": 1}')
    with pytest.raises(DatasetError, match="not a LoRA Studio split.json"):
        load_split(tmp_path / "x.json")


# ---- layout 3: Stanford Dogs Images/n0xxxxxxx-Breed/ -------------------------------------------
def test_stanford_dogs_layout_strips_synsets(tmp_path):
    for k, breed in enumerate(("n02085620-Chihuahua", "n02099601-golden_retriever",
                               "n02086240-Shih-Tzu")):
        _images(tmp_path / "Images" / breed, [f"{breed[:9]}_{i}.jpg" for i in range(5)], seed=10 * k)
    (tmp_path / "Annotation").mkdir()
    for source in (tmp_path, tmp_path / "Images"):
        index = scan_dataset(source)
        assert index.layout == "stanford-dogs" and index.split_source == "automatic"
        assert index.class_names == ["Chihuahua", "Shih-Tzu", "golden retriever"]
        assert index.classes[0].folder == "n02085620-Chihuahua"
        assert not index.errors


@pytest.mark.parametrize("folder, name", [
    ("golden_retriever", "golden retriever"), ("n02085620-Chihuahua", "Chihuahua"),
    ("001.Black_footed_Albatross", "Black footed Albatross"), ("Shih-Tzu", "Shih-Tzu"),
    ("  spaced__out_ ", "spaced out"), ("café_crème", "café crème"), ("___", "___")])
def test_readable_names(folder, name):
    assert readable_name(folder) == name


def test_display_names_can_be_edited(learnable_dir):
    index = scan_dataset(learnable_dir)
    edited = index.with_display_names({"red_circle": " a red circle ", "green_square": "  "})
    assert edited.class_names[edited.class_names.index("a red circle")] == "a red circle"
    assert "green square" in edited.class_names  # blank edits keep the old name
    assert index.class_names != edited.class_names  # the original is untouched


# ---- layout 4: CSV of path,label[,split] ---------------------------------------------------------
def test_csv_layout_with_header_split_column_and_absolute_paths(tmp_path):
    _images(tmp_path / "pics", [f"{i}.jpg" for i in range(8)])
    elsewhere = tmp_path / "elsewhere"
    _images(elsewhere, ["far.jpg"], seed=50)
    rows = ["path,label,split"] + [f"pics/{i}.jpg,{'cat' if i < 4 else 'dog'},"
                                   f"{'test' if i in (0, 4) else ''}" for i in range(8)]
    rows += [f"{elsewhere / 'far.jpg'},dog,train", "pics/0.jpg,,train", "pics/1.jpg,cat,holdout"]
    (tmp_path / "labels.csv").write_text("\n".join(rows) + "\n")
    index = scan_dataset(tmp_path / "labels.csv", seed=1)
    assert index.layout == "csv" and index.split_source == "csv"
    assert index.class_names == ["cat", "dog"]
    by_name = {Path(s.path).name: s for s in index.samples}
    assert by_name["0.jpg"].split == "test" and by_name["far.jpg"].split == "train"
    reasons = " | ".join(p.reason for p in index.problems)
    assert "row 11: needs both a path and a label" in reasons
    assert "split 'holdout' is not train, val or test" in reasons
    assert load_split(index.to_split_json()).samples == index.samples


def test_csv_without_header_semicolons_and_folder_with_one_csv(tmp_path):
    _images(tmp_path, [f"{i}.png.jpg" for i in range(6)])
    lines = [f"{i}.png.jpg;{'ant' if i % 2 else 'bee'}" for i in range(6)] + ["# comment", ""]
    (tmp_path / "data.csv").write_text("\n".join(lines), encoding="utf-8-sig")
    for source in (tmp_path / "data.csv", tmp_path):  # a folder of loose images + one CSV
        index = scan_dataset(source)
        assert index.layout == "csv" and index.split_source == "automatic"
        assert index.counts() == {"ant": {"train": 1, "val": 1, "test": 1},
                                  "bee": {"train": 1, "val": 1, "test": 1}}


def test_csv_missing_file_is_a_problem_not_a_crash(tmp_path):
    _images(tmp_path, ["a.jpg", "b.jpg", "c.jpg", "d.jpg"])
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "e.jpg").write_bytes(jpeg_bytes(99))
    (tmp_path / "l.csv").write_text("a.jpg,x\nb.jpg,x\nc.jpg,y\nd.jpg,y\nnope.jpg,y\nfile.txt,y\n"
                                    "./a.jpg,y\nsub\\e.jpg,y\n")
    index = scan_dataset(tmp_path / "l.csv")
    reasons = {Path(p.path).name: p.reason for p in index.problems}
    assert "file not found" in reasons["nope.jpg"] and "not a supported image" in reasons["file.txt"]
    assert "row 7: same file as row 1" in reasons["a.jpg"]
    assert "e.jpg" not in reasons and len(index.samples) == 5  # sub\e.jpg: Windows-style path


# ---- report and CLI --------------------------------------------------------------------------------
def test_format_report_lists_layout_counts_and_problems(learnable_split_dir, copy_of):
    root = copy_of(learnable_split_dir)
    (root / "train" / "red_circle" / "broken.jpg").write_bytes(b"")
    text = format_report(scan_dataset(root))
    assert "split-folders" in text and "red circle" in text and "Ready to train." in text
    assert "broken.jpg: empty file" in text


def main(argv: list[str]) -> int:
    from run_factory import run_cli

    return run_cli(argv)  # the exit code, also of invalid input refused while parsing


def test_cli_scan_exit_codes(learnable_dir, tmp_path, capsys):
    assert main(["scan", str(learnable_dir), "--seed", "7"]) == 0
    out = capsys.readouterr().out
    assert "class-folders" in out and "seed 7" in out
    _images(tmp_path / "only_one_class", ["a.jpg", "b.jpg"])
    assert main(["scan", str(tmp_path)]) == 1
    assert "only one class" in capsys.readouterr().out
    assert main(["scan", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["scan", str(learnable_dir), "--val-fraction", "0.6", "--test-fraction", "0.5"]) == 2
