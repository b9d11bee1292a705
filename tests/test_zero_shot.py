"""`python -m engine zero-shot`: CLIP's accuracy before training, equal to a run's step 0."""
from __future__ import annotations

import json

import pytest
import torch

from run_factory import run_cli, train_short

pytestmark = pytest.mark.usefixtures("isolated_home")

# CPU fp32, one thread, the batch size of the run below: bit-for-bit the same arithmetic.
SAME_AS_RUN = ["--device", "cpu", "--precision", "fp32", "--threads", "1", "--batch-size", "16"]


def _zero_shot_json(capsys, *argv: str) -> dict:
    capsys.readouterr()
    assert run_cli(["zero-shot", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture(scope="module")
def step0(tmp_path_factory, learnable_split_dir, tiny_clip_dir):
    """The step-0 zero-shot val Evaluation of a one-step training run, from its metrics.jsonl."""
    threads = torch.get_num_threads()
    finished = train_short(tmp_path_factory, tiny_clip_dir, learnable_split_dir, epochs=1,
                           max_steps=1, precision="fp32", num_threads=1)[-1]  # default prompts
    torch.set_num_threads(threads)
    with open(f"{finished.run_dir}/metrics.jsonl", encoding="utf-8") as fh:
        events = [json.loads(line) for line in fh]
    zero = [e for e in events if e.get("event") == "evaluation" and e["step"] == 0]
    assert len(zero) == 1 and zero[0]["zero_shot"] and zero[0]["split"] == "val"
    return zero[0]


def test_equals_the_step0_zero_shot_evaluation_of_training(step0, capsys, learnable_split_dir,
                                                           tiny_clip_dir):
    result = _zero_shot_json(capsys, "--model", str(tiny_clip_dir),
                             "--data", str(learnable_split_dir), "--split", "val", *SAME_AS_RUN)
    # The tiny random CLIP predicts nearly one class for everything, so equal accuracies alone
    # prove little; an equal loss means the same head saw the same pixels.
    assert result["accuracy"] == pytest.approx(step0["accuracy"], abs=1e-6)
    assert result["loss"] == pytest.approx(step0["loss"], rel=1e-9)  # discriminates: see below
    assert result["per_class"].keys() == step0["per_class_accuracy"].keys()
    for name, acc in step0["per_class_accuracy"].items():
        assert result["per_class"][name] == pytest.approx(acc, abs=1e-6)
    assert result["num_images"] == 24 and set(result["counts"].values()) == {8}


def test_text_table_lists_overall_and_every_class(capsys, learnable_split_dir, tiny_clip_dir):
    assert run_cli(["zero-shot", "--model", str(tiny_clip_dir), "--data",
                    str(learnable_split_dir), "--split", "test", *SAME_AS_RUN]) == 0
    out = capsys.readouterr().out
    assert "Zero-shot accuracy" in out and "overall:" in out and "24 images" in out
    for name in ("blue triangle", "green square", "red circle"):
        line = next(row for row in out.splitlines() if row.strip().startswith(name))
        assert line.split()[-1] == "8" and line.split()[-2].endswith("%")

    data = _zero_shot_json(capsys, "--model", str(tiny_clip_dir), "--data",
                           str(learnable_split_dir), "--split", "test", *SAME_AS_RUN)
    assert data["split"] == "test" and data["classes"] == ["blue triangle", "green square",
                                                           "red circle"]
    assert set(data["per_class"]) == set(data["classes"]) == set(data["counts"])
    assert all(0.0 <= acc <= 1.0 for acc in data["per_class"].values())
    correct = sum(data["per_class"][c] * data["counts"][c] for c in data["classes"])
    assert data["accuracy"] == pytest.approx(correct / data["num_images"])
    assert data["model"] == str(tiny_clip_dir) and data["problems"] == []


def test_split_all_counts_every_image(capsys, learnable_split_dir, tiny_clip_dir):
    data = _zero_shot_json(capsys, "--model", str(tiny_clip_dir), "--data",
                           str(learnable_split_dir), "--split", "all", *SAME_AS_RUN)
    assert data["num_images"] == 3 * (24 + 8 + 8)
    assert set(data["counts"].values()) == {40}


def test_automatic_split_flags_are_those_of_training(learnable_dir, tiny_clip_dir):
    from engine.data.index import scan_dataset
    from engine.training.zero_shot import zero_shot_accuracy

    result = zero_shot_accuracy(str(tiny_clip_dir), str(learnable_dir), "val", val_fraction=0.2,
                                seed=7, device="cpu", precision="fp32")
    index = scan_dataset(learnable_dir, val_fraction=0.2, test_fraction=0.15, seed=7)
    assert result.num_images == len(index.split("val")) == sum(result.counts.values())
    assert result.to_dict()["per_class"] == result.per_class


def _error_lines(capsys) -> list[str]:
    err = capsys.readouterr().err
    return [line for line in err.splitlines() if "error:" in line]


def test_empty_split_is_a_plain_error(capsys, learnable_dir, tiny_clip_dir):
    capsys.readouterr()
    code = run_cli(["zero-shot", "--model", str(tiny_clip_dir), "--data", str(learnable_dir),
                    "--split", "test", "--test-fraction", "0", "--device", "cpu"])
    errors = _error_lines(capsys)
    assert code == 2 and len(errors) == 1
    assert "no test images" in errors[0]


def test_folder_that_is_not_a_dataset_is_a_plain_error(capsys, tmp_path, tiny_clip_dir):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("not an image")
    for folder in (tmp_path / "empty", tmp_path / "missing"):
        capsys.readouterr()
        code = run_cli(["zero-shot", "--model", str(tiny_clip_dir), "--data", str(folder),
                        "--device", "cpu"])
        assert code == 2 and len(_error_lines(capsys)) == 1


def test_broken_image_is_reported_and_skipped(capsys, copy_of, learnable_dir, tiny_clip_dir):
    data_dir = copy_of(learnable_dir)
    first = sorted(p for p in data_dir.iterdir() if p.is_dir())[0]
    broken = first / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff this is not really a JPEG")
    capsys.readouterr()
    assert run_cli(["zero-shot", "--model", str(tiny_clip_dir), "--data", str(data_dir),
                    "--split", "all", "--device", "cpu", "--json"]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["num_images"] == 4 * 30
    assert any(p["path"] == str(broken) for p in data["problems"])
    assert f"warning: {broken}" in captured.err
