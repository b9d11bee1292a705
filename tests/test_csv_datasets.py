"""A CSV dataset is its file: runs record the CSV, its absolute paths stay absolute, and a
run trained on it can be evaluated, continued and found again after its images moved,
whether the CSV lists absolute paths (images outside its folder, like a reviewed dataset)
or paths relative to its own folder. Display names travel in the CSV's fourth column."""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from engine.config import TrainConfig
from engine.data.index import listed_folder, load_split, scan_dataset
from engine.demo.dataset import make_demo_dataset
from engine.errors import UserError
from engine.events import RunFinished, RunStarted
from engine.runs import read_run
from engine.training.loop import train
from engine.training.resume import resume_request
from engine.use.evaluate import evaluate_run

pytestmark = pytest.mark.usefixtures("isolated_home")


def write_csv(path: Path, index, relative_to: Path | None = None, names=None) -> Path:
    """The index as path,label[,display_name] rows: absolute paths, or relative to a folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "label"] + (["display_name"] if names else []))
        for s in index.samples:
            folder = index.classes[s.label].folder
            where = Path(s.path).relative_to(relative_to).as_posix() if relative_to else s.path
            writer.writerow([where, folder] + ([names.get(folder, "")] if names else []))
    return path


def finished(events) -> RunFinished:
    last = events[-1]
    assert isinstance(last, RunFinished), last
    return last


@pytest.fixture
def images(tmp_path):
    return make_demo_dataset(tmp_path / "photos", num_classes=3, per_class=10, seed=3)


@pytest.mark.parametrize("paths", ["absolute", "relative"])
def test_csv_run_is_evaluated_continued_and_found_again_after_a_move(
        tmp_path, tiny_clip_dir, images, paths):
    if paths == "absolute":  # the CSV lives elsewhere, like a reviewed dataset
        data = write_csv(tmp_path / "lists" / "labels.csv", scan_dataset(images))
        moved_from, moved_to = images, tmp_path / "moved-photos"
    else:  # the CSV sits beside its images: the whole folder moves
        data = write_csv(images / "labels.csv", scan_dataset(images), relative_to=images)
        moved_from, moved_to = images, tmp_path / "moved-dataset"
    config = TrainConfig(data_dir=str(data), model=str(tiny_clip_dir),
                         output_dir=str(tmp_path / "runs"), epochs=1, batch_size=16,
                         lr=1e-2, head_lr=1e-2, precision="fp32", num_threads=1,
                         early_stop_patience=0, cache_dir=str(tmp_path / "cache"))
    done = finished(list(train(config)))
    assert done.status == "completed", done.error
    run = Path(done.run_dir)
    meta = read_run(run)
    assert meta["config"]["data_dir"] == str(data)  # the CSV, not the folder holding it
    assert meta["dataset"]["root"] == str(data) and meta["dataset"]["layout"] == "csv"
    split = json.loads((run / "split.json").read_text(encoding="utf-8"))
    saved = [item["path"] for item in split["files"]["train"]]
    assert split["source"] == str(data)
    assert all(Path(p).is_absolute() for p in saved) == (paths == "absolute")
    assert all(not Path(p).is_absolute() for p in saved) == (paths == "relative")
    assert listed_folder(split) == str(images)

    first = evaluate_run(run, report_dir=tmp_path / "report-1")
    assert first.num_images == 6 and first.skipped == []

    # continue the run with no dataset given: it reads its own split.json
    events = list(train(resume_request(run, epochs=2)))
    assert finished(events).status == "completed", finished(events).error
    started = next(e for e in events if isinstance(e, RunStarted))
    assert started.start_step > 0 and started.num_test == 6
    assert read_run(run)["dataset"]["root"] == str(data)
    assert evaluate_run(run, report_dir=tmp_path / "report-2").num_images == 6

    shutil.move(moved_from, moved_to)
    with pytest.raises(UserError) as missing:
        evaluate_run(run, report_dir=tmp_path / "report-3")
    assert f"missing from {images} " in str(missing.value) and "--data-root" in str(missing.value)
    found = evaluate_run(run, data_root=str(moved_to), report_dir=tmp_path / "report-4")
    assert found.num_images == 6 and found.skipped == []
    assert all(Path(s["path"]).is_relative_to(moved_to) for s in found.samples)

    events = list(train(resume_request(run, epochs=3)))  # the images are gone: say where
    failed = finished(events)
    assert failed.status == "failed"
    assert f"no longer in {images} " in failed.error and "--data-root" in failed.error
    assert "--data-dir NEW_PLACE" in failed.error
    assert read_run(run)["status"] == "completed"  # the run itself is left as it was
    events = list(train(resume_request(run, epochs=3, data_dir=str(moved_to))))  # named
    assert finished(events).status == "completed", finished(events).error


def test_an_older_split_json_with_absolute_paths_loads_and_moves(tmp_path, images):
    # split.json files written before "source" existed: root was the CSV's folder and
    # images outside it were saved absolute (they were read as root + path, doubled)
    index = scan_dataset(write_csv(tmp_path / "reviewed" / "r.csv", scan_dataset(images)))
    data = index.to_split_json()
    del data["source"]
    assert data["root"] == str(tmp_path / "reviewed")
    loaded = load_split(data)
    assert not loaded.problems and sorted(s.path for s in loaded.samples) == \
        sorted(s.path for s in index.samples)
    shutil.move(images, tmp_path / "elsewhere")
    assert all("missing" in p.reason for p in load_split(data).problems[:len(index.samples)])
    again = load_split(data, root=tmp_path / "elsewhere")
    assert len(again.samples) == len(index.samples) and not again.errors
    assert all(Path(s.path).is_file() for s in again.samples)


def test_display_names_come_from_the_csv_and_reach_the_run(tmp_path, tiny_clip_dir, images):
    names = {"red_circle": "scarlet disc", "green_square": "lime block"}
    data = write_csv(tmp_path / "named.csv", scan_dataset(images), names=names)
    index = scan_dataset(data)
    assert index.root == str(data) and index.folder == str(tmp_path)
    shown = {c.folder: c.display_name for c in index.classes}
    assert shown == {"blue_triangle": "blue triangle", **names}
    config = TrainConfig(data_dir=str(data), model=str(tiny_clip_dir), method="linear-probe",
                         output_dir=str(tmp_path / "runs"), epochs=1, batch_size=16,
                         precision="fp32", num_threads=1, cache_dir=str(tmp_path / "cache"))
    done = finished(list(train(config)))
    assert done.status == "completed", done.error
    assert sorted(read_run(done.run_dir)["class_names"]) == \
        sorted(["blue triangle", "scarlet disc", "lime block"])


def test_a_clashing_or_conflicting_display_name_is_a_warning(tmp_path, images):
    index = scan_dataset(images)
    clash = write_csv(tmp_path / "clash.csv", index,
                      names={"red_circle": "green square"})  # green_square's readable name
    scanned = scan_dataset(clash)
    assert [c.display_name for c in scanned.classes] == \
        ["blue triangle", "green square", "red circle"]
    assert any("used by another class" in p.reason for p in scanned.problems)
    assert not scanned.errors
    rows = (tmp_path / "clash.csv").read_text(encoding="utf-8").splitlines()
    rows[-1] = rows[-1].rsplit(",", 1)[0] + ",crimson"  # a second name for the same class
    (tmp_path / "conflict.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    conflicting = scan_dataset(tmp_path / "conflict.csv")
    assert any("differs from" in p.reason for p in conflicting.problems)


def test_the_reviewed_csv_keeps_renames_and_absolute_paths(tmp_path, images):
    from engine.review.decisions import Decision, write_reviewed_csv

    index = scan_dataset(images).with_display_names({"blue_triangle": "cobalt wedge"})
    first = index.samples[0].path
    out = write_reviewed_csv(index, {first: Decision(first, "exclude")},
                             tmp_path / "home" / "reviewed" / "a.csv")
    reviewed = scan_dataset(out)
    assert reviewed.root == str(out) and reviewed.layout == "csv"
    assert "cobalt wedge" in reviewed.class_names
    assert len(reviewed.samples) == len(index.samples) - 1
    with open(out, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["path", "label", "split", "display_name"]
    assert all(Path(r[0]).is_absolute() for r in rows[1:])
    # reviewed again: the names and the split survive a second save
    again = write_reviewed_csv(reviewed, {}, tmp_path / "home" / "reviewed" / "b.csv")
    second = scan_dataset(again)
    assert second.class_names == reviewed.class_names
    assert second.counts() == reviewed.counts()
