"""Sorting an unsorted folder: embeddings (cached), proposals, the "Ask me" order, the
dataset and class-folder copies it produces, and `python -m engine sort-images`.

The folder is the demo dataset flattened into one folder under neutral names, plus three
deliberately ambiguous pictures (a picture of one class beside a picture of another, each
squeezed to half width); the encoder is tests/colour_encoder.py's tiny CLIP, whose
embeddings separate the demo classes (the random tiny CLIP's barely do), loaded the real
way.
"""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from colour_encoder import make_colour_clip, unsorted_copy
from engine.demo.dataset import make_demo_dataset
from run_factory import run_cli
from snapshots import folder_hash

pytestmark = pytest.mark.usefixtures("isolated_home")
PAIRS = (("red_circle", "green_square"), ("blue_triangle", "yellow_stripes"),
         ("red_circle", "blue_triangle"))



@pytest.fixture(scope="module")
def colour_clip(tmp_path_factory) -> Path:
    return make_colour_clip(tmp_path_factory.mktemp("colour_clip"))


@pytest.fixture(scope="module")
def unsorted(tmp_path_factory):
    """(folder, {path: true class}, [ambiguous paths], classes): 4 classes x 16 images."""
    labelled = make_demo_dataset(tmp_path_factory.mktemp("labelled"), num_classes=4,
                                 per_class=16, seed=3)
    folder = tmp_path_factory.mktemp("unsorted") / "phone dump"
    truth, classes = unsorted_copy(labelled, folder)
    ambiguous = []
    for k, (a, b) in enumerate(PAIRS):
        left = Image.open(sorted((labelled / a).glob("*.jpg"))[-1]).convert("RGB")
        right = Image.open(sorted((labelled / b).glob("*.jpg"))[-2]).convert("RGB")
        w, h = left.size  # both pictures whole, side by side: a shape of each class
        both = Image.new("RGB", (w, h))
        both.paste(left.resize((w // 2, h)), (0, 0))
        both.paste(right.resize((w - w // 2, h)), (w // 2, 0))
        path = folder / f"IMG_9{k:03d}.jpg"
        both.save(path, quality=90)
        ambiguous.append(str(path))
    return folder, truth, ambiguous, classes


def _embed(colour_clip, unsorted, **kw):
    from engine.review.sorting import embed_images, list_images

    folder, _truth, _amb, classes = unsorted
    return embed_images(list_images(folder), classes, model_ref=str(colour_clip), device="cpu",
                        precision="fp32", **kw)


def _three_per_class(emb, truth, classes) -> dict[int, int]:
    confirmed, per = {}, {c: 0 for c in classes}
    for row, path in enumerate(emb.paths):
        cls = truth.get(path)
        if cls and per[cls] < 3:
            confirmed[row] = classes.index(cls)
            per[cls] += 1
    return confirmed


def test_embeddings_separate_the_classes(colour_clip, unsorted):
    # the premise of the tests below: nearest class mean, all labels known
    _folder, truth, _amb, classes = unsorted
    emb = _embed(colour_clip, unsorted)
    rows = [i for i, p in enumerate(emb.paths) if p in truth]
    v = emb.vectors[rows].numpy()
    v = v - v.mean(0)
    y = np.array([classes.index(truth[emb.paths[i]]) for i in rows])
    means = np.stack([v[y == c].mean(0) for c in range(len(classes))])
    assert ((v @ means.T).argmax(1) == y).mean() >= 0.95


def test_three_confirmed_per_class_propose_the_rest_right(colour_clip, unsorted):
    from engine.review.proposals import propose

    folder, truth, ambiguous, classes = unsorted
    before = folder_hash(folder, mtimes=True)
    emb = _embed(colour_clip, unsorted)
    assert len(emb) == len(truth) + len(ambiguous) and not emb.failed
    confirmed = _three_per_class(emb, truth, classes)
    result = propose(emb.vectors, confirmed, len(classes), head=emb.head)
    assert result.method in ("prototypes", "probe")  # the examples beat the random text tower
    assert result.scores[result.method] >= result.scores["zero-shot"]
    best, p1, _second, p2 = result.top2()
    rest = [i for i, p in enumerate(emb.paths) if p in truth and i not in confirmed]
    right = [classes[best[i]] == truth[emb.paths[i]] for i in rest]
    assert np.mean(right) >= 0.9
    assert np.allclose(result.probs.sum(1), 1) and (p1 >= p2).all()
    # more confirmations: recomputed, with a temperature fitted on the confirmed images
    more = {i: classes.index(truth[emb.paths[i]]) for i in rest[::2]}
    again = propose(emb.vectors, {**confirmed, **more}, len(classes), head=emb.head)
    assert again.temperature != 1.0 and again.method in ("prototypes", "probe")
    assert folder_hash(folder, mtimes=True) == before


def test_ask_me_puts_the_ambiguous_pictures_first(colour_clip, unsorted):
    from engine.review.proposals import ask_order, propose

    _folder, truth, ambiguous, classes = unsorted
    emb = _embed(colour_clip, unsorted)
    confirmed = _three_per_class(emb, truth, classes)
    result = propose(emb.vectors, confirmed, len(classes), head=emb.head)
    order = ask_order(result, emb.vectors, confirmed)
    assert sorted(order) == sorted(set(range(len(emb))) - set(confirmed))  # each once
    assert {emb.paths[i] for i in order[:len(ambiguous)]} == set(ambiguous)
    assert order == ask_order(result, emb.vectors, confirmed)  # deterministic


def test_near_identical_shots_are_not_asked_in_a_row():
    import torch

    from engine.review.proposals import Proposals, ask_order

    # ten copies of one uncertain shot, and five different, slightly less uncertain pictures
    vectors = torch.cat([torch.tensor([[1.0, 0, 0, 0]]).repeat(10, 1),
                         torch.eye(4)[[1, 2, 3]], torch.tensor([[0, 1.0, 1, 0], [0, 0, 1, 1]])])
    probs = np.array([[0.5, 0.5]] * 10 + [[0.55, 0.45]] * 5)
    order = ask_order(Proposals(probs, "prototypes", 1.0), vectors)
    assert order[0] < 10 and order[1] >= 10  # the next question is another picture
    assert sum(i < 10 for i in order[:6]) <= 2


def test_ask_me_spreads_wide_embeddings_too():
    import torch

    from engine.review.proposals import Proposals, ask_order

    # 512-wide like CLIP's (reduced to 32 axes before clustering): 30 shots of one scene,
    # slightly jittered, and 30 different pictures, a little less uncertain
    gen = torch.Generator().manual_seed(0)
    scene = torch.randn(1, 512, generator=gen)
    vectors = torch.cat([scene + 0.01 * torch.randn(30, 512, generator=gen),
                         torch.randn(30, 512, generator=gen)])
    probs = np.array([[0.5 + i / 1000, 0.5 - i / 1000] for i in range(30)] + [[0.55, 0.45]] * 30)
    order = ask_order(Proposals(probs, "probe", 1.0), vectors)
    assert sorted(order) == list(range(60)) and order == ask_order(
        Proposals(probs, "probe", 1.0), vectors)
    assert order[0] == 0 and order[1] >= 30
    assert sum(i < 30 for i in order[:10]) <= 3


@pytest.mark.parametrize("which", ["colour", "tiny"])
def test_zero_shot_proposals_are_the_zero_shot_heads_argmax(which, colour_clip, tiny_clip_dir,
                                                            unsorted):
    import torch

    from engine.config import TrainConfig
    from engine.data.augment import Augmenter
    from engine.data.cache import DecodeCache
    from engine.model.classifier import build_classifier
    from engine.review.proposals import propose
    from engine.use.predict import prediction_resolution

    _folder, _truth, _amb, classes = unsorted
    model_dir = colour_clip if which == "colour" else tiny_clip_dir
    emb = _embed(model_dir, unsorted)
    result = propose(emb.vectors, {}, len(classes), head=emb.head)
    assert result.method == "zero-shot"
    # the head a training run starts from: TrainConfig's prompt templates
    model, info = build_classifier(str(model_dir), classes, head_init="zero-shot",
                                   templates=TrainConfig().prompt_templates,
                                   method="linear-probe")
    images = DecodeCache(prediction_resolution(info), framing=info.framing).load(emb.paths)
    with torch.no_grad():
        logits = model.eval()(Augmenter.for_model(info, augment=False).eval_batch(
            images.images))
    assert (result.probs.argmax(1) == logits.argmax(1).numpy()).all()
    assert np.allclose(result.probs, torch.softmax(logits, 1).numpy(), atol=1e-4)


def test_the_second_pass_reuses_the_cache_without_the_model(colour_clip, unsorted,
                                                             monkeypatch):
    from engine.review import embedding_store, sorting

    first = _embed(colour_clip, unsorted)
    progress = []

    def no_model(*args, **kwargs):
        raise AssertionError("the model was loaded although every embedding was cached")

    monkeypatch.setattr(sorting, "_Loaded", no_model)
    def no_reading(*args, **kwargs):
        raise AssertionError("an unchanged file was read again")

    monkeypatch.setattr(embedding_store, "content_hash", no_reading)
    second = _embed(colour_clip, unsorted, progress=lambda *a: progress.append(a))
    assert second.paths == first.paths and second.reused == len(first)
    assert np.allclose(second.vectors.numpy(), first.vectors.numpy())
    assert np.allclose(second.head.weight.numpy(), first.head.weight.numpy())
    assert {stage for stage, _d, _t in progress} == {"hash"}  # nothing decoded or embedded


def test_cancel_stops_the_pass(colour_clip, unsorted, tmp_path):
    from engine.review.sorting import SortCancelled

    with pytest.raises(SortCancelled):
        _embed(colour_clip, unsorted, embed_cache=tmp_path / "fresh", cancel=lambda: True)


def test_a_model_without_names_needs_an_example_per_class(colour_clip, unsorted):
    from engine.errors import UserError
    from engine.review.proposals import propose

    emb = _embed(colour_clip, unsorted)
    with pytest.raises(UserError, match="at least one image of every class"):
        propose(emb.vectors, {0: 0, 1: 1}, 4, head=None)  # DINOv2: no text tower


def test_confirmed_images_become_a_dataset_and_copies_leave_the_folder_as_it_was(
        colour_clip, unsorted, tmp_path):
    from engine.data.index import scan_dataset
    from engine.errors import UserError
    from engine.review.sorted_output import (apply_class_folders, plan_class_folders,
                                             write_sorted_csv)

    folder, truth, _amb, classes = unsorted
    before = folder_hash(folder, mtimes=True)
    chosen = dict(sorted(truth.items())[:24])
    names = {c: c.replace("_", " ").title() for c in classes}  # names as typed by a person
    decided = {p: names[c] for p, c in chosen.items()}
    csv_path = write_sorted_csv(decided, list(names.values()), folder)
    assert folder not in csv_path.parents and csv_path.is_file()
    index = scan_dataset(str(csv_path))
    assert len(index.samples) == len(chosen)
    assert {c.display_name for c in index.classes} == set(decided.values())
    by_path = {s.path: index.classes[s.label].display_name for s in index.samples}
    assert {str(Path(p).resolve()): n for p, n in decided.items()} == by_path
    assert folder_hash(folder, mtimes=True) == before

    target = tmp_path / "sorted"
    copies = plan_class_folders(decided, list(names.values()), folder, target)
    assert not target.exists()  # planning copies nothing
    done = apply_class_folders(copies)
    assert len(done) == len(chosen)
    for move in done:
        assert Path(move.target).parent.name == decided[move.source]
        assert Path(move.target).read_bytes() == Path(move.source).read_bytes()
    assert folder_hash(folder, mtimes=True) == before
    with pytest.raises(UserError, match="never changed"):
        plan_class_folders(decided, list(names.values()), folder, folder / "sorted")
    assert folder_hash(folder, mtimes=True) == before

    # moves: listed first, carried out only when applied, on a folder the user chose to move
    mine = tmp_path / "mine"
    shutil.copytree(folder, mine)
    moved = {str(mine / Path(p).name): n for p, n in decided.items()}
    plan = plan_class_folders(moved, list(names.values()), mine, tmp_path / "moved", move=True)
    assert all(Path(m.source).is_file() for m in plan) and "moved" in plan[0].reason
    apply_class_folders(plan, move=True)
    assert not any(Path(m.source).exists() for m in plan)
    assert all(Path(m.target).is_file() for m in plan)


def test_sort_images_command_writes_one_row_per_image(colour_clip, unsorted, tmp_path, capsys):
    folder, truth, ambiguous, classes = unsorted
    before = folder_hash(folder, mtimes=True)
    examples = tmp_path / "examples"
    for path, cls in sorted(truth.items()):
        (examples / cls).mkdir(parents=True, exist_ok=True)
        if len(list((examples / cls).iterdir())) < 3:
            shutil.copy(path, examples / cls / Path(path).name)
    out = tmp_path / "proposals.csv"
    code = run_cli(["sort-images", str(folder), "--classes", ",".join(classes), "--model",
                    str(colour_clip), "--examples", str(examples), "--accept-above", "0.6",
                    "--output", str(out), "--device", "cpu"])
    assert code == 0, capsys.readouterr().err
    with open(out, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["path", "proposed", "confidence", "second", "second_confidence",
                             "accepted"]
    assert sorted(r["path"] for r in rows) == sorted(list(truth) + ambiguous)
    right = np.mean([r["proposed"] == truth[r["path"]] for r in rows if r["path"] in truth])
    assert right >= 0.9
    for r in rows:
        assert r["proposed"] in classes and r["second"] in classes
        assert r["proposed"] != r["second"]
        assert float(r["confidence"]) >= float(r["second_confidence"])
        assert r["accepted"] == ("yes" if float(r["confidence"]) >= 0.6 else "no")
    assert "proposals from" in capsys.readouterr().out
    assert folder_hash(folder, mtimes=True) == before


def test_a_trained_run_re_proposes_as_it_predicts(run, predictor, unsorted):
    from engine.review.proposals import propose
    from engine.review.sorting import embed_images, list_images

    folder, _truth, _amb, _classes = unsorted
    classes = list(reversed(predictor.class_names))  # any order: the run's head is reordered
    paths = list_images(folder)[:20]
    emb = embed_images(paths, classes, run_dir=str(run), device="cpu", precision="fp32")
    result = propose(emb.vectors, {}, len(classes), head=emb.head)
    assert result.method == "zero-shot"  # the run's own head, which knows every class
    expected = [p.top[0][0] for p in predictor.predict(emb.paths, top_k=1)]
    assert [classes[i] for i in result.probs.argmax(1)] == expected
    unknown = embed_images(paths, classes + ["fern"], run_dir=str(run), device="cpu")
    assert unknown.head is None and "fern" in unknown.no_head


def test_sort_images_reads_a_classes_file_and_skips_examples_inside_the_folder(
        colour_clip, unsorted, tmp_path, capsys):
    folder, truth, _amb, classes = unsorted
    mine = tmp_path / "mine"
    shutil.copytree(folder, mine)
    taught = set()
    for path, cls in sorted(truth.items())[::5]:
        (mine / "examples" / cls).mkdir(parents=True, exist_ok=True)
        shutil.move(mine / Path(path).name, mine / "examples" / cls / Path(path).name)
        taught.add(Path(path).name)
    names = tmp_path / "classes.txt"
    names.write_text("\n".join(classes) + "\n\n", encoding="utf-8")
    out = tmp_path / "p.csv"
    assert run_cli(["sort-images", str(mine), "--classes-file", str(names), "--model",
                    str(colour_clip), "--examples", str(mine / "examples"), "--output",
                    str(out), "--device", "cpu"]) == 0, capsys.readouterr().err
    with open(out, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert "accepted" not in rows[0]
    assert {Path(r["path"]).name for r in rows} == {p.name for p in mine.glob("*.jpg")}
    assert not taught & {Path(r["path"]).name for r in rows}


def test_an_unreadable_picture_is_listed_and_remembered(colour_clip, unsorted, tmp_path,
                                                        monkeypatch):
    from engine.review import sorting

    folder, _truth, _amb, _classes = unsorted
    mine = tmp_path / "mine"
    shutil.copytree(folder, mine)
    (mine / "broken.jpg").write_bytes(b"not a picture at all")
    first = _embed(colour_clip, (mine, *unsorted[1:]))
    assert [f["path"] for f in first.failed] == [str(mine / "broken.jpg")]
    assert str(mine / "broken.jpg") not in first.paths

    def no_model(*args, **kwargs):
        raise AssertionError("the model was loaded again for a picture known to be unreadable")

    monkeypatch.setattr(sorting, "_Loaded", no_model)
    again = _embed(colour_clip, (mine, *unsorted[1:]))
    assert again.failed == first.failed and again.paths == first.paths


def test_a_copy_that_cannot_be_made_says_how_far_it_got(unsorted, tmp_path):
    import dataclasses

    from engine.errors import UserError
    from engine.review.sorted_output import apply_class_folders, plan_class_folders

    folder, truth, _amb, classes = unsorted
    chosen = {p: c for p, c in sorted(truth.items())[:3]}
    plan = plan_class_folders(chosen, classes, folder, tmp_path / "out")
    gone = dataclasses.replace(plan[1], source=str(tmp_path / "gone.jpg"))  # deleted meanwhile
    with pytest.raises(UserError, match="1 of 3 were done"):
        apply_class_folders([plan[0], gone, plan[2]])


def test_proposals_list_absolute_paths_whatever_the_working_folder(tmp_path, monkeypatch):
    from engine.review.sorting import list_images

    folder = tmp_path / "phone dump" / "2019"
    folder.mkdir(parents=True)
    (folder / "a.jpg").write_bytes(b"x")
    monkeypatch.chdir(tmp_path)
    assert list_images("phone dump") == [str(folder / "a.jpg")]
