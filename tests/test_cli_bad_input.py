"""Every typo once: bad invocations of every sub-command end in one plain line and an exit
code a script can use, and leave every input (and the working folder) exactly as it was.

Exit 2 is invalid input: one stderr line that names the option or input. Exit 1 is any
other failure: one line plus the path of a log file that holds the traceback. A traceback
never reaches the terminal.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from run_factory import run_cli, stopped_run
from snapshots import folder_hash

pytestmark = pytest.mark.usefixtures("isolated_home")


def invoke(argv: list[str]) -> int:
    return run_cli(argv)  # the exit code, also of argparse's SystemExit(2)



def unwritable(workspace: Path) -> Path:
    """A folder path nobody here can create: a read-only folder, or (root ignores file modes)
    a new folder at the top of sysfs, which the kernel refuses to anyone."""
    if os.geteuid() != 0:
        locked = workspace / "locked"
        locked.mkdir(exist_ok=True)
        locked.chmod(0o555)
        return locked / "out"
    return Path("/sys/lora-studio-test-out")


def read_only_run(run: Path, workspace: Path) -> Path:
    """A copy of `run` whose report folders cannot be written: a read-only run folder, or
    (root writes anywhere) one whose report/ and data_check/ are files."""
    import shutil

    copy = workspace / "read-only-run"
    shutil.copytree(run, copy)
    shutil.rmtree(copy / "report", ignore_errors=True)
    if os.geteuid() != 0:
        copy.chmod(0o555)
    else:
        (copy / "report").write_text("a file where the report folder goes\n")
        (copy / "data_check").write_text("a file where the data check folder goes\n")
    return copy


@pytest.fixture(scope="module")
def resumable(tmp_path_factory, tiny_clip_dir, learnable_dir):
    """A real run stopped after its first step (checkpoints/last present)."""
    return stopped_run(tmp_path_factory, tiny_clip_dir, learnable_dir)


@pytest.fixture
def workspace(tmp_path, monkeypatch, run, learnable_split_dir, tiny_clip_dir, resumable):
    """The placeholders of the table, in a private working folder (also the cwd)."""
    from PIL import Image

    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    (work / "notes.txt").write_text("not an image, not a tar\n")
    Image.new("RGB", (32, 32), (200, 30, 30)).save(work / "photo.png")
    (work / "full").mkdir()
    (work / "full" / "keep.txt").write_text("something already here\n")
    (work / "empty").mkdir()
    (work / "broken.json").write_text("{ not json")
    (work / "wrong-type.json").write_text(json.dumps({"lr": "fast"}))
    (work / "wrong-word.yaml").write_text("lora_r: 8\nepochs: abc\n")
    (work / "out-of-range.json").write_text(json.dumps({"epochs": 0}))
    (work / "settings.json").write_text(json.dumps({"data_dir": str(learnable_split_dir),
                                                    "lora_r": 4}))
    values = dict(sysrun=read_only_run(run, work), run=run, data=learnable_split_dir, model=tiny_clip_dir, work=work,
                  resumable=resumable, unwritable=unwritable(tmp_path))
    return {k: str(v) for k, v in values.items()}


# (id, command line with {placeholders}, exit code, words the one line must hold)
BAD = [
    # no or unknown command
    ("no-command", "", 2, "COMMAND"),
    ("unknown-command", "frobnicate", 2, "frobnicate"),
    # scan
    ("scan-missing", "scan {work}/missing", 2, "does not exist"),
    ("scan-text-file", "scan {work}/notes.txt", 2, ".csv"),
    ("scan-val-range", "scan {data} --val-fraction 0.7", 2, "--val-fraction"),
    ("scan-test-negative", "scan {data} --test-fraction -0.1", 2, "--test-fraction"),
    ("scan-seed-word", "scan {data} --seed many", 2, "--seed"),
    ("scan-fractions-sum", "scan {data} --val-fraction 0.5 --test-fraction 0.45", 2,
     "--test-fraction"),
    # prepare-stanford-dogs
    ("dogs-no-archive", "prepare-stanford-dogs --output {work}/dogs", 2, "--archive"),
    ("dogs-missing-archive", "prepare-stanford-dogs --archive {work}/images.tar --output "
     "{work}/dogs", 2, "--archive"),
    ("dogs-output-not-empty", "prepare-stanford-dogs --archive {work}/notes.txt --output "
     "{work}/full", 2, "not empty"),
    ("dogs-zero-classes", "prepare-stanford-dogs --archive {work}/notes.txt --output "
     "{work}/dogs --classes 0", 2, "--classes"),
    ("dogs-too-many-classes", "prepare-stanford-dogs --archive {work}/notes.txt --output "
     "{work}/dogs --classes 121", 2, "--classes"),
    ("dogs-not-a-tar", "prepare-stanford-dogs --archive {work}/notes.txt --output {work}/dogs",
     2, "notes.txt"),
    ("dogs-unwritable-output", "prepare-stanford-dogs --archive {work}/notes.txt --output "
     "{unwritable}", 2, "--output"),
    # train
    ("train-nothing", "train", 2, "--data-dir"),
    ("train-missing-data", "train --data-dir {work}/missing", 2, "--data-dir"),
    ("train-negative-lr", "train --data-dir {data} --lr -1", 2, "--lr"),
    ("train-zero-epochs", "train --data-dir {data} --epochs 0", 2, "--epochs"),
    ("train-negative-batch", "train --data-dir {data} --batch-size -1", 2, "--batch-size"),
    ("train-batch-word", "train --data-dir {data} --batch-size many", 2, "--batch-size"),
    ("train-batch-word", "train --data-dir {data} --batch-size big", 2, "--batch-size"),
    ("train-bad-device", "train --data-dir {data} --device gpu", 2, "--device"),
    ("train-bad-method", "train --data-dir {data} --method full", 2, "--method"),
    ("train-bad-target", "train --data-dir {data} --target-modules q_proj attn", 2,
     "--target-modules"),
    ("train-fractions-sum", "train --data-dir {data} --val-fraction 0.45 --test-fraction 0.45",
     2, "--val-fraction"),
    ("train-template-without-slot", "train --data-dir {data} --prompt-templates photo", 2,
     "--prompt-templates"),
    ("train-unwritable-output", "train --data-dir {data} --output-dir {unwritable}", 2,
     "--output-dir"),
    ("train-output-is-file", "train --data-dir {data} --output-dir {work}/notes.txt", 2,
     "--output-dir"),
    ("train-unwritable-cache", "train --data-dir {data} --cache-dir {unwritable}", 2,
     "--cache-dir"),
    ("train-missing-config", "train --config {work}/missing.json", 2, "--config"),
    ("train-broken-config", "train --config {work}/broken.json", 2, "broken.json"),
    ("train-config-wrong-type", "train --config {work}/wrong-type.json", 2, "wrong-type.json"),
    ("train-config-wrong-word", "train --data-dir {data} --config {work}/wrong-word.yaml", 2,
     "wrong-word.yaml has a wrong value: epochs: 'abc' is not a whole number"),
    ("train-config-out-of-range", "train --data-dir {data} --config {work}/out-of-range.json", 2,
     "--epochs"),
    ("train-missing-model", "train --data-dir {data} --model {work}/no-model", 2, "--model"),
    ("train-model-is-file", "train --data-dir {data} --model {work}/notes.txt", 2, "--model"),
    ("train-model-nonsense", "train --data-dir {data} --model ../what??", 2, "--model"),
    ("train-unknown-preset", "train --data-dir {data} --preset Fastest", 2, "--preset"),
    ("train-unknown-option", "train --data-dir {data} --learning-rate 0.1", 2, "--learning-rate"),
    ("train-option-without-value", "train --data-dir {data} --epochs", 2, "--epochs"),
    ("train-empty-dataset", "train --data-dir {work}/empty --model {model} --output-dir "
     "{work}/runs", 2, "no usable images"),
    ("train-resume-not-a-run", "train --resume-from {data}", 2, "--resume-from"),
    ("train-resume-new-lr", "train --resume-from {resumable} --lr 0.1", 2, "--lr"),
    ("train-resume-new-batch-and-rank", "train --resume-from {resumable} --batch-size 8 "
     "--lora-r 4", 2, "--lora-r"),
    ("train-resume-config-file", "train --resume-from {resumable} --config "
     "{work}/settings.json", 2, "--data-dir"),
    ("train-new-labels-without-run", "train --with-new-labels", 2, "--init-from"),
    ("train-new-labels-none-yet", "train --init-from {run} --with-new-labels", 2,
     "no new labels yet"),
    ("train-new-labels-and-data", "train --init-from {run} --with-new-labels --data-dir "
     "{data}", 2, "--data-dir"),
    # runs
    ("runs-missing", "runs {work}/missing", 2, "does not exist"),
    ("runs-file", "runs {work}/notes.txt", 2, "not a folder"),
    # zero-shot
    ("zero-shot-no-data", "zero-shot --model {model}", 2, "--data"),
    ("zero-shot-missing-model", "zero-shot --data {data} --model {work}/no-model", 2, "--model"),
    ("zero-shot-bad-split", "zero-shot --data {data} --model {model} --split holdout", 2,
     "--split"),
    ("zero-shot-zero-batch", "zero-shot --data {data} --model {model} --batch-size 0", 2,
     "--batch-size"),
    ("zero-shot-negative-threads", "zero-shot --data {data} --model {model} --threads -1", 2,
     "--threads"),
    # check-labels
    ("check-missing-data", "check-labels {work}/missing", 2, "does not exist"),
    ("check-one-fold", "check-labels {data} --model {model} --folds 1", 2, "--folds"),
    ("check-threshold", "check-labels {data} --model {model} --threshold 2", 2, "--threshold"),
    ("check-run-not-a-run", "check-labels {data} --run {data}", 2, "--run"),
    ("check-unwritable-output", "check-labels {data} --model {model} --output {unwritable}", 2,
     "--output"),
    # map
    ("map-missing-data", "map {work}/missing --output {work}/m.csv", 2, "does not exist"),
    ("map-no-output", "map {data} --model {model}", 2, "--output"),
    ("map-output-not-csv", "map {data} --output {work}/map.txt", 2, "--output"),
    ("map-unwritable-output", "map {data} --output {unwritable}/map.csv", 2, "--output"),
    ("map-output-in-folder", "map {data} --model {model} --output {data}/map.csv", 2,
     "never changed"),
    ("map-bad-method", "map {data} --output {work}/m.csv --method umap", 2, "--method"),
    ("map-seed-word", "map {data} --output {work}/m.csv --seed any", 2, "--seed"),
    ("map-run-not-a-run", "map {data} --run {data} --output {work}/m.csv", 2, "--run"),
    ("map-model-and-run", "map {data} --model {model} --run {run} --output {work}/m.csv", 2,
     "--run"),
    ("map-no-images", "map {work}/empty --model {model} --output {work}/m.csv", 2, "no"),
    # sort-images
    ("sort-missing-folder", "sort-images {work}/missing --classes a,b --output {work}/p.csv", 2,
     "does not exist"),
    ("sort-no-classes", "sort-images {data} --model {model} --output {work}/p.csv", 2,
     "--classes"),
    ("sort-one-class", "sort-images {data} --classes rose --model {model} --output "
     "{work}/p.csv", 2, "at least 2 classes"),
    ("sort-class-twice", "sort-images {data} --classes rose,Rose --model {model} --output "
     "{work}/p.csv", 2, "twice"),
    ("sort-classes-and-file", "sort-images {data} --classes a,b --classes-file "
     "{work}/notes.txt --output {work}/p.csv", 2, "--classes-file"),
    ("sort-model-and-run", "sort-images {data} --classes a,b --model {model} --run {run} "
     "--output {work}/p.csv", 2, "--run"),
    ("sort-no-output", "sort-images {data} --classes a,b --model {model}", 2, "--output"),
    ("sort-output-not-csv", "sort-images {data} --classes a,b --output {work}/p.txt", 2,
     "--output"),
    ("sort-output-in-folder", "sort-images {data} --classes a,b --model {model} --output "
     "{data}/p.csv", 2, "never changed"),
    ("sort-accept-above-range", "sort-images {data} --classes a,b --accept-above 2 --output "
     "{work}/p.csv", 2, "--accept-above"),
    ("sort-examples-other-classes", "sort-images {data} --classes a,b --model {model} "
     "--examples {data} --output {work}/p.csv", 2, "not one of the classes"),
    # evaluate
    ("evaluate-missing-run", "evaluate {work}/missing", 2, "does not exist"),
    ("evaluate-not-a-run", "evaluate {data}", 2, "run.json"),
    ("evaluate-bad-split", "evaluate {run} --split holdout", 2, "--split"),
    ("evaluate-zero-batch", "evaluate {run} --batch-size 0", 2, "--batch-size"),
    ("evaluate-missing-folder", "evaluate {run} --folder {work}/missing", 2, "--folder"),
    ("evaluate-bad-device", "evaluate {run} --device tpu", 2, "--device"),
    ("evaluate-unknown-backend", "evaluate {run} --backend fast", 2, "--backend"),
    # predict
    ("predict-negative-top-k", "predict {run} {work}/photo.png --top-k -1", 2, "--top-k"),
    ("predict-zero-top-k", "predict {run} {work}/photo.png --top-k 0", 2, "--top-k"),
    ("predict-not-sure-above-one", "predict {run} {work}/photo.png --not-sure-below 7", 2,
     "--not-sure-below"),
    ("predict-zero-batch", "predict {run} {work}/photo.png --batch-size 0", 2, "--batch-size"),
    ("predict-unknown-backend", "predict {run} {work}/photo.png --backend tensorrt", 2,
     "--backend"),
    ("predict-backend-missing-value", "predict {run} {work}/photo.png --backend", 2, "--backend"),
    ("predict-missing-image", "predict {run} {work}/missing.jpg", 2, "missing.jpg"),
    ("predict-no-images", "predict {run}", 2, "paths"),
    ("predict-output-suffix", "predict {run} {work}/photo.png --output {work}/out.txt", 2,
     "--output"),
    ("predict-unwritable-output", "predict {run} {work}/photo.png --output "
     "{unwritable}/p.csv", 2, "--output"),
    ("predict-unwritable-explain", "predict {run} {work}/photo.png --explain {unwritable}", 2,
     "--explain"),
    ("predict-explain-is-file", "predict {run} {work}/photo.png --explain {work}/notes.txt", 2,
     "--explain"),
    # export
    ("export-no-output", "export {run}", 2, "--output"),
    ("export-output-not-empty", "export {run} --output {work}/full", 2, "not empty"),
    ("export-unwritable-output", "export {run} --output {unwritable}", 2, "--output"),
    ("export-not-a-run", "export {data} --output {work}/exported", 2, "run.json"),
    ("evaluate-read-only-run", "evaluate {sysrun}", 2, "copy the run folder"),
    ("check-run-read-only-default-output", "check-labels {data} --run {sysrun}", 2, "--output"),
    # bench
    ("bench-unknown-section", "bench --only speed", 2, "--only"),
    ("bench-output-suffix", "bench --output {work}/bench.txt", 2, "--output"),
    ("bench-unwritable-output", "bench --output {unwritable}/bench.json", 2, "--output"),
    ("bench-quick-and-smoke", "bench --quick --smoke", 2, "--smoke"),
    # serve (each refused before the model loads or a port is bound)
    ("serve-port-too-high", "serve {run} --port 70000", 2, "--port"),
    ("serve-port-not-a-number", "serve {run} --port http", 2, "--port"),
    ("serve-other-host-without-key", "serve {run} --host 0.0.0.0", 2, "API key"),
    ("serve-missing-key-file", "serve {run} --host 0.0.0.0 --api-key-file {work}/missing.key",
     2, "--api-key-file"),
    ("serve-unusable-key", "serve {run} --api-key-file {work}/notes.txt", 2, "API key"),
    ("serve-unknown-backend", "serve {run} --backend tpu", 2, "--backend"),
    ("serve-zero-max-files", "serve {run} --max-files 0", 2, "--max-files"),
    ("serve-negative-timeout", "serve {run} --timeout -1", 2, "--timeout"),
    ("serve-not-a-run", "serve {data}", 2, "run.json"),
]


@pytest.mark.parametrize("case", BAD, ids=[c[0] for c in BAD])
def test_bad_invocation(case, workspace, capfd):
    _, template, code, words = case
    argv = [part.format(**workspace) for part in template.split()]
    roots = [Path(workspace[k]) for k in ("work", "data", "run", "model", "resumable")]
    before = folder_hash(*roots)
    assert invoke(argv) == code
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, lines  # one plain line
    print(lines[0])  # shown with pytest -rP: the table of messages, for review
    assert words in lines[0], lines[0]
    assert folder_hash(*roots) == before  # nothing created, changed or removed


def test_there_are_at_least_forty_and_every_command_is_tried():
    commands = {c[1].split()[0] for c in BAD if c[1]}
    assert len(BAD) >= 40
    assert commands >= {"scan", "train", "runs", "zero-shot", "check-labels", "evaluate",
                        "predict", "export", "prepare-stanford-dogs", "bench", "map",
                        "serve"}


# --- exit 1: anything else, in one line plus the log file of details ----------------------
def _details(err: str) -> Path:
    found = re.search(r"\(details: (.+?)\)\s*$", err.strip())
    assert found, err
    return Path(found.group(1))


def test_an_unexpected_failure_is_one_line_and_a_log_file(workspace, capfd, monkeypatch):
    from engine.use import predict as predict_module

    def broken(*args, **kwargs):
        raise RuntimeError("the accelerator went away")

    monkeypatch.setattr(predict_module.Predictor, "predict", broken)
    assert invoke(["predict", workspace["run"], f"{workspace['work']}/photo.png",
                   "--backend", "torch"]) == 1  # the broken one is torch's
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "the accelerator went away" in lines[0], lines
    log = _details(lines[0])
    assert log.is_file() and "Traceback" in log.read_text() and "broken" in log.read_text()


def test_a_failed_training_run_keeps_its_traceback_off_the_terminal(workspace, capfd,
                                                                     monkeypatch):
    from engine.training import loop

    def broken(*args, **kwargs):
        raise RuntimeError("cuBLAS had a bad day")

    monkeypatch.setattr(loop, "Learner", broken)
    code = invoke(["train", "--data-dir", workspace["data"], "--model", workspace["model"],
                   "--output-dir", f"{workspace['work']}/runs", "--epochs", "1",
                   "--precision", "fp32"])
    assert code == 1
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "cuBLAS had a bad day" in lines[0], lines
    assert "Traceback" in _details(lines[0]).read_text()


def test_an_output_folder_that_fails_mid_run_is_named_as_such(workspace, monkeypatch):
    # checked before work, but a folder can still go away (a network share): the message
    # says which folder cannot be written, not that "a file disappeared"
    from engine.errors import UserError
    from engine.runs import create_run_dir

    with pytest.raises(UserError, match="cannot be created or written"):
        create_run_dir(workspace["unwritable"], workspace["data"])


def test_log_files_are_kept_to_the_newest_fifty(tmp_path):
    import time

    from engine.cli.details import KEEP_LOGS, write_details

    logs = tmp_path / "home" / "logs"  # isolated_home's data folder
    logs.mkdir(parents=True)
    for n in range(KEEP_LOGS + 10):
        old = logs / f"engine-old-{n:03d}.log"
        old.write_text("old\n")
        os.utime(old, (time.time() - 10_000 + n, time.time() - 10_000 + n))
    (logs / "notes.txt").write_text("not a log\n")
    path = write_details("Traceback ...", ["predict"])
    left = sorted(p.name for p in logs.glob("*.log"))
    assert path.name in left and len(left) == KEEP_LOGS
    assert "engine-old-000.log" not in left and f"engine-old-{KEEP_LOGS + 9:03d}.log" in left
    assert (logs / "notes.txt").is_file()  # only log files are pruned


def test_building_the_command_line_imports_no_torch():
    """--help (and every refusal while parsing) stays instant: no command's options need
    torch or transformers to be described."""
    import subprocess
    import sys

    code = ("import sys; from engine.cli.main import build_parser; build_parser(); "
            "print(sorted(m for m in ('torch', 'transformers', 'peft') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[1]).stdout
    assert out.strip() == "[]"
