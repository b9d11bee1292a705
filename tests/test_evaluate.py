"""evaluate_run: complete report files, metrics that agree with prediction, folder mapping."""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from run_factory import copy_run, read_json, run_cli


pytestmark = pytest.mark.usefixtures("isolated_home")  # `run`, `predictor`: conftest


def test_test_split_report_is_complete_and_consistent(run, predictor, tmp_path):
    from engine.use.evaluate import evaluate_run, load_report

    own = copy_run(run, tmp_path / "run")
    seen = []
    report = evaluate_run(own, split="test", predictor=predictor, batch_size=10,
                          progress=lambda d, t: seen.append((d, t)))
    out = own / "report"
    assert report.report_dir == str(out)
    assert sorted(p.name for p in out.iterdir()) == ["confusion_matrix.png", "errors.csv",
                                                     "reliability.png", "report.json"]
    assert seen[0] == (0, 24) and seen[-1] == (24, 24)

    text = (out / "report.json").read_text(encoding="utf-8")
    data = json.loads(text)
    assert text == json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert data["class_names"] == ["blue triangle", "green square", "red circle"]
    assert data["source"] == "test" and data["num_images"] == 24 and data["skipped"] == []
    assert data["top5_accuracy"] is None  # only 3 classes
    confusion = torch.tensor(data["confusion"])
    assert confusion.shape == (3, 3) and confusion.sum() == 24
    assert confusion.sum(1).tolist() == [8, 8, 8]
    assert data["accuracy"] == pytest.approx(confusion.trace().item() / 24)
    assert data["accuracy"] >= 0.6
    assert [c["support"] for c in data["per_class"]] == [8, 8, 8]
    for i, c in enumerate(data["per_class"]):
        assert set(c) == {"name", "folder", "precision", "recall", "f1", "support"}
        assert c["recall"] == pytest.approx(confusion[i, i].item() / 8)

    with open(out / "errors.csv", newline="", encoding="utf-8") as fh:
        errors = list(csv.DictReader(fh))
    assert len(errors) == 24 - confusion.trace().item() == len(report.errors)
    assert all(e["true"] != e["predicted"] and 0 < float(e["confidence"]) <= 1 for e in errors)
    confidences = [float(e["confidence"]) for e in errors]
    assert confidences == sorted(confidences, reverse=True)

    # The evaluation path and the prediction path agree image by image.
    preds = predictor.predict([s["path"] for s in report.samples], top_k=1)
    assert [p.label for p in preds] == [s["predicted"] for s in report.samples]
    assert report.cell_samples(0, 0) == [s for s in report.samples
                                         if s["true"] == s["predicted"] == "blue triangle"]
    assert load_report(own) == report  # the GUI reopens it without recomputing
    png = Image.open(out / "confusion_matrix.png")
    assert png.format == "PNG" and 300 < png.width < 2000


def test_folder_evaluation_maps_folder_and_display_names(run, predictor, learnable_split_dir,
                                                         tmp_path):
    from engine.use.evaluate import evaluate_run

    folder = tmp_path / "new-photos"
    shutil.copytree(learnable_split_dir / "val" / "red_circle", folder / "Red Circle")
    shutil.copytree(learnable_split_dir / "val" / "blue_triangle", folder / "blue_triangle")
    (folder / "blue_triangle" / "broken.jpg").write_bytes(
        (learnable_split_dir / "val" / "blue_triangle").glob("*.jpg").__next__().read_bytes()[:300])
    report = evaluate_run(run, folder=str(folder), predictor=predictor,
                          report_dir=tmp_path / "report")
    assert not (run / "report").exists()  # the shared run folder is untouched
    assert report.source == str(folder.resolve())
    assert [c["support"] for c in report.per_class] == [8, 0, 8]
    assert [Path(s["path"]).name for s in report.skipped] == ["broken.jpg"]
    assert report.num_images == 16 and sum(map(sum, report.confusion)) == 16
    assert read_json(tmp_path / "report" / "report.json")["skipped"][0]["reason"]


