""""Why, by example": a run's training images nearest to an image, embedded by the run's own
tower (tests/colour_encoder.py's, so the nearest images of a red picture are red ones),
training images that moved away, and damaged runs.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from colour_encoder import make_colour_clip
from engine.demo.dataset import make_demo_dataset
from engine.errors import UserError
from run_factory import make_run

pytestmark = pytest.mark.usefixtures("isolated_home")


@pytest.fixture(scope="module")
def colour_run(tmp_path_factory):
    """(run dir, dataset dir, {class folder: display name}, a red image outside the run)."""
    clip = make_colour_clip(tmp_path_factory.mktemp("colour_clip"))
    data = make_demo_dataset(tmp_path_factory.mktemp("data") / "shapes", num_classes=4,
                             per_class=12, seed=5)
    run = make_run(tmp_path_factory.mktemp("runs") / "colours", clip, data, nudge=False)
    other = make_demo_dataset(tmp_path_factory.mktemp("other"), num_classes=4, per_class=2,
                              seed=9)
    names = {c["folder"]: c["display_name"]
             for c in json.loads((run / "split.json").read_text())["classes"]}
    return run, data, names, sorted((other / "red_circle").glob("*.jpg"))[0]


def _train_paths(run: Path) -> set[str]:
    split = json.loads((run / "split.json").read_text())
    return {str(Path(split["root"]) / f["path"]) for f in split["files"]["train"]}


def test_the_nearest_training_images_of_a_red_image_are_red_and_in_order(colour_run):
    from engine.review.examples import nearest_training_images

    run, _data, names, red = colour_run
    found = nearest_training_images(run, str(red), k=5, device="cpu", precision="fp32")
    assert len(found.neighbours) == 5 and found.note == ""
    assert [label for _p, _s, label in found.neighbours] == [names["red_circle"]] * 5
    sims = [s for _p, s, _l in found.neighbours]
    assert sims == sorted(sims, reverse=True) and sims[0] > 0.9
    assert {p for p, _s, _l in found.neighbours} <= _train_paths(run)
    assert "colours" in found.source


def test_a_training_image_is_not_its_own_example(colour_run):
    from engine.review.examples import nearest_training_images

    run, _data, names, _red = colour_run
    query = sorted(p for p in _train_paths(run) if "green_square" in p)[0]
    found = nearest_training_images(run, query, k=3, device="cpu", precision="fp32")
    assert query not in [p for p, _s, _l in found.neighbours]
    assert {label for _p, _s, label in found.neighbours} == {names["green_square"]}


def test_moved_training_images_are_said_plainly(colour_run, tmp_path):
    from engine.review.examples import nearest_training_images

    run, data, names, red = colour_run
    copy = tmp_path / "data"
    shutil.copytree(data, copy)
    moved_run = make_run(tmp_path / "run", make_colour_clip(tmp_path / "clip"), copy, nudge=False)
    train = sorted(_train_paths(moved_run))
    for path in train[:3]:  # a few gone: the rest still answer, and the note says so
        Path(path).unlink()
    found = nearest_training_images(moved_run, str(red), k=4, device="cpu", precision="fp32")
    assert found.neighbours and f"3 of the {len(train)} training images" in found.note
    assert {label for _p, _s, label in found.neighbours} == {names["red_circle"]}
    copy.rename(tmp_path / "elsewhere")  # all gone: a plain note, no model needed
    found = nearest_training_images(moved_run, str(red), k=4)
    assert found.neighbours == []
    assert f"all {len(train)} files" in found.note and str(copy) in found.note


def test_a_damaged_run_or_a_bad_query_is_a_plain_error(colour_run, tmp_path):
    from engine.review.examples import nearest_training_images

    run, _data, _names, red = colour_run
    broken = tmp_path / "broken"
    shutil.copytree(run, broken)
    (broken / "split.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(UserError, match="split.json"):
        nearest_training_images(broken, str(red))
    (broken / "split.json").write_text('{"files": {}}', encoding="utf-8")
    with pytest.raises(UserError, match="not a LoRA Studio split.json"):
        nearest_training_images(broken, str(red))
    with pytest.raises(UserError, match="not an image file"):
        nearest_training_images(run, str(tmp_path / "nothing.jpg"))
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not a picture")
    with pytest.raises(UserError, match="could not be read"):
        nearest_training_images(run, str(bad), device="cpu", precision="fp32")
