"""A damaged run folder ends in one plain message naming the file, never a traceback.

Every file a loader reads (run.json, head.safetensors, adapter/, split.json, a checkpoint's
state.json / rng.safetensors / optimizer.pt) is truncated, emptied, replaced by something of
another format, or swapped for a file of another run; predict, evaluate, export and
train --resume-from must each end with exit code 2 and a single `error:` line that names
the damaged file and says the run folder is damaged.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from engine.training.resume import resume_request
from run_factory import copy_run, run_cli

pytestmark = pytest.mark.usefixtures("isolated_home")

HEAD = "head.safetensors"
ADAPTER = "adapter/adapter_model.safetensors"


# --- ways a file gets damaged ---------------------------------------------------------------
def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def empty(path: Path) -> None:
    path.write_bytes(b"")


def wrong_format(path: Path) -> None:
    """What a careless copy or a text editor leaves: the file holds something else."""
    path.write_bytes(b"<html><body>404 Not Found</body></html>\n" if path.suffix != ".json"
                     else b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")


DAMAGES = {"truncated": truncate, "empty": empty, "wrong-format": wrong_format}


def one_error_line(capsys) -> str:
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    errors = [line for line in err if line.startswith("error:")]
    assert len(errors) == 1, err
    assert "Traceback" not in "\n".join(err)
    return errors[0]


def assert_names(line: str, path: Path) -> None:
    assert str(path) in line, line
    assert "damaged" in line, line


@pytest.fixture(scope="module")
def other_run(tmp_path_factory, tiny_clip_dir, learnable_dir):
    """A run with another number of classes: its files do not fit `run`."""
    from run_factory import shared_run

    return shared_run(tmp_path_factory, tiny_clip_dir, learnable_dir)


def _command(name: str, run_dir: Path, tmp_path: Path, image: str) -> list[str]:
    return {"predict": ["predict", str(run_dir), image, "--device", "cpu"],
            "evaluate": ["evaluate", str(run_dir), "--split", "val", "--device", "cpu"],
            "export": ["export", str(run_dir), "--output", str(tmp_path / "exported")]}[name]


def _an_image(run_dir: Path) -> str:
    split = json.loads((run_dir / "split.json").read_text(encoding="utf-8"))
    root = Path(split["root"])
    return str(root / split["files"]["val"][0]["path"])


# --- predict / evaluate / export --------------------------------------------------------------
@pytest.mark.parametrize("command", ["predict", "evaluate", "export"])
@pytest.mark.parametrize("damage", sorted(DAMAGES))
@pytest.mark.parametrize("name", [HEAD, ADAPTER, "run.json", "adapter/adapter_config.json"])
def test_a_damaged_file_is_named_by_every_loader(run, tmp_path, capsys, command, damage, name):
    run_dir = copy_run(run, tmp_path / "run")
    DAMAGES[damage](run_dir / name)
    code = run_cli(_command(command, run_dir, tmp_path, _an_image(run)))
    assert code == 2
    assert_names(one_error_line(capsys), run_dir / name)
    assert not (tmp_path / "exported" / "model.safetensors").exists()


@pytest.mark.parametrize("command", ["predict", "evaluate", "export"])
def test_a_head_of_another_run_does_not_fit(run, other_run, tmp_path, capsys, command):
    run_dir = copy_run(run, tmp_path / "run")
    shutil.copy(other_run / HEAD, run_dir / HEAD)  # 4 classes where run.json lists 3
    assert load_file(str(run_dir / HEAD))["weight"].shape[0] != \
        len(json.loads((run_dir / "run.json").read_text())["class_names"])
    assert run_cli(_command(command, run_dir, tmp_path, _an_image(run))) == 2
    line = one_error_line(capsys)
    assert_names(line, run_dir / HEAD)
    assert "classes" in line


@pytest.mark.parametrize("change", ["shape", "names"])
def test_an_adapter_that_does_not_fit_the_base_model(run, tmp_path, capsys, change):
    run_dir = copy_run(run, tmp_path / "run")
    path = run_dir / ADAPTER
    tensors = load_file(str(path))
    if change == "shape":  # a LoRA of another rank under the same names
        tensors = {k: torch.zeros(v.shape[0] * 2, *v.shape[1:]) if "lora_A" in k else v
                   for k, v in tensors.items()}
    else:  # weights of another model: nothing is silently left untrained
        tensors = {k.replace("q_proj", "k_proj"): v for k, v in tensors.items()}
    save_file(tensors, str(path))
    assert run_cli(["predict", str(run_dir), _an_image(run), "--device", "cpu"]) == 2
    line = one_error_line(capsys)
    assert_names(line, path)
    assert "does not fit" in line


@pytest.mark.parametrize("field, value", [("class_names", "dog"), ("base_model", [1]),
                                          ("base_model.image_size", "big")])
def test_run_json_with_wrongly_typed_fields(run, tmp_path, capsys, field, value):
    run_dir = copy_run(run, tmp_path / "run")
    meta = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    holder, key = (meta["base_model"], "image_size") if "." in field else (meta, field)
    holder[key] = value
    (run_dir / "run.json").write_text(json.dumps(meta), encoding="utf-8")
    assert run_cli(["predict", str(run_dir), _an_image(run), "--device", "cpu"]) == 2
    line = one_error_line(capsys)
    assert_names(line, run_dir / "run.json")
    assert field in line


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_evaluate_names_a_damaged_split_json(run, tmp_path, capsys, damage):
    run_dir = copy_run(run, tmp_path / "run")
    DAMAGES[damage](run_dir / "split.json")
    assert run_cli(["evaluate", str(run_dir), "--split", "val", "--device", "cpu"]) == 2
    assert_names(one_error_line(capsys), run_dir / "split.json")


def test_the_original_run_still_works_after_its_copies_were_damaged(run, capsys):
    # the damage above went to private copies; the shared run predicts as before
    assert run_cli(["predict", str(run), _an_image(run), "--device", "cpu"]) == 0
    assert "error" not in capsys.readouterr().err


# --- resume ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def stopped_run(tmp_path_factory, tiny_clip_dir, learnable_dir):
    """A real run stopped after its first step: checkpoints/last holds everything a resume reads."""
    from run_factory import stopped_run as make_stopped_run

    run_dir = make_stopped_run(tmp_path_factory, tiny_clip_dir, learnable_dir)
    assert (run_dir / "checkpoints" / "last" / "optimizer.pt").exists() or \
        (run_dir / "checkpoints" / "last").is_symlink() or \
        (run_dir / "checkpoints" / "last").is_file()
    return run_dir


def _last(run_dir: Path) -> Path:
    from engine.model.checkpoint import resolve_dir

    return resolve_dir(run_dir / "checkpoints" / "last")


@pytest.mark.parametrize("damage", sorted(DAMAGES))
@pytest.mark.parametrize("name", ["state.json", "rng.safetensors", "optimizer.pt", "scheduler.pt",
                                  HEAD, ADAPTER])
def test_resume_names_a_damaged_checkpoint_file(stopped_run, tmp_path, capsys, damage, name):
    run_dir = copy_run(stopped_run, tmp_path / "stopped")
    path = _last(run_dir) / name
    DAMAGES[damage](path)
    code = run_cli(["train", "--resume-from", str(run_dir)])
    assert code == 2
    assert_names(one_error_line(capsys), path)


def test_resume_names_a_head_of_another_run(stopped_run, other_run, run, tmp_path, capsys):
    run_dir = copy_run(stopped_run, tmp_path / "stopped")
    path = _last(run_dir) / HEAD
    donor = run if load_file(str(run / HEAD))["weight"].shape != \
        load_file(str(path))["weight"].shape else other_run
    shutil.copy(donor / HEAD, path)
    assert run_cli(["train", "--resume-from", str(run_dir)]) == 2
    assert_names(one_error_line(capsys), path)


def test_the_training_loop_itself_reports_a_damaged_checkpoint(stopped_run, tmp_path):
    # the GUI resumes through train() directly: the run ends "failed" with the same message
    from engine.config import TrainConfig
    from engine.events import RunFinished
    from engine.training.loop import train

    run_dir = copy_run(stopped_run, tmp_path / "stopped")
    path = _last(run_dir) / "optimizer.pt"
    truncate(path)
    events = list(train(resume_request(run_dir)))
    finished = [e for e in events if isinstance(e, RunFinished)]
    assert finished and finished[-1].status == "failed"
    assert str(path) in finished[-1].error and "damaged" in finished[-1].error


# --- listing -----------------------------------------------------------------------------------
def test_runs_lists_a_damaged_run_with_its_problem(run, tmp_path, capsys):
    root = tmp_path / "runs"
    good = copy_run(run, root / "good")
    broken_json = copy_run(run, root / "broken-json")
    broken_head = copy_run(run, root / "broken-head")
    truncate(broken_json / "run.json")
    truncate(broken_head / HEAD)
    from engine.runs import list_runs

    # the plain listing skips an unreadable run.json and does not open weight files
    assert {Path(r.path).name for r in list_runs(root)} == {"good", "broken-head"}
    listed = {Path(r.path).name: r for r in list_runs(root, damaged=True)}
    assert set(listed) == {"good", "broken-json", "broken-head"}
    assert listed["good"].problem == ""
    assert str(broken_json / "run.json") in listed["broken-json"].problem
    assert str(broken_head / HEAD) in listed["broken-head"].problem
    assert listed["broken-head"].status == "damaged"
    assert run_cli(["runs", str(root)]) == 0
    out = capsys.readouterr().out
    assert "broken-json is damaged:" in out and "broken-head is damaged:" in out


def test_metrics_jsonl_with_garbage_reads_as_the_good_lines(run, tmp_path):
    from engine.events import Log
    from engine.runs import read_metrics

    run_dir = copy_run(run, tmp_path / "run")
    good = json.dumps({"event": "log", "level": "info", "message": "hello"})
    (run_dir / "metrics.jsonl").write_bytes(
        good.encode() + b"\n\xff\xfe not json\n[1, 2]\n{\"event\": \"nonsense\"}\n" + b"{\"ty")
    events = read_metrics(run_dir)
    assert [type(e) for e in events] == [Log]
