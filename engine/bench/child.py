"""Measurements that need a process of their own (peak memory must not include the
bench's other models): `python -m engine.bench.child TASK 'JSON ARGS'`.

Each task prints one line `BENCH_RESULT {...}` (engine.bench.measure.run_child reads it).
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from engine.bench.measure import (MemorySampler, current_rss_mb, emit_result, peak_rss_self_mb,
                                  quiet_warnings)


def engine_memory(args: dict) -> dict:
    """Peak memory of a whole engine.training.loop run on args['config'], cut to args['steps']
    optimiser steps (max_steps): model load, decode cache, the steps, validation, calibration,
    the test pass and the test report, as a user's run ends. The peak so far is read as
    each phase begins, so the result also says which phase set the peak."""
    from engine.config import TrainConfig
    from engine.training.loop import train

    from engine.bench.plan import trim_split
    from engine.data.index import scan_dataset

    config = TrainConfig.from_dict(args["config"]).replace(max_steps=args["steps"])
    index = trim_split(scan_dataset(config.data_dir), "val", args.get("val_per_class", 2))
    steps, finished, precision, at_start = 0, None, "", None
    phases: list[str] = []
    peaks: dict[str, float] = {}  # peak RSS (VmHWM) when each phase began

    def enter(phase: str) -> None:
        if phase not in phases:
            phases.append(phase)
            peaks[phase] = peak_rss_self_mb()

    with MemorySampler() as mem:
        for event in train(config, dataset=index):
            if event.kind == "run_started":  # model built, images cached: the load's peak
                precision, at_start = event.precision, current_rss_mb()
                enter("training")
            elif event.kind == "step":
                steps += 1
            elif event.kind == "evaluation" and event.split == "test":
                enter("test")  # calibration and the test pass have run: the report is next
            elif event.kind == "progress" and event.stage == "evaluate":
                enter("report")  # (its model is ready and its predictions begin)
            elif event.kind == "run_finished":
                finished = event
    if finished is None or finished.status != "completed":
        raise RuntimeError(finished.error if finished else "no RunFinished")
    peak = peak_rss_self_mb()
    run_dir = Path(finished.run_dir)
    calibrated = "calibration" in json.loads((run_dir / "run.json").read_text("utf-8"))
    return {"steps": steps, "precision": precision, "peak": mem.peak, "peak_rss_mb": peak,
            "status": finished.status, "run_dir": str(run_dir), "phases": phases,
            "calibrated": calibrated, "report_written": (run_dir / "report" / "report.json").is_file(),
            "test_images": len(index.split("test")),
            "peak_rss_before_training_mb": peaks.get("training"),
            "rss_at_training_start_mb": at_start,
            "peak_rss_before_report_mb": peaks.get("test"),
            "report_added_mb": round(peak - peaks["test"], 1) if "test" in peaks else None}


def reference_memory(args: dict) -> dict:
    """Peak memory of the tutorial's loop (its DataLoader workers included)."""
    from engine.bench.tutorial_reference import TutorialTrainer

    samples = [tuple(s) for s in args["samples"]]
    with MemorySampler(interval=0.25, children=True) as mem:
        trainer = TutorialTrainer(args["model"], samples, args["num_classes"])
        times = trainer.window(args["steps"], warmup=1)
    return {"steps": len(times), "peak": mem.peak, "peak_rss_mb": peak_rss_self_mb()}


def growth(args: dict) -> dict:
    """Scan + one epoch of engine.training.loop over a growth CSV, with a cold decode cache."""
    from engine.config import TrainConfig
    from engine.data.index import scan_dataset
    from engine.training.loop import train

    config = TrainConfig.from_dict(args["config"])
    t0 = time.perf_counter()
    index = scan_dataset(config.data_dir)
    scan_s = time.perf_counter() - t0
    decode: list[float] = []
    evals: list[float] = []
    rates: list[float] = []
    cache_line, finished = "", None
    with MemorySampler() as mem:
        t0 = time.perf_counter()
        for event in train(config, dataset=index):
            now = time.perf_counter() - t0
            if event.kind == "progress" and event.stage == "decode":
                decode.append(now)
            elif event.kind == "evaluation" and event.split == "val":
                evals.append(now)
            elif event.kind == "step":
                rates.append(event.images_per_s)
            elif event.kind == "log" and "images cached" in event.message:
                cache_line = event.message
            elif event.kind == "run_finished":
                finished = event
    if finished is None or finished.status != "completed":
        raise RuntimeError(finished.error if finished else "no RunFinished")
    rates.sort()
    return {"train_images": len(index.split("train")), "scan_s": round(scan_s, 2),
            "decode_s": round(decode[-1] - decode[0], 2) if len(decode) > 1 else None,
            "epoch_s": round(evals[-1] - evals[0], 2) if len(evals) > 1 else None,
            "median_step_images_per_s": round(rates[len(rates) // 2], 1) if rates else None,
            "cache": cache_line, "on_disk": "memory-mapped" in cache_line,
            "peak": mem.peak, "peak_rss_mb": peak_rss_self_mb()}


def checkpointing_step(args: dict) -> dict:
    """One LoRA training step of a ViT-shaped tower, with or without gradient checkpointing."""
    from engine.bench.sections_memory import checkpointing_step as measure

    return measure(args)


TASKS = {"engine-memory": engine_memory, "reference-memory": reference_memory, "growth": growth,
         "checkpointing-step": checkpointing_step}


def main(argv: list[str]) -> int:
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    quiet_warnings()
    task, args = argv[0], json.loads(argv[1])
    emit_result(TASKS[task](args))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
