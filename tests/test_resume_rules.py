"""Resume says what it does with each setting (engine, command line), and a new run can
start from a saved run's model with other settings (--init-from)."""
from __future__ import annotations

from pathlib import Path

import pytest

from engine.config import TrainConfig
from engine.events import Log, RunStarted, Step
from engine.runs import read_run
from engine.training.control import TrainControl
from engine.training.loop import train
from engine.training.plan import lr_factor
from engine.training.resume import resume_request
from run_factory import run_cli
from snapshots import folder_hash

pytestmark = pytest.mark.usefixtures("isolated_home")



def _config(data_dir, model_dir, out_dir, **changes) -> TrainConfig:
    base = dict(data_dir=str(data_dir), model=str(model_dir), output_dir=str(out_dir),
                epochs=2, batch_size=16, lr=1e-2, head_lr=1e-2, precision="fp32",
                num_threads=1, early_stop_patience=0, seed=0, warmup_ratio=0.0)
    return TrainConfig(**{**base, **changes})


@pytest.fixture(scope="module")
def completed(tmp_path_factory, learnable_dir, tiny_clip_dir):
    """A finished 2-epoch run (never modified: tests copy it)."""
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LORA_STUDIO_HOME", str(home))
        mp.setenv("LORA_STUDIO_CACHE_DIR", str(home / "cache"))
        out = tmp_path_factory.mktemp("runs")
        events = list(train(_config(learnable_dir, tiny_clip_dir, out, run_name="done")))
    assert events[-1].status == "completed", events[-1].error
    return Path(events[-1].run_dir)


@pytest.fixture
def run_copy(completed, tmp_path):
    import shutil

    target = tmp_path / "runs" / "done"
    shutil.copytree(completed, target)
    return target


def _logs(events) -> str:
    return "\n".join(e.message for e in events if isinstance(e, Log))


def test_more_epochs_continue_on_a_stretched_schedule(run_copy):
    first_total = read_run(run_copy)["config"]["epochs"]
    events = list(train(resume_request(run_copy, epochs=4, num_threads=1, precision="fp32")))
    assert events[-1].status == "completed", events[-1].error
    started = next(e for e in events if isinstance(e, RunStarted))
    per_epoch = started.steps_per_epoch
    assert started.start_step == first_total * per_epoch and started.total_steps == 4 * per_epoch
    steps = [e for e in events if isinstance(e, Step)]
    assert [s.step for s in steps] == list(range(2 * per_epoch + 1, 4 * per_epoch + 1))
    # from the first resumed step on, the learning rate follows the new, longer cosine
    for step in steps:
        assert step.lr == pytest.approx(1e-2 * lr_factor(step.step, 4 * per_epoch, 0), rel=1e-5)
    text = _logs(events)
    assert "Resuming with --epochs 4 (the run had 2)." in text
    assert f"now ends at step {4 * per_epoch} instead of {2 * per_epoch}" in text
    assert read_run(run_copy)["config"]["epochs"] == 4  # the next resume starts from here


def test_early_stopping_and_hardware_changes_are_applied(run_copy):
    events = list(train(resume_request(run_copy, epochs=3, early_stop_patience=1,
                                       num_threads=1, precision="fp32", device="cpu")))
    assert events[-1].status == "completed", events[-1].error
    text = _logs(events)
    assert "--early-stop-patience 1 (the run had 0)" in text
    assert "--num-threads" not in text  # this machine's settings are not the run's business
    assert read_run(run_copy)["config"]["early_stop_patience"] == 1


@pytest.mark.parametrize("changes, named", [
    ({"lr": 0.1}, ["--lr"]),
    ({"batch_size": 8, "lora_r": 4}, ["--batch-size", "--lora-r"]),
    ({"augment": False, "seed": 7}, ["--augment", "--seed"]),
])
def test_settings_that_shaped_the_training_are_refused_by_name(run_copy, changes, named):
    before = folder_hash(run_copy)
    events = list(train(resume_request(run_copy, **changes)))
    finished = events[-1]
    assert finished.status == "failed" and finished.invalid_input
    for option in named:
        assert option in finished.error
    assert "--init-from" in finished.error  # how to go on with other settings instead
    assert folder_hash(run_copy) == before


