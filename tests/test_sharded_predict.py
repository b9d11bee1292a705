"""Predictions and the data check's embedding pass shared by two torchrun processes (gloo on
the CPU, as training's DDP test runs): what the first process writes is byte for byte what
one process writes, in input order, unreadable files included once."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from review_data import colour_folder, flip_labels

ROOT = Path(__file__).resolve().parent.parent
NOT_AN_IMAGE = b"\xff\xd8\xff\xe0 the start of a JPEG and nothing else"


def _engine(tmp_path: Path, processes: int, *argv: str,
            launcher: str = "torchrun") -> subprocess.CompletedProcess:
    """`python -m engine ARGV`, alone or under torchrun (or accelerate launch) with
    `processes` processes."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), LORA_STUDIO_HOME=str(tmp_path / "home"),
               LORA_STUDIO_CACHE_DIR=str(tmp_path / "cache"), HF_HUB_OFFLINE="1",
               LORA_STUDIO_LANG="en", OMP_NUM_THREADS="1")
    for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(name, None)
    launch = [sys.executable]
    if processes > 1 and launcher == "torchrun":
        launch += ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node",
                   str(processes)]
    elif processes > 1:  # --multi_gpu also starts CPU processes where there is no GPU
        launch += ["-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes",
                   str(processes), "--num_machines", "1", "--mixed_precision", "no",
                   "--dynamo_backend", "no"]
    return subprocess.run([*launch, "-m", "engine", *argv], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_batches_go_out_whole_and_each_position_once():
    from engine.data.shards import Shards, batches_of

    assert batches_of(7, 2, None) == list(range(7))
    shares = [batches_of(11, 3, Shards(rank, 2)) for rank in (0, 1)]
    assert shares == [[0, 1, 2, 6, 7, 8], [3, 4, 5, 9, 10]]
    for count, size, world in ((0, 4, 2), (5, 8, 3), (100, 7, 4), (33, 1, 5)):
        shares = [batches_of(count, size, Shards(rank, world)) for rank in range(world)]
        assert sorted(i for share in shares for i in share) == list(range(count))
        for share in shares:  # runs of whole batches: a batch starts at a multiple of size
            assert all(i % size == 0 or i - 1 in share for i in share)


@pytest.fixture
def images(tmp_path, learnable_split_dir) -> list[str]:
    """Two folders of test images (one holding a file that cannot be decoded), a folder
    without images, and a file named on its own: the order the CSV must keep."""
    shutil.copytree(learnable_split_dir / "test", tmp_path / "in" / "a")
    shutil.copytree(learnable_split_dir / "val" / "red_circle", tmp_path / "in" / "b")
    (tmp_path / "in" / "a" / "m_broken.jpg").write_bytes(NOT_AN_IMAGE)
    (tmp_path / "in" / "empty").mkdir()
    single = learnable_split_dir / "train" / "green_square" / "green_square_train_0000.jpg"
    return [str(tmp_path / "in" / "a"), str(tmp_path / "in" / "empty"), str(single),
            str(tmp_path / "in" / "b")]


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_two_processes_write_one_process_csv_and_heat_maps(tmp_path, run, images):
    outputs = {}
    for n in (1, 2):
        proc = _engine(tmp_path, n, "predict", str(run), *images, "--device", "cpu",
                       "--batch-size", "4", "--output", str(tmp_path / f"{n}.csv"),
                       "--explain", str(tmp_path / f"heat{n}"))
        outputs[n] = proc
        # one unreadable file and one empty folder: exit 1, as for one process
        assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-3000:]
    one, two = outputs[1], outputs[2]
    assert (tmp_path / "2.csv").read_bytes() == (tmp_path / "1.csv").read_bytes()
    # rank 0 printed what one process prints (and rank 1 printed nothing)
    assert two.stdout.replace("2.csv", "N.csv").replace("heat2", "heatN") == \
        one.stdout.replace("1.csv", "N.csv").replace("heat1", "heatN")
    assert two.stderr.count("2 of 35 inputs could not be predicted.") == 1
    assert not [line for line in two.stderr.splitlines() if line.startswith("error: ")]

    rows = (tmp_path / "1.csv").read_text(encoding="utf-8").splitlines()[1:]
    sources = [r.split(",")[0] for r in rows]
    expected = sorted(str(p) for p in Path(images[0]).rglob("*.jpg")) + [images[1], images[2]] \
        + sorted(str(p) for p in Path(images[3]).rglob("*.jpg"))
    assert sources == expected and len(sources) == 35
    broken = [r for r in rows if "m_broken" in r]
    assert len(broken) == 1 and "truncated" in broken[0]
    assert sum("no images in this folder" in r for r in rows) == 1
    # each heat map once, named as one process names them, with the same pixels
    heat1, heat2 = tmp_path / "heat1", tmp_path / "heat2"
    names = sorted(p.name for p in heat1.iterdir())
    assert len(names) == 33 and sorted(p.name for p in heat2.iterdir()) == names
    assert all((heat1 / n).read_bytes() == (heat2 / n).read_bytes() for n in names)

    accelerate = _engine(tmp_path, 2, "predict", str(run), *images, "--device", "cpu",
                         "--batch-size", "4", "--output", str(tmp_path / "acc.csv"),
                         launcher="accelerate")
    assert accelerate.returncode == 1, accelerate.stdout[-2000:] + accelerate.stderr[-3000:]
    assert (tmp_path / "acc.csv").read_bytes() == (tmp_path / "1.csv").read_bytes()
    assert accelerate.stdout.count("m_broken.jpg: cannot predict") == 1


