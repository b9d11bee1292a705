"""The bench harness (engine/bench): fixtures, timing primitives, the tutorial reference,
and an end-to-end smoke run proving every JSON key and the table are produced.

No absolute-time assertions: the machine is shared and noisy; only structure and sanity.
"""
from __future__ import annotations

import hashlib
import io
import json
import math

import pytest
from PIL import Image

from engine.bench import SECTIONS
from engine.bench.fixtures import with_comment
from engine.bench.measure import Contender, EngineRun, interleave, median, percentile, ratios


def _jpeg(colour=(200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def test_jpeg_comment_keeps_pixels_but_changes_bytes():
    original = _jpeg()
    a, b = with_comment(original, "a"), with_comment(original, "b")
    digests = {hashlib.blake2b(x).hexdigest() for x in (original, a, b)}
    assert len(digests) == 3  # the duplicate check sees three different files
    pixels = Image.open(io.BytesIO(original)).convert("RGB").tobytes()
    assert Image.open(io.BytesIO(a)).convert("RGB").tobytes() == pixels
    with pytest.raises(ValueError):
        with_comment(b"\x89PNG....", "x")


def test_median_percentile_and_round_ratios():
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([]) is None
    assert percentile([1, 2, 3, 4, 5], 50) == 3
    assert percentile([0, 10], 95) == pytest.approx(9.5)
    fast = Contender("fast", "", lambda n: [0.5] * n, batch_size=4)
    slow = Contender("slow", "", lambda n: [1.0] * n, batch_size=4)
    log: list[str] = []
    interleave([fast, slow], rounds=2, steps=3, log=log.append)
    assert fast.rates == [8.0, 8.0] and slow.rates == [4.0, 4.0]
    assert ratios(fast, slow) == [2.0, 2.0]
    assert [line.split()[2] for line in log] == ["fast", "slow", "slow", "fast"]  # A B, B A


def test_engine_run_times_windows_of_consecutive_steps(tiny_clip_dir, learnable_split_dir,
                                                       tmp_path):
    from engine.config import TrainConfig

    config = TrainConfig(data_dir=str(learnable_split_dir), model=str(tiny_clip_dir),
                         output_dir=str(tmp_path / "runs"), cache_dir=str(tmp_path / "cache"),
                         batch_size=8, epochs=5, early_stop_patience=0, lora_dropout=0.0,
                         num_threads=1, precision="fp32")
    run = EngineRun(config).start()  # 72 train images / 8 = 9 steps per epoch
    times = run.window(4)
    assert len(times) == 4 and all(t > 0 for t in times)
    steps = [e.step for e in run.events if e.kind == "step"]
    assert steps == [1, 2, 3, 4, 5]  # one untimed first step, then exactly the window
    finished = run.stop()
    assert finished.status == "stopped"
    assert (tmp_path / "runs").is_dir() and finished.run_dir


# Run in a fresh interpreter, as the bench runs it (a child process): the tutorial's DataLoader
# forks its worker processes, and by this point the test process holds the threads of Qt
# Multimedia, OpenVINO's pool and earlier windows, which a fork copies in whatever state they
# are in (the parent died of SIGSEGV while waiting for the workers' first batch). The app
# itself never forks: its workers are spawned (gui/selftest_stages.py, "worker processes").
TUTORIAL_CHECK = """
import math, sys
from pathlib import Path
from engine.bench.tutorial_reference import TutorialTrainer, make_predict
model, split = sys.argv[1], Path(sys.argv[2])
classes = sorted(p.name for p in (split / "train").iterdir())
samples = [(str(p), classes.index(p.parent.name)) for p in sorted((split / "train").glob("*/*.jpg"))]
trainer = TutorialTrainer(model, samples, len(classes), batch_size=8, num_workers=2)
times = trainer.window(2, warmup=1)
assert len(times) == 2 and all(t > 0 for t in times), times
assert math.isfinite(trainer.last_loss), trainer.last_loss
# the text tower is loaded too (the tutorial keeps the whole CLIPModel)
assert any("text_model" in n for n, _ in trainer.model.named_parameters())
predict = make_predict(trainer.model, trainer.processor, classes)
name, confidence = predict(samples[0][0])
assert name in classes and 0 < confidence <= 1, (name, confidence)
print("tutorial reference OK")
"""


def test_tutorial_reference_trains_and_predicts(tiny_clip_dir, learnable_split_dir):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", TUTORIAL_CHECK, str(tiny_clip_dir),
                           str(learnable_split_dir)], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "tutorial reference OK" in proc.stdout


def test_the_memory_section_measures_a_whole_run_report_included(tmp_path):
    """The peak is that of a whole run: training, calibration, the test pass and the test
    report (which predicts with the trained model in memory, no second copy)."""
    from engine.bench.plan import PLANS, Context
    from engine.bench.report import format_table
    from engine.bench.sections_system import memory

    result = memory(Context(PLANS["smoke"], tmp_path, log=lambda message: None))
    engine = result["engine"]
    assert engine["status"] == "completed" and engine["steps"] == PLANS["smoke"].memory_steps
    assert engine["phases"] == ["training", "test", "report"]
    assert engine["calibrated"] and engine["report_written"] and engine["test_images"] > 0
    assert 0 < engine["peak_rss_before_training_mb"] <= engine["peak_rss_before_report_mb"] \
        <= engine["peak_rss_mb"] == result["engine_peak_rss_mb"]
    assert result["whole_run"] and "test report" in result["note"]
    table = format_table({"meta": {"mode": "smoke", "cpu": "x", "cores": 2, "ram_gb": 1,
                                   "os": "", "python": "", "torch": ""},
                          "gpu": {}, "memory": {**result}})
    assert "peak RSS of a whole tiny run" in table and "before the test report" in table


def test_the_job_section_runs_the_same_recipe_on_both_sides_interleaved(tmp_path, monkeypatch):
    import engine.bench.sections_modes as modes
    import engine.bench.tutorial_reference as reference
    from engine.bench.plan import PLANS, Context
    from engine.bench.sections_job import job
    from engine.config import PRESETS

    order, configs = [], []
    job_of_tutorial = reference.tutorial_job

    def watched_tutorial(*args, **kwargs):
        # no forked DataLoader workers in the suite's process (see TUTORIAL_CHECK): the same
        # loop, its batches made in this process
        for accuracy in job_of_tutorial(*args, **{**kwargs, "num_workers": 0}):
            order.append("tutorial")
            yield accuracy

    class WatchedRun(modes.TimedRun):
        def __init__(self, config, dataset=None):
            configs.append(config)
            super().__init__(config, dataset)

        def until(self, stop=lambda event: False):
            super().until(stop)
            order.append("engine")

    monkeypatch.setattr(reference, "tutorial_job", watched_tutorial)
    monkeypatch.setattr(modes, "TimedRun", WatchedRun)
    plan = PLANS["smoke"]
    result = job(Context(plan, tmp_path, log=lambda message: None))
    assert order == ["engine", "tutorial", "tutorial", "engine", "engine"]  # A B, B A, the end
    config = configs[0]
    for key, value in PRESETS["Tutorial recipe"].items():
        if key not in ("epochs", "batch_size"):  # the job's size is the bench's
            assert getattr(config, key) == value, key
    assert (config.epochs, config.batch_size) == (plan.job_epochs, plan.batch_size)
    assert result["recipe"] == "Tutorial recipe" and result["interleaved"]
    assert len(result["engine"]["epoch_wall_s"]) == len(result["tutorial"]["epoch_wall_s"]) == 2
    assert result["engine"]["wall_s"] == pytest.approx(sum(result["engine"]["epoch_wall_s"]),
                                                       abs=0.05)
    assert result["ratio"] > 0 and len(result["tutorial"]["val_accuracy"]) == 2


def test_unknown_section_is_a_user_error(capsys):
    from run_factory import run_cli

    assert run_cli(["bench", "--smoke", "--only", "nope"]) == 2  # refused while parsing
    err = capsys.readouterr().err
    assert "--only" in err and "invalid choice: 'nope'" in err and "memory" in err


@pytest.mark.slow
def test_smoke_bench_writes_every_figure_and_prints_the_table(tmp_path):
    """`python -m engine bench --smoke` in its own process, as a user runs it: the tutorial's
    contender forks DataLoader workers, which a test process full of other tests' threads
    cannot do safely (see TUTORIAL_CHECK)."""
    import subprocess
    import sys

    from engine.bench.report import format_table

    out = tmp_path / "bench_out" / "bench.json"
    proc = subprocess.run([sys.executable, "-m", "engine", "bench", "--smoke", "--output",
                           str(out)], capture_output=True, text=True, timeout=1500)
    code, printed = proc.returncode, proc.stdout
    assert out.is_file(), proc.stderr[-3000:]
    result = json.loads(out.read_text("utf-8"))
    failed = {k: result[k].get("error") for k in SECTIONS if result[k]["status"] != "ok"}
    assert code == 0 and not failed, failed
    assert {"cpu", "cores", "torch", "wall_s", "cpu_s", "mode"} <= set(result["meta"])
    training = result["training"]
    assert {"reference", "engine_no_cache", "engine", "last_n",
            "last_n_cached"} <= set(training["contenders"])
    assert training["frozen_pass"]["seconds"] > 0 and training["frozen_pass"]["images"] > 0
    assert len(training["ratio_engine_vs_reference"]["per_round"]) == 2
    assert training["ratio_engine_vs_reference"]["median"] > 0
    variants = {r["variant"]: r for r in result["variants"]["rows"]}
    assert variants["tutorial (fp32, SDPA, dropout 0.1)"]["vs_tutorial"] == 1.0
    assert any(name.startswith("engine now") for name in variants)
    assert all(r["images_per_s"] > 0 for r in variants.values())
    assert "avx2" in result["variants"]["cpu_flags"] or not result["variants"]["cpu_flags"]
    job = result["job"]
    assert job["epochs"] == 2 and len(job["tutorial"]["val_accuracy"]) == 2
    assert job["engine"]["epochs"] == 2 and job["ratio"] > 0
    assert result["pipeline"]["cache_delivers_images_per_s"] > 0
    modes = result["fast_modes"]
    assert set(modes["accuracy"]) == {"lora", "last_n", "last_n_cached", "linear_probe"}
    assert modes["accuracy"]["last_n_cached"]["frozen_s"] >= 0
    assert "frozen_s" not in modes["accuracy"]["last_n"]  # augmentation on: nothing cached
    assert modes["timing"]["last_n_cached_epoch_s"] > 0
    assert result["prediction"]["engine"]["single"]["samples"] == 3
    assert result["memory"]["engine_peak_rss_mb"] > 0
    assert [r["size"] for r in result["growth"]["sizes"]] == [16, 32]
    assert result["gui"]["event_loop"]["steps"] > 0
    gpu = result["gpu"]  # smoke mode runs the GPU section's code on the CPU
    assert gpu["message"].startswith("GPU:") and gpu["device"] == "cpu"
    assert [(r["model"], r["batch_size"]) for r in gpu["throughput"]] == [("tiny", 4), ("tiny", 8)]
    assert all(r["images_per_s"] > 0 for r in gpu["throughput"])
    assert gpu["versus_tutorial"]["ratio"] > 0 and gpu["pipeline"]["images_per_s"] > 0
    assert gpu["tutorial_job"]["epochs"] == 2 and gpu["tutorial_job"]["wall_s"] > 0
    dataset_map = result["map"]
    assert dataset_map["points"] == 300 and dataset_map["total_s"] > 0
    assert dataset_map["agreement_refined"] > 0.9 > dataset_map["agreement_quick"]
    proposed, embedded = dataset_map["proposals"], dataset_map["embedding"]
    assert proposed["confirmed"] == 60 and proposed["agreement"] > 0.9
    assert embedded["model_images"] == 16 and embedded["folder_images"] == 32
    assert embedded["reopen_s"] < embedded["folder_cold_s"]  # no model, no decoding
    assert "reopened" in printed
    backends = result["backends"]  # every installed backend, side by side with torch fp32
    assert backends["rows"]["onnx (ORT fp32)"]["top1_agreement"] == 1.0
    assert backends["rows"]["onnx (ORT fp32)"]["max_abs_dp"] < 1e-4
    assert all(r["folder_images_per_s"] > 0 and r["single_ms"] > 0
               for r in backends["rows"].values())
    assert backends["auto"] in {r["backend"] for r in backends["rows"].values()}
    assert "10. Prediction backends" in printed
    for heading in ("1. Training", "1b. The training step", "1c. The tutorial's whole job",
                    "2. Input pipeline", "3. Fast modes", "4. Prediction",
                    "5. GUI", "6. Memory", "7. Growth", "8. GPU", "9. Map", "GPU:"):
        assert heading in printed
    assert out.with_suffix(".md").read_text("utf-8").strip() in printed
    # a failed section is reported, not hidden
    result["growth"] = {"status": "failed", "error": "boom"}
    assert "growth: failed (boom)" in format_table(result)


def test_the_serve_section_measures_the_server_beside_in_process_prediction(tmp_path):
    """The smoke plan on the tiny model: every figure present, every request answered (no
    speed is asserted: the machine is shared)."""
    from engine.bench.plan import PLANS, Context
    from engine.bench.report import format_table
    from engine.bench.sections_serve import serve

    result = serve(Context(PLANS["smoke"], tmp_path, device="cpu", log=lambda message: None))
    assert result["status"] == "ok"
    for clients in (1, 8):
        load = result["server"][f"clients_{clients}"]
        assert load["clients"] == clients and load["requests"] >= 16
        assert 0 < load["p50_ms"] <= load["p95_ms"] and load["requests_per_s"] > 0
    assert result["in_process"]["folder_images_per_s"] > 0
    assert result["batching"]["images"] >= 2 * 16 and result["batching"]["model_calls"] > 0
    table = format_table({"meta": {"mode": "smoke", "cpu": "x", "cores": 2, "ram_gb": 1,
                                   "os": "linux", "python": "3", "torch": "2"},
                          "gpu": {"message": "GPU: –"}, "serve": result})
    assert "**Serve**" in table and "server, 8 clients" in table