def test_unknown_classes_and_bad_requests_are_user_errors(run, predictor, learnable_split_dir,
                                                          tmp_path):
    from engine.errors import UserError
    from engine.use.evaluate import evaluate_run, load_report

    folder = tmp_path / "photos"
    shutil.copytree(learnable_split_dir / "val" / "red_circle", folder / "red_circle")
    shutil.copytree(learnable_split_dir / "val" / "green_square", folder / "unicorn")
    with pytest.raises(UserError, match="unicorn"):
        evaluate_run(run, folder=str(folder), predictor=predictor, report_dir=tmp_path / "r")
    with pytest.raises(UserError, match="choose train, val or test"):
        evaluate_run(run, split="holdout", predictor=predictor, report_dir=tmp_path / "r")
    assert load_report(tmp_path / "r") is None


def test_moved_dataset_is_found_again_with_data_root(run, predictor, learnable_split_dir,
                                                     tmp_path):
    from engine.errors import UserError
    from engine.use.evaluate import evaluate_run

    own = copy_run(run, tmp_path / "run")
    split = read_json(own / "split.json")
    split["root"] = str(tmp_path / "old-place")
    (own / "split.json").write_text(json.dumps(split), encoding="utf-8")
    with pytest.raises(UserError, match="moved"):
        evaluate_run(own, split="val", predictor=predictor)
    report = evaluate_run(own, split="val", predictor=predictor,
                          data_root=str(learnable_split_dir))
    assert report.num_images == 24 and report.skipped == []


def test_compute_metrics_by_hand():
    from engine.use.evaluate import compute_metrics

    names = [f"c{i}" for i in range(7)]
    y_true = torch.tensor([0, 1, 2, 3, 4, 5, 6, 0])
    probs = torch.full((8, 7), 0.01)
    ranking = [[0], [2, 1], [3, 4, 5, 6, 2], [3], [0, 1, 2, 3, 5, 4], [5], [6], [1, 0]]
    for row, order in enumerate(ranking):
        for rank, cls in enumerate(order):
            probs[row, cls] = 0.9 - 0.1 * rank
    m = compute_metrics(y_true, probs, names, names)
    # top-1 right: rows 0, 3, 5, 6; top-5 right: also 1, 2, 7 (row 4's class is 6th)
    assert m["accuracy"] == pytest.approx(4 / 8)
    assert m["top5_accuracy"] == pytest.approx(7 / 8)
    assert m["confusion"][0] == [1, 1, 0, 0, 0, 0, 0]
    assert m["confusion"][2][3] == 1 and m["confusion"][4][0] == 1
    c0 = m["per_class"][0]
    assert (c0["precision"], c0["recall"], c0["support"]) == (pytest.approx(0.5), 0.5, 2)
    assert m["per_class"][3]["precision"] == pytest.approx(0.5)  # row 2 was called c3


def test_confusion_png_is_readable_at_10_and_120_classes():
    from engine.use.report_png import colour_for, draw_confusion_matrix, elide, _font

    font = _font(12)
    long = "a very long class name that cannot possibly fit"
    short = elide(long, font, 100)
    assert short.endswith("…") and font.getlength(short) <= 100 and elide("pug", font, 100) == "pug"
    shades = [sum(colour_for(s / 10)) for s in range(11)]
    assert shades == sorted(shades, reverse=True) and shades[0] > shades[-1] + 300

    for n in (10, 120):
        names = [f"n0208{i:04d}-{long}" for i in range(n)]
        matrix = [[(20 if i == j else 0) + (3 if j == (i + 1) % n else 0) for j in range(n)]
                  for i in range(n)]
        img = draw_confusion_matrix(matrix, names, title="test")
        assert 400 < img.width < 2600 and 400 < img.height < 2600
        pixels = np.asarray(img).reshape(-1, 3)
        for share in (20 / 23, 3 / 23):  # diagonal and confused cells, in their own colours
            assert (pixels == colour_for(share)).all(1).sum() >= n * 30
    with pytest.raises(ValueError):
        draw_confusion_matrix([[1, 2]], ["a", "b"])


def test_cli_evaluate_prints_summary(run, tmp_path, capsys):
    own = copy_run(run, tmp_path / "run")
    assert run_cli(["evaluate", str(own), "--split", "val", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "accuracy" in out and "green square" in out and str(own / "report") in out
    assert read_json(own / "report" / "report.json")["source"] == "val"
    assert run_cli(["evaluate", str(own), "--folder", str(tmp_path / "nowhere")]) == 2