@pytest.fixture
def labelled(tmp_path) -> Path:
    """Colour classes with labels flipped on purpose and a re-saved copy of one image."""
    data = colour_folder(tmp_path / "colours", per_class=12)
    flip_labels(data)
    Image.open(data / "blue" / "blue_000.jpg").save(data / "yellow" / "copy.jpg", quality=95)
    (data / "red" / "red_broken.jpg").write_bytes(NOT_AN_IMAGE)  # the scan skips it
    return data


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_check_labels_under_two_processes_reports_what_one_does(tmp_path, labelled,
                                                                tiny_clip_dir):
    reports = {}
    for n in (1, 2):
        out = tmp_path / f"check{n}"
        proc = _engine(tmp_path, n, "check-labels", str(labelled), "--model", str(tiny_clip_dir),
                       "--device", "cpu", "--folds", "3", "--output", str(out))
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
        assert proc.stdout.count("likely label mistakes") == 1  # printed by one process
        report = json.loads((out / "data_check.json").read_text(encoding="utf-8"))
        reports[n] = {k: v for k, v in report.items() if k not in ("created", "report_dir")}
        for name in ("label_issues.csv", "near_duplicates.csv"):
            reports[n][name] = (out / name).read_bytes()
    assert reports[2] == reports[1]
    assert reports[1]["issues"] and reports[1]["duplicates"] and reports[1]["images"] == 49


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_map_embeddings_are_shared_with_an_unreadable_file(tmp_path, tiny_clip_dir):
    photos = colour_folder(tmp_path / "photos", per_class=6)
    # beside the class folders: mapped without a label, and not checked before decoding
    (photos / "loose_broken.jpg").write_bytes(NOT_AN_IMAGE)
    outputs = {}
    for n in (1, 2):
        proc = _engine(tmp_path, n, "map", str(photos), "--model", str(tiny_clip_dir),
                       "--device", "cpu", "--method", "pca", "--output",
                       str(tmp_path / f"map{n}.csv"))
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
        outputs[n] = proc
    assert (tmp_path / "map2.csv").read_bytes() == (tmp_path / "map1.csv").read_bytes()
    warnings = [line for line in outputs[2].stderr.splitlines() if "loose_broken" in line]
    assert len(warnings) == 1 and warnings[0].startswith("warning: ")
    assert outputs[2].stdout.replace("map2", "mapN") == outputs[1].stdout.replace("map1", "mapN")
