"""Run folders, checkpoints and the train/runs commands."""
from __future__ import annotations

import datetime as dt
import errno
import json
import os

import pytest
import torch

from engine.model import checkpoint as ckpt
from engine.events import Log, RunFinished, Step, event_from_dict
from engine.runs import (RunWriter, create_run_dir, list_runs, read_metrics, read_run,
                         write_json_atomic)

NOW = dt.datetime(2024, 5, 6, 7, 8)


pytestmark = pytest.mark.usefixtures("isolated_home")


# --- run folders ------------------------------------------------------------------------
def test_run_names_are_dataset_date_and_unique(tmp_path):
    first = create_run_dir(tmp_path, "/data/My Dogs/", now=NOW)
    second = create_run_dir(tmp_path, "/data/My Dogs", now=NOW)
    assert first.name == "My-Dogs-2024-05-06-0708"
    assert second.name == "My-Dogs-2024-05-06-0708-2"
    assert create_run_dir(tmp_path, "/x/labels.csv", now=NOW).name == "labels-2024-05-06-0708"
    assert create_run_dir(tmp_path, "/x", run_name="baseline run").name == "baseline-run"


def test_json_is_sorted_and_replaced_atomically(tmp_path, monkeypatch):
    path = tmp_path / "run.json"
    write_json_atomic(path, {"b": 1, "a": {"d": 2, "c": 3}})
    assert path.read_text() == json.dumps({"a": {"c": 3, "d": 2}, "b": 1}, indent=2,
                                          sort_keys=True) + "\n"

    def broken_dump(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(json, "dump", broken_dump)
    with pytest.raises(OSError):
        write_json_atomic(path, {"new": True})
    assert json.loads(path.read_text())["b"] == 1  # the old file is untouched
    assert os.listdir(tmp_path) == ["run.json"]  # and no temp file is left behind


def test_metrics_append_and_a_torn_line_is_skipped(tmp_path):
    writer = RunWriter(tmp_path, {"name": "r"}, tensorboard=False)
    writer.log_event(Log(level="info", message="hello"))
    writer.log_event(Step(step=1, epoch=0.5, loss=1.0, lr=0.1, accuracy=0.5, images_per_s=10.0,
                          eta_s=3.0))
    # readable while the writer is still open (flushed per line)
    assert [e.kind for e in read_metrics(tmp_path)] == ["log", "step"]
    writer.close()
    with open(tmp_path / "metrics.jsonl", "a") as f:
        f.write('{"event": "step", "step": 2, "epo')  # a crash mid-write
    events = read_metrics(tmp_path)
    assert [e.kind for e in events] == ["log", "step"] and events[1].loss == 1.0


def test_missing_tensorboard_only_warns(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # import fails
    writer = RunWriter(tmp_path, {"name": "r"})
    assert "TensorBoard" in writer.tb_error
    writer.log_event(Log(level="info", message="still logged"))
    writer.close()
    assert [e.message for e in read_metrics(tmp_path)] == ["still logged"]


def test_list_runs_newest_first_and_skips_broken(tmp_path):
    for name, created, status in (("old", "2024-01-01T10:00:00", "completed"),
                                  ("new", "2024-03-01T10:00:00", "stopped")):
        (tmp_path / name).mkdir()
        write_json_atomic(tmp_path / name / "run.json", {
            "name": name, "created": created, "status": status, "method": "lora",
            "best": {"val_accuracy": 0.9, "epoch": 2, "step": 10}, "test_accuracy": 0.8,
            "base_model": {"ref": "m"}, "class_names": ["a", "b"]})
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "run.json").write_text("{not json")
    (tmp_path / "not-a-run").mkdir()
    runs = list_runs(tmp_path)
    assert [r.name for r in runs] == ["new", "old"]
    assert runs[0].status == "stopped" and runs[0].best_val_accuracy == 0.9
    assert runs[1].model_ref == "m" and runs[1].class_names == ["a", "b"]
    assert list_runs(tmp_path / "missing") == []
    assert read_run(tmp_path / "old")["status"] == "completed"


# --- checkpoints --------------------------------------------------------------------------
@pytest.fixture
def classifier(tiny_clip_dir):
    from engine.model.classifier import build_classifier

    model, _ = build_classifier(str(tiny_clip_dir), ["a", "b", "c"], lora_dropout=0.0)
    return model


def _train_a_little(model, optimizer, scheduler):
    for _ in range(2):
        loss = model(torch.randn(4, 3, 32, 32)).logsumexp(-1).mean()
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        scheduler.step()


def test_checkpoint_round_trip_restores_everything(tmp_path, classifier, tiny_clip_dir):
    from engine.model.classifier import build_classifier

    params = [p for p in classifier.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-2)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0 / (s + 1))
    _train_a_little(classifier, opt, sched)
    torch.manual_seed(123)
    ckpt.save_checkpoint(tmp_path / "last", classifier, opt, sched, {"step": 2, "epoch": 0})
    expected_rand = torch.rand(3)

    other, _ = build_classifier(str(tiny_clip_dir), ["a", "b", "c"], lora_dropout=0.0, seed=7)
    other_params = [p for p in other.parameters() if p.requires_grad]
    opt2 = torch.optim.AdamW(other_params, lr=1e-2)
    sched2 = torch.optim.lr_scheduler.LambdaLR(opt2, lambda s: 1.0 / (s + 1))
    state = ckpt.load_checkpoint(tmp_path / "last", other, opt2, sched2)
    assert state == {"step": 2, "epoch": 0}
    assert torch.equal(torch.rand(3), expected_rand)  # RNG continues where it was saved
    assert sched2.last_epoch == sched.last_epoch
    for a, b in zip(params, other_params):
        assert torch.equal(a, b)
    for a, b in zip(params, other_params):
        sa, sb = opt.state[a], opt2.state[b]
        assert torch.equal(sa["exp_avg"], sb["exp_avg"]) and torch.equal(sa["step"], sb["step"])
    files = sorted(os.listdir(tmp_path / "last"))
    assert files == ["adapter", "head.safetensors", "optimizer.pt", "rng.safetensors",
                     "scheduler.pt", "state.json"]


