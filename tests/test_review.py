"""The data check: flipped labels are found, injected near-duplicates across splits are
found, review decisions never touch the user's folder unless the moves were confirmed."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from review_data import colour_folder, fingerprint, flip_labels
from run_factory import run_cli

pytestmark = pytest.mark.usefixtures("isolated_home")

@pytest.fixture
def flipped(tmp_path):
    data = colour_folder(tmp_path / "colours")
    return data, flip_labels(data)


def test_flipped_labels_rank_at_the_top(flipped, tiny_clip_dir):
    from engine.data.index import scan_dataset
    from engine.review.embeddings import embed_dataset
    from engine.review.labels import find_label_issues

    data, wrong = flipped
    index = scan_dataset(data)
    embedded = embed_dataset(index, model_ref=str(tiny_clip_dir), device="cpu")
    issues = find_label_issues(embedded)
    checked = {i.path for i in issues}
    assert checked <= {s.path for s in index.samples if s.split in ("train", "val")}
    wrong_checked = wrong & {s.path for s in index.samples if s.split in ("train", "val")}
    top = [i.path for i in issues[:len(wrong_checked)]]
    precision = sum(p in wrong_checked for p in top) / len(wrong_checked)
    assert precision >= 0.75, [(Path(i.path).name, i.given, i.suggested, i.score) for i in issues]
    first = issues[0]
    assert first.given == "green" and first.suggested == "red" and first.score < 0.5
    assert [i.score for i in issues] == sorted(i.score for i in issues)


def test_near_duplicates_across_splits_are_found(tmp_path, tiny_clip_dir):
    from engine.data.index import scan_dataset
    from engine.demo.dataset import make_demo_dataset
    from engine.review.duplicates import find_near_duplicates
    from engine.review.embeddings import embed_dataset

    # 3 classes: the demo's fourth (stripes) draws the same stripes on every image, so its
    # pictures are near-duplicates of each other by design
    data = make_demo_dataset(tmp_path / "split", num_classes=3, size=(120, 90),
                             splits={"train": 16, "val": 4, "test": 4})
    injected = []
    for source in sorted((data / "train").rglob("*.jpg"))[::16][:3]:  # one per class
        with Image.open(source) as img:
            w, h = img.size
            copy = img.crop((4, 3, w - 4, h - 3)).resize((int(w * 0.8), int(h * 0.8)))
        target = data / "test" / source.parent.name / f"copy_of_{source.name}"
        copy.save(target, quality=60)  # resized, cropped, re-encoded: not byte-identical
        injected.append({str(source), str(target)})
    embedded = embed_dataset(scan_dataset(data), model_ref=str(tiny_clip_dir), device="cpu")
    pairs = find_near_duplicates(embedded)
    found = [{p.first, p.second} for p in pairs]
    assert all(pair in found for pair in injected), [(Path(p.first).name, Path(p.second).name)
                                                     for p in pairs]
    leaks = [p for p in pairs if p.across_splits]
    assert all({p.first, p.second} in found for p in leaks) and pairs[:len(leaks)] == leaks
    assert all(pair in [{p.first, p.second} for p in leaks] for pair in injected)
    assert len(pairs) <= 2 * len(injected)  # different pictures are not called duplicates


def test_reviewed_csv_applies_decisions_and_leaves_the_folder_alone(flipped, tmp_path):
    from engine.data.index import scan_dataset
    from engine.review.decisions import Decision, write_reviewed_csv

    data, wrong = flipped
    before = fingerprint(data)
    index = scan_dataset(data)
    first, second, *_ = sorted(wrong)
    excluded = sorted((data / "blue").glob("*.jpg"))[0]
    decisions = {first: Decision(first, "relabel", "red"), second: Decision(second, "keep"),
                 str(excluded): Decision(str(excluded), "exclude")}
    out = write_reviewed_csv(index, decisions, tmp_path / "home" / "reviewed.csv")
    assert fingerprint(data) == before
    reviewed = scan_dataset(out)
    labels = {Path(s.path).name: reviewed.classes[s.label].folder for s in reviewed.samples}
    assert labels[Path(first).name] == "red" and labels[Path(second).name] == "green"
    assert excluded.name not in labels and len(labels) == len(index.samples) - 1
    splits = {Path(s.path).name: s.split for s in index.samples}
    assert all(splits[Path(s.path).name] == s.split for s in reviewed.samples)


def test_apply_to_folder_moves_only_what_was_listed(flipped):
    from engine.data.index import scan_dataset
    from engine.review.decisions import Decision, apply_moves, plan_moves

    data, wrong = flipped
    index = scan_dataset(data)
    first = sorted(wrong)[0]
    excluded = str(sorted((data / "blue").glob("*.jpg"))[0])
    (data / "red" / Path(first).name).write_bytes(b"an unrelated file with the same name")
    decisions = {first: Decision(first, "relabel", "red"),
                 excluded: Decision(excluded, "exclude")}
    before = fingerprint(data)
    moves = plan_moves(index, decisions)
    assert fingerprint(data) == before  # planning moves nothing
    assert {m.reason for m in moves} == {"relabelled to red", "excluded"}
    relabel = next(m for m in moves if m.reason.startswith("relabelled"))
    assert Path(relabel.target).parent == data / "red"
    assert Path(relabel.target).name != Path(first).name  # the existing file is not replaced
    exclude = next(m for m in moves if m.reason == "excluded")
    assert Path(exclude.target).is_relative_to(data.with_name(data.name + "-excluded"))
    done = apply_moves(moves)
    assert len(done) == 2 and all(Path(m.target).is_file() for m in done)
    assert not Path(first).exists() and not Path(excluded).exists()
    assert (data / "red" / Path(first).name).read_bytes() == b"an unrelated file with the same name"
    after = fingerprint(data)
    untouched = set(before) - {str(Path(first).relative_to(data)),
                               str(Path(excluded).relative_to(data))}
    assert all(after[k] == before[k] for k in untouched)


def test_check_labels_cli_writes_the_report_outside_the_dataset(flipped, tiny_clip_dir,
                                                                capsys):
    data, wrong = flipped
    before = fingerprint(data)
    capsys.readouterr()
    assert run_cli(["check-labels", str(data), "--model", str(tiny_clip_dir), "--device", "cpu",
                    "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    folder = Path(report["report_dir"])
    assert not folder.is_relative_to(data) and fingerprint(data) == before
    assert {"data_check.json", "label_issues.csv", "near_duplicates.csv"} <= \
        {p.name for p in folder.iterdir()}
    assert report["checked"] > 0 and report["issues"][0]["path"] in wrong
    from engine.review.check import load_data_report

    assert load_data_report(folder).issues == report["issues"]
    (folder / "data_check.json").write_text("{ truncated", encoding="utf-8")
    from engine.errors import DamagedRunError

    with pytest.raises(DamagedRunError, match="data_check.json"):
        load_data_report(folder)


def test_check_labels_with_a_trained_run_writes_into_the_run(flipped, run, capsys):
    data, _ = flipped
    capsys.readouterr()
    assert run_cli(["check-labels", str(data), "--run", str(run), "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "likely label mistakes" in out and f"report: {run / 'data_check'}" in out
    from engine.review.check import load_data_report

    report = load_data_report(run / "data_check")
    assert report.source.startswith("run ") and report.checked > 0
