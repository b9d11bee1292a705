"""Feedback from predictions (engine/use/feedback.py): verdicts become rows of a new-labels
CSV beside the run, held-out images are refused, and the next run trains on the run's own
images (their recorded splits) plus the new labels, from the run's model, while the user's
image files stay exactly as they were."""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from engine.data.index import scan_dataset
from engine.demo.dataset import make_demo_dataset
from engine.errors import UserError
from engine.use import feedback
from run_factory import copy_run, make_run, run_cli
from snapshots import folder_hash

pytestmark = pytest.mark.usefixtures("isolated_home")


@pytest.fixture
def my_run(run, tmp_path) -> Path:
    """A private copy of the module's run (3 classes, split folders), in tmp/runs/."""
    (tmp_path / "runs").mkdir()
    return copy_run(run, tmp_path / "runs" / "pets")


@pytest.fixture
def new_images(tmp_path) -> Path:
    """Images the run never saw, in the user's own folder: new/<class>/*.jpg (2 each)."""
    return make_demo_dataset(tmp_path / "new", num_classes=3, per_class=2, seed=11)


def rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def split_of(run_dir: Path) -> dict:
    return json.loads((run_dir / "split.json").read_text(encoding="utf-8"))


def test_verdicts_are_rows_beside_the_run_and_the_last_one_counts(my_run, new_images):
    before = folder_hash(my_run, new_images, mtimes=True)
    red = sorted((new_images / "red_circle").glob("*.jpg"))
    green = sorted((new_images / "green_square").glob("*.jpg"))
    feedback.mark(my_run, red[0], "red circle")  # right: the predicted class, by its name
    feedback.mark(my_run, green[0], "blue_triangle")  # wrong: the class the user gave (key)
    target = my_run.parent / "pets-new-labels.csv"
    assert feedback.new_labels_path(my_run) == target and not (my_run / target.name).exists()
    assert rows(target) == [
        {"path": str(green[0]), "label": "blue_triangle", "split": "train",
         "display_name": "blue triangle"},
        {"path": str(red[0]), "label": "red_circle", "split": "train",
         "display_name": "red circle"}]
    feedback.mark(my_run, green[0], "green square")  # marked again: the last verdict counts
    assert [(r["path"], r["label"]) for r in rows(target)] == [
        (str(green[0]), "green_square"), (str(red[0]), "red_circle")]
    assert feedback.unmark(my_run, red[0]) and not feedback.unmark(my_run, red[0])
    assert [r["path"] for r in rows(target)] == [str(green[0])]
    assert not list(target.parent.glob(".*.tmp"))  # written atomically, nothing left over
    scanned = scan_dataset(target)  # the file reads as a CSV dataset, as it is
    assert [(s.path, s.split) for s in scanned.samples] == [(str(green[0]), "train")]
    assert folder_hash(my_run, new_images, mtimes=True) == before  # nothing moved or changed


def test_a_class_the_run_does_not_know_is_refused(my_run, new_images):
    image = next((new_images / "red_circle").glob("*.jpg"))
    with pytest.raises(UserError, match="'cat' is not a class of the run pets"):
        feedback.mark(my_run, image, "cat")
    with pytest.raises(UserError, match="not there"):
        feedback.mark(my_run, new_images / "gone.jpg", "red circle")
    (new_images / "notes.txt").write_text("hello")
    with pytest.raises(UserError, match="not an image"):
        feedback.mark(my_run, new_images / "notes.txt", "red circle")
    assert not feedback.new_labels_path(my_run).exists()


def test_validation_and_test_images_are_refused_also_as_copies(my_run, tmp_path):
    data = split_of(my_run)
    root = Path(data["root"])
    val_image = root / data["files"]["val"][0]["path"]
    test_image = root / data["files"]["test"][0]["path"]
    with pytest.raises(UserError, match="validation images of pets.*not added"):
        feedback.mark(my_run, val_image, "red circle")
    copy = tmp_path / "downloads" / "renamed.jpg"  # the same picture, elsewhere
    copy.parent.mkdir()
    shutil.copyfile(test_image, copy)
    with pytest.raises(UserError, match="test images of pets"):
        feedback.mark(my_run, copy, "red circle")
    assert not feedback.new_labels_path(my_run).exists()
    train_image = root / data["files"]["train"][0]["path"]  # a correction of a train label
    assert feedback.mark(my_run, train_image, "blue triangle").label == "blue_triangle"


def test_the_next_dataset_keeps_the_run_splits_and_adds_the_new_labels(my_run, new_images,
                                                                       tmp_path):
    with pytest.raises(UserError, match="no new labels yet"):
        feedback.write_next_dataset(my_run)
    data = split_of(my_run)
    root = Path(data["root"])
    train_item = data["files"]["train"][0]
    feedback.mark(my_run, root / train_item["path"], "green square")  # was another class
    new = sorted(new_images.rglob("*.jpg"))
    for image in new:
        feedback.mark(my_run, image, image.parent.name)
    made = feedback.write_next_dataset(my_run, tmp_path / "next.csv")
    assert (made.added, made.relabelled) == (len(new) + 1, 1)
    index = scan_dataset(made.path)
    by_split = {s: sorted(x.path for x in index.split(s)) for s in ("train", "val", "test")}
    listed = {s: sorted(str(root / i["path"]) for i in data["files"][s])
              for s in ("train", "val", "test")}
    assert by_split["val"] == listed["val"] and by_split["test"] == listed["test"]
    assert by_split["train"] == sorted(listed["train"] + [str(p) for p in new])
    assert made.run_images == sum(len(v) for v in listed.values()) - 1
    names = {index.classes[x.label].folder for x in index.samples
             if x.path == str(root / train_item["path"])}
    assert names == {"green_square"}  # the user's correction replaced the old label
    assert index.class_names == json.loads((my_run / "run.json").read_text())["class_names"]
    config = feedback.next_run_config(my_run, made.path, epochs=1)
    assert (config.init_from, config.data_dir, config.resume_from) == (
        str(my_run.resolve()), str(made.path), "")
    assert config.output_dir == str(my_run.parent.resolve()) and config.lora_r == 4


def test_train_with_new_labels_from_the_command_line(tiny_clip_dir, learnable_split_dir,
                                                     new_images, tmp_path, capsys):
    before = folder_hash(learnable_split_dir, new_images, mtimes=True)
    base = make_run(tmp_path / "runs" / "base", tiny_clip_dir, learnable_split_dir)
    new = sorted(new_images.rglob("*.jpg"))
    for image in new:
        feedback.mark(base, image, image.parent.name)
    code = run_cli(["train", "--init-from", str(base), "--with-new-labels", "--epochs", "1",
                    "--batch-size", "16", "--precision", "fp32", "--num-threads", "1",
                    "--device", "cpu", "--early-stop-patience", "0"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"and {len(new)} new label(s) in train" in out
    assert "Starting from the saved model of" in out  # the warm start, not a fresh head
    runs = [p for p in (tmp_path / "runs").iterdir() if p.is_dir() and p.name != "base"]
    assert len(runs) == 1  # a new run beside the old one, which is left as it was
    new_split = split_of(runs[0])
    trained = {str(Path(new_split["root"]) / i["path"]) if not Path(i["path"]).is_absolute()
               else i["path"] for i in new_split["files"]["train"]}
    assert {str(p) for p in new} <= trained
    old = split_of(base)
    for split in ("val", "test"):
        assert len(new_split["files"][split]) == len(old["files"][split])
    assert folder_hash(learnable_split_dir, new_images, mtimes=True) == before