def test_failed_checkpoint_write_keeps_the_previous_one(tmp_path, classifier, monkeypatch):
    ckpt.save_weights(tmp_path / "best", classifier)
    before = (tmp_path / "best" / "head.safetensors").read_bytes()
    with torch.no_grad():
        classifier.head.bias.add_(1.0)

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(ckpt, "save_file", full_disk)
    with pytest.raises(OSError):
        ckpt.save_weights(tmp_path / "best", classifier)
    assert (tmp_path / "best" / "head.safetensors").read_bytes() == before
    assert os.listdir(tmp_path) == ["best"]


def test_interrupted_replace_falls_back_to_the_old_folder(tmp_path, classifier):
    ckpt.save_weights(tmp_path / "best", classifier)
    # crash between "move the old one aside" and "move the new one in"
    os.replace(tmp_path / "best", tmp_path / f".best.old-{os.getpid()}")
    assert ckpt.resolve_dir(tmp_path / "best") == tmp_path / f".best.old-{os.getpid()}"
    ckpt.publish_weights(ckpt.resolve_dir(tmp_path / "best"), tmp_path)
    assert (tmp_path / "adapter" / "adapter_config.json").is_file()
    assert (tmp_path / "head.safetensors").is_file()


# --- command line -------------------------------------------------------------------------
@pytest.fixture
def main(monkeypatch):
    """engine.cli.main.main, callable several times in one test (each call registers commands)."""
    import engine.cli.main

    def run(argv: list[str]) -> int:
        try:
            return engine.cli.main.main(argv)
        except SystemExit as exc:  # invalid input found while parsing
            return exc.code

    return run