def test_a_new_output_folder_continues_in_a_copy(run_copy, tmp_path):
    before = folder_hash(run_copy)
    events = list(train(resume_request(run_copy, epochs=3, output_dir=str(tmp_path / "more"),
                                       run_name="longer", num_threads=1, precision="fp32")))
    assert events[-1].status == "completed", events[-1].error
    assert Path(events[-1].run_dir) == tmp_path / "more" / "longer"
    assert read_run(tmp_path / "more" / "longer")["config"]["epochs"] == 3
    assert folder_hash(run_copy) == before  # the original stays as it was
    assert "stays as it was" in _logs(events)


def test_command_line_applies_safe_options_and_refuses_the_rest(run_copy, capsys):
    code = run_cli(["train", "--resume-from", str(run_copy), "--epochs", "3",
                    "--num-threads", "1", "--precision", "fp32"])
    out = capsys.readouterr().out
    assert code == 0
    assert "Resuming with --epochs 3 (the run had 2)." in out
    before = folder_hash(run_copy)
    assert run_cli(["train", "--resume-from", str(run_copy), "--lr", "0.3",
                    "--head-lr", "0.2"]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and "--lr (0.01 -> 0.3)" in err[0] and "--head-lr" in err[0]
    assert folder_hash(run_copy) == before


# --- a new run from a saved run's model ------------------------------------------------------
def test_init_from_starts_where_the_saved_run_ended(completed, learnable_dir, tiny_clip_dir,
                                                    tmp_path):
    config = _config(learnable_dir, tiny_clip_dir, tmp_path / "runs", init_from=str(completed),
                     lr=1e-3, batch_size=8, epochs=1)
    events = list(train(config))
    assert events[-1].status == "completed", events[-1].error
    start = next(e for e in events if e.kind == "evaluation" and e.epoch == 0)
    # same split, same model: step 0 scores what the saved run's best scored
    assert start.accuracy == pytest.approx(read_run(completed)["best"]["val_accuracy"])
    assert "Starting from the saved model of" in _logs(events)
    assert events[-1].best_val_accuracy >= start.accuracy  # never worse than its start


@pytest.mark.parametrize("changes, named", [({"lora_r": 4}, "--lora-r"),
                                            ({"target_modules": ["q_proj"]}, "--target-modules")])
def test_init_from_refuses_a_different_model_layout(completed, learnable_dir, tiny_clip_dir,
                                                    tmp_path, changes, named):
    config = _config(learnable_dir, tiny_clip_dir, tmp_path / "runs", init_from=str(completed),
                     **changes)
    finished = list(train(config))[-1]
    assert finished.status == "failed" and finished.invalid_input and named in finished.error
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_init_from_refuses_other_classes(completed, learnable_split_dir, tiny_clip_dir,
                                         tmp_path):
    from engine.data.index import scan_dataset

    if scan_dataset(str(learnable_split_dir)).class_names == read_run(completed)["class_names"]:
        pytest.skip("the two generated datasets have the same classes")
    config = _config(learnable_split_dir, tiny_clip_dir, tmp_path / "runs",
                     init_from=str(completed))
    finished = list(train(config))[-1]
    assert finished.status == "failed" and "same classes" in finished.error


def test_a_resume_can_name_the_new_place_of_the_runs_images(tmp_path, learnable_dir,
                                                           tiny_clip_dir):
    """The dataset moved: --data-dir NEW is accepted when every listed image is there, the
    run continues on them (and its next resume still finds them); another folder is refused."""
    import shutil

    data = tmp_path / "data"
    shutil.copytree(learnable_dir, data)
    first = list(train(_config(data, tiny_clip_dir, tmp_path / "runs", run_name="moving")))
    assert first[-1].status == "completed", first[-1].error
    run_dir = Path(first[-1].run_dir)
    moved = tmp_path / "moved-data"
    data.rename(moved)
    gone = list(train(resume_request(run_dir, epochs=3, num_threads=1, precision="fp32")))
    assert gone[-1].status == "failed" and "--data-dir NEW_PLACE" in gone[-1].error
    events = list(train(resume_request(run_dir, epochs=3, data_dir=str(moved), num_threads=1,
                                       precision="fp32")))
    assert events[-1].status == "completed", events[-1].error
    assert "from their new place" in _logs(events)
    assert read_run(run_dir)["config"]["data_dir"] == str(moved)
    again = list(train(resume_request(run_dir, epochs=4, num_threads=1, precision="fp32")))
    assert again[-1].status == "completed", again[-1].error  # found via the recorded place
    elsewhere = tmp_path / "other"
    elsewhere.mkdir()
    refused = list(train(resume_request(run_dir, epochs=5, data_dir=str(elsewhere))))[-1]
    assert refused.status == "failed" and refused.invalid_input and "--data-dir" in refused.error
