"""`python -m engine sweep`: trials are run folders, the best config loads, a second command
continues the study, a clearly bad trial is pruned, the budget stops early, bad input is refused
with nothing written, and torchrun runs one trial per process."""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli.main import main
from engine.config import TrainConfig
from engine.sweep.runner import SweepSpec, run_sweep

ROOT = Path(__file__).resolve().parent.parent


def _base(tmp_path, data_dir, model_dir, **changes) -> Path:
    values = dict(data_dir=str(data_dir), model=str(model_dir), output_dir=str(tmp_path / "runs"),
                  batch_size=8, lr=1e-2, head_lr=1e-2, precision="fp32", epochs=5, num_threads=1,
                  seed=0)
    values.update(changes)
    path = tmp_path / "base.yaml"
    TrainConfig(**values).save(path)
    return path


def _rows(folder: Path) -> list[dict]:
    with open(folder / "trials.csv", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_three_trials_complete_and_the_best_config_loads(isolated_home, learnable_split_dir,
                                                         tiny_clip_dir, capsys):
    base = _base(isolated_home, learnable_split_dir, tiny_clip_dir)
    code = main(["sweep", "--config", str(base), "--trials", "3", "--trial-epochs", "2",
                 "--name", "dogs"])
    out = capsys.readouterr().out
    assert code == 0, out
    folder = isolated_home / "runs" / "sweep-dogs"
    assert "on a CPU" in out  # says which mode it chose and why
    rows = _rows(folder)
    assert [r["trial"] for r in rows] == ["0", "1", "2"]
    assert {r["state"] for r in rows} <= {"complete", "pruned"}
    for r in rows:  # each trial is an ordinary run folder that says how the sweep saw it
        run = json.loads((folder / f"trial-{int(r['trial']):03d}" / "run.json").read_text())
        assert run["sweep"]["state"] == r["state"]
        assert run["config"]["method"] == "lora" and run["config"]["augment"] is False
        assert run["config"]["epochs"] == 2
    meta = json.loads((folder / "sweep.json").read_text())
    best = meta["best"]
    complete = [r for r in rows if r["state"] == "complete"]
    assert float(best["val_accuracy"]) == pytest.approx(max(float(r["val_accuracy"])
                                                            for r in complete), abs=1e-4)
    loaded = TrainConfig.load(folder / "best.yaml")
    assert loaded.validate() == {}
    for key, value in best["changes"].items():
        assert getattr(loaded, key) == pytest.approx(value) if isinstance(value, float) \
            else getattr(loaded, key) == value
    assert loaded.epochs == 5 and loaded.output_dir == str(isolated_home / "runs")  # the base's
    assert loaded.lora_alpha / loaded.lora_r in (1, 2, 4)
    assert f"--config {folder / 'best.yaml'}" in out


def test_the_same_command_continues_the_study(isolated_home, learnable_split_dir,
                                              tiny_clip_dir, capsys):
    base = _base(isolated_home, learnable_split_dir, tiny_clip_dir)
    command = ["sweep", "--config", str(base), "--method", "linear-probe", "--trial-epochs", "2"]
    assert main(command + ["--trials", "2"]) == 0
    folder = isolated_home / "runs" / f"sweep-{learnable_split_dir.name}"
    first = _rows(folder)
    kept = {p: p.stat().st_mtime_ns for p in folder.glob("trial-00[01]/run.json")}
    capsys.readouterr()
    assert main(command + ["--trials", "3"]) == 0
    out = capsys.readouterr().out
    assert "Continuing the sweep" in out
    rows = _rows(folder)
    assert [r["trial"] for r in rows] == ["0", "1", "2"]
    assert rows[:2] == first  # the finished trials are kept as they were
    assert {p: p.stat().st_mtime_ns for p in kept} == kept
    assert sorted(p.name for p in folder.glob("trial-*")) == ["trial-000", "trial-001",
                                                              "trial-002"]
    assert main(command + ["--trials", "3"]) == 0  # nothing missing: no trial runs
    assert len(_rows(folder)) == 3


def test_an_interrupted_trial_runs_again(isolated_home, learnable_split_dir, tiny_clip_dir):
    base = TrainConfig.load(_base(isolated_home, learnable_split_dir, tiny_clip_dir))
    spec = SweepSpec(base=base, trials=2, method="linear-probe", trial_epochs=2)
    from engine.training.control import TrainControl

    control = TrainControl()
    events = []
    for event in run_sweep(spec, control):
        events.append(event)
        if event.kind == "trial" and event.state == "running" and event.epoch == 1:
            control.stop()  # the user's Stop in the middle of trial 0
    assert events[-1].reason == "stopped"
    run = json.loads((spec.folder / "trial-000" / "run.json").read_text())
    assert run["sweep"]["state"] == "interrupted" and run["status"] == "stopped"
    again = list(run_sweep(SweepSpec(base=base, trials=2, method="linear-probe",
                                     trial_epochs=2)))
    assert again[-1].reason == "trials"
    rows = {r["trial"]: r for r in _rows(spec.folder)}
    assert rows["0"]["state"] == "interrupted"
    assert [rows[n]["state"] for n in ("1", "2")] == ["complete", "complete"]
    assert rows["1"]["head_lr"] == rows["0"]["head_lr"]  # the same settings, trained again


def test_a_clearly_bad_trial_is_pruned(isolated_home, learnable_split_dir, tiny_clip_dir):
    base = TrainConfig.load(_base(isolated_home, learnable_split_dir, tiny_clip_dir))
    good, bad = {"head_lr": 0.1, "weight_decay": 1e-3}, {"head_lr": 1e-9, "weight_decay": 1e-3}
    spec = SweepSpec(base=base, trials=3, method="linear-probe", trial_epochs=4,
                     forced=[good, good, bad])  # the last one cannot learn anything
    events = list(run_sweep(spec))
    finished = events[-1]
    assert finished.reason == "trials", finished.error
    ended = {e.number: e for e in events if e.kind == "trial" and e.state != "running"}
    assert [ended[n].state for n in (0, 1)] == ["complete", "complete"]
    assert ended[2].state == "pruned" and ended[2].epoch < 4
    assert "median" in ended[2].note
    run = json.loads((spec.folder / "trial-002" / "run.json").read_text())
    assert run["sweep"]["state"] == "pruned" and run["status"] == "stopped"
    assert finished.best_number in (0, 1)


def test_the_budget_stops_starting_trials(isolated_home, learnable_split_dir, tiny_clip_dir,
                                          capsys):
    base = _base(isolated_home, learnable_split_dir, tiny_clip_dir)
    code = main(["sweep", "--config", str(base), "--method", "linear-probe", "--trials", "5",
                 "--budget-minutes", "0.01", "--trial-epochs", "2"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "time budget reached" in out
    folder = isolated_home / "runs" / f"sweep-{learnable_split_dir.name}"
    assert len(_rows(folder)) == 1


@pytest.mark.parametrize("args, message", [
    (["--config", "{tmp}/missing.yaml"], "does not exist"),
    (["--trials", "0"], "--trials: must be at least 1"),
    (["--budget-minutes", "-5"], "--budget-minutes: must be at least 0"),
    (["--method", "magic"], "invalid choice: 'magic'"),
    (["--config", "{tmp}/empty.yaml"], "names no dataset"),
    (["--config", "{tmp}/wrong.yaml"], "lora_r"),
])
def test_bad_input_is_refused_and_nothing_is_written(isolated_home, learnable_split_dir,
                                                     tiny_clip_dir, capsys, args, message):
    base = _base(isolated_home, learnable_split_dir, tiny_clip_dir)
    (isolated_home / "empty.yaml").write_text("epochs: 2\n", encoding="utf-8")
    (isolated_home / "wrong.yaml").write_text(
        f"data_dir: {learnable_split_dir}\nlora_r: lots\n", encoding="utf-8")
    argv = ["sweep", "--config", str(base)] + [a.format(tmp=isolated_home) for a in args]
    with pytest.raises(SystemExit) as exit_info:  # argparse's own checks exit directly
        raise SystemExit(main(argv))
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (isolated_home / "runs").exists()


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_torchrun_runs_one_trial_per_process(tmp_path, learnable_split_dir, tiny_clip_dir):
    base = _base(tmp_path, learnable_split_dir, tiny_clip_dir)
    env = dict(os.environ, PYTHONPATH=str(ROOT), LORA_STUDIO_HOME=str(tmp_path / "home"),
               LORA_STUDIO_CACHE_DIR=str(tmp_path / "cache"), HF_HUB_OFFLINE="1",
               OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "engine", "sweep", "--config", str(base), "--method", "linear-probe",
           "--trials", "2", "--trial-epochs", "2", "--name", "ddp"]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=540)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    folder = tmp_path / "runs" / "sweep-ddp"
    rows = _rows(folder)
    assert sorted(r["state"] for r in rows) == ["complete", "complete"]
    runs = [json.loads((folder / f"trial-{n:03d}" / "run.json").read_text()) for n in (0, 1)]
    assert sorted(r["sweep"]["process"] for r in runs) == [0, 1]  # one trial each
    assert all(r["hardware"]["processes"] == 1 for r in runs)  # each trained alone, not DDP
    assert "[process 0]" in proc.stdout and "[process 1]" in proc.stdout