def test_cli_train_with_config_file_and_runs_listing(tmp_path, capsys, main, learnable_split_dir,
                                                     tiny_clip_dir):
    import yaml

    config_file = tmp_path / "config.yaml"
    config_file.write_text(yaml.safe_dump({
        "data_dir": str(learnable_split_dir), "model": str(tiny_clip_dir), "epochs": 5,
        "method": "linear-probe", "num_threads": 1, "precision": "fp32", "head_lr": 0.05}))
    code = main(["train", "--config", str(config_file), "--epochs", "2",
                 "--output-dir", str(tmp_path / "runs"), "--run-name", "cli"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "Run folder:" in out and "val zero-shot: accuracy" in out and "Run completed" in out
    meta = read_run(tmp_path / "runs" / "cli")
    assert meta["config"]["epochs"] == 2  # the option overrides the file
    assert meta["config"]["head_lr"] == 0.05 and meta["method"] == "linear-probe"
    assert main(["runs", str(tmp_path / "runs")]) == 0
    listing = capsys.readouterr().out
    assert "cli" in listing and "completed" in listing and "linear-probe" in listing


def test_cli_train_reports_failures_and_bad_input(tmp_path, capsys, main, tiny_clip_dir):
    code = main(["train", "--data-dir", str(tmp_path / "nowhere"), "--model", str(tiny_clip_dir),
                 "--output-dir", str(tmp_path / "runs"), "--num-threads", "1"])
    assert code == 2  # checked while parsing, before any work
    assert "--data-dir" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    code = main(["train", "--data-dir", str(tmp_path / "empty"), "--model", str(tiny_clip_dir),
                 "--output-dir", str(tmp_path / "runs"), "--num-threads", "1"])
    assert code == 2  # the input cannot work: found by the engine, still exit 2
    assert "Run failed:" in capsys.readouterr().err
    assert main(["train", "--output-dir", str(tmp_path)]) == 2  # no dataset given
    assert "--data-dir" in capsys.readouterr().err
    (tmp_path / "bad.yaml").write_text("epochs: [")
    assert main(["train", "--config", str(tmp_path / "bad.yaml")]) == 2


def test_cli_json_lines_parse_back(tmp_path, capsys, main, learnable_split_dir, tiny_clip_dir):
    code = main(["train", "--json", "--data-dir", str(learnable_split_dir), "--model",
                 str(tiny_clip_dir), "--method", "linear-probe", "--epochs", "1",
                 "--output-dir", str(tmp_path / "runs"), "--num-threads", "1"])
    assert code == 0
    events = [event_from_dict(json.loads(line)) for line in capsys.readouterr().out.splitlines()]
    assert isinstance(events[-1], RunFinished) and events[-1].status == "completed"


def test_ctrl_c_asks_for_a_graceful_stop_then_aborts():
    import signal

    from engine.cli.ctrl_c import ctrl_c_stops
    from engine.training.control import TrainControl

    control = TrainControl()
    before = signal.getsignal(signal.SIGINT)
    with ctrl_c_stops(control):
        os.kill(os.getpid(), signal.SIGINT)  # first Ctrl-C: stop and save
        assert control.stop_requested
        with pytest.raises(KeyboardInterrupt):  # second one: abort
            os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is before


def test_a_running_run_whose_process_died_reads_interrupted(tmp_path):
    import socket
    import subprocess
    import sys

    from engine.runs import effective_status, process_marker

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    here = socket.gethostname()
    assert effective_status({"status": "running", "process": process_marker()}) == "running"
    assert effective_status({"status": "running",
                             "process": {"pid": dead.pid, "host": here}}) == "interrupted"
    # another machine's process cannot be checked; old run.json files have no marker
    assert effective_status({"status": "running",
                             "process": {"pid": dead.pid, "host": here + "-other"}}) == "running"
    assert effective_status({"status": "running"}) == "running"
    assert effective_status({"status": "completed",
                             "process": {"pid": dead.pid, "host": here}}) == "completed"
    run = tmp_path / "runs" / "killed"
    run.mkdir(parents=True)
    (run / "run.json").write_text(json.dumps({"name": "killed", "status": "running",
                                              "process": {"pid": dead.pid, "host": here}}))
    assert [r.status for r in list_runs(tmp_path / "runs")] == ["interrupted"]
