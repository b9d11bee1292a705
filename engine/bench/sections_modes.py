"""Sections 3 and 4: the fast training modes for CPU users, and prediction."""
from __future__ import annotations

import time

from engine.bench.measure import BenchError, median, percentile, significant
from engine.bench.plan import Context, trim_split


class TimedRun:
    """engine.training.loop.train advanced a stretch at a time (`until`); its clock counts
    only the time spent inside the run, so another contender's stretches can run in between
    (interleaved A B, B A, ...) without counting against it."""

    def __init__(self, config, dataset=None):
        from engine.training.loop import train

        self._gen = train(config, dataset=dataset)
        self.busy_s = 0.0
        self.stages: dict[str, list[float]] = {}
        self.evals: list[tuple[float, object]] = []
        self.finished = None

    def until(self, stop=lambda event: False) -> None:
        """Advance to the first event for which stop(event) is true, or to the end."""
        while self.finished is None:
            t0 = time.perf_counter()
            try:
                event = next(self._gen)
            except StopIteration:
                return
            self.busy_s += time.perf_counter() - t0
            if event.kind == "progress":
                self.stages.setdefault(event.stage, []).append(self.busy_s)
            elif event.kind == "evaluation" and event.split == "val":
                self.evals.append((self.busy_s, event))
            elif event.kind == "run_finished":
                self.finished = event
            if stop(event):
                return

    def close(self) -> None:
        self._gen.close()  # a run left half-way still closes its files

    def summary(self) -> dict:
        finished = self.finished
        if finished is None or finished.status != "completed":
            raise BenchError(f"training run did not complete: "
                             f"{finished.error if finished else '?'}")
        evals = self.evals
        epochs = [e for _, e in evals if e.epoch > 0]
        train_s = evals[-1][0] - evals[0][0] if len(evals) > 1 else None
        return {
            "wall_s": round(self.busy_s, 2),
            **{f"{stage}_s": round(times[-1] - times[0], 2) for stage, times in self.stages.items()
               if stage in ("decode", "embed", "frozen")},
            "epochs": len(epochs),
            "epoch_s": round(train_s / len(epochs), 3) if train_s and epochs else None,
            "zero_shot_val_accuracy": round(evals[0][1].accuracy, 4) if evals else None,
            "best_val_accuracy": finished.best_val_accuracy,
            "final_val_accuracy": round(epochs[-1].accuracy, 4) if epochs else None,
            "test_accuracy": finished.test_accuracy,
            "run_dir": finished.run_dir,
        }


def run_to_end(config, dataset=None) -> dict:
    """Run engine.training.loop.train to the end; timings from when its events arrived."""
    run = TimedRun(config, dataset)
    try:
        run.until()
    finally:
        run.close()
    return run.summary()


def fast_modes(ctx: Context) -> dict:
    """(a) linear probe, (b) LoRA on the last N blocks, each against default LoRA."""
    from engine.config import apply_preset

    plan = ctx.plan
    index = ctx.index()
    batch = plan.batch_size
    spe = ctx.shared.get("steps_per_epoch") or -(-len(index.split("train")) // batch)
    probe_preset = {"early_stop_patience": 0, "epochs": plan.probe_epochs}
    ctx.log(f"fast modes: linear probe on {plan.train_model} ({plan.probe_epochs} epochs)")
    # the train split in full; a token val split and no test split: what is timed is the
    # embedding pass over the training images and the epochs
    probe_data = trim_split(ctx.throughput_index(), "test", 0)
    probe = run_to_end(apply_preset(ctx.config(), "Linear probe (fastest)").replace(**probe_preset),
                       dataset=probe_data)
    rates = {name: ctx.shared.get(f"{key}_rate") for name, key in
             (("lora", "engine"), ("last_n", "last_n"), ("last_n_cached", "last_n_cached"))}

    def epoch_s(name: str) -> float | None:
        return significant(spe * batch / rates[name]) if rates[name] else None

    per_1000 = ctx.shared.get("frozen_pass_s_per_1000")
    all_images = len(index.samples)
    main_model = {
        "model": plan.train_model,
        "lora_epoch_s": epoch_s("lora"),
        "last_n_blocks": plan.last_n,
        "last_n_epoch_s": epoch_s("last_n"),
        "last_n_cached_epoch_s": epoch_s("last_n_cached"),
        "frozen_pass_s": round(per_1000 * all_images / 1000, 1) if per_1000 else None,
        "frozen_pass_images": all_images,
        "linear_probe": probe,
        "linear_probe_total_s": probe["wall_s"],
        "note": "LoRA epoch times = steps per epoch / the step rate measured in the "
                "interleaved training windows; the cached last-N mode first runs the frozen "
                "blocks once over every image (frozen_pass_s, train+val+test, from the pass "
                "measured per 1,000 images); the linear probe is a complete run (embedding "
                "pass + epochs + evaluations)",
    }
    acc_cfg = ctx.config(model=plan.acc_model, epochs=plan.acc_epochs)
    accuracy = {}
    variants = {
        "lora": acc_cfg,
        "last_n": acc_cfg.replace(lora_last_n_blocks=plan.acc_last_n),
        "last_n_cached": acc_cfg.replace(lora_last_n_blocks=plan.acc_last_n, augment=False),
        "linear_probe": apply_preset(acc_cfg, "Linear probe (fastest)").replace(**probe_preset),
    }
    for name, cfg in variants.items():
        ctx.log(f"fast modes: {name} to the end on {plan.acc_model} ({cfg.epochs} epochs)")
        accuracy[name] = run_to_end(cfg, dataset=index)
    base = accuracy["lora"]["epoch_s"]
    for name, res in accuracy.items():
        if base and res["epoch_s"]:
            res["epoch_speedup_vs_lora"] = round(base / res["epoch_s"], 2)
    return {
        "status": "ok", "train_images": len(index.split("train")),
        "frozen_block_note": "last_n keeps the default augmentation, so its frozen blocks "
                             "run forward on every step (no backward through them); "
                             "last_n_cached turns augmentation off and computes them once per "
                             "image before the zero-shot evaluation (frozen_s), so its epochs "
                             "run only the last blocks",
        "timing": main_model,
        "accuracy_model": plan.acc_model, "accuracy": accuracy,
    }


def prediction(ctx: Context) -> dict:
    """Predictor load, single-image latency, folder throughput; the tutorial's predict."""
    from engine.bench.tutorial_reference import load_tutorial_model, make_predict
    from engine.use.predict import Predictor

    plan = ctx.plan
    run_dir = ctx.shared.get("trained_run") or _short_run(ctx)
    index = ctx.index()
    paths = [s.path for s in index.split("val") + index.split("test")][:plan.folder_images]
    t0 = time.perf_counter()
    predictor = Predictor(run_dir, device=ctx.device)
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    model, processor = load_tutorial_model(str(ctx.model(plan.train_model)),
                                           len(predictor.class_names))
    tut_predict = make_predict(model, processor, predictor.class_names)
    tut_load_s = time.perf_counter() - t0
    ctx.log(f"prediction: loads {load_s:.1f} s (engine) / {tut_load_s:.1f} s (tutorial)")

    predictor.predict([paths[0]], batch_size=1)  # warm-up: first-call allocations
    tut_predict(paths[0])
    single = {"engine": [], "reference": []}
    for path in paths[1:1 + plan.single_images]:  # alternated, so noise hits both alike
        t = time.perf_counter()
        predictor.predict([path], batch_size=1)
        single["engine"].append(time.perf_counter() - t)
        t = time.perf_counter()
        tut_predict(path)
        single["reference"].append(time.perf_counter() - t)

    def engine_folder() -> None:
        results = predictor.predict(paths, batch_size=32)
        if any(r.error for r in results):
            raise BenchError(f"prediction failed on {sum(bool(r.error) for r in results)} images")

    def tutorial_folder() -> None:
        for path in paths:
            tut_predict(path)

    folder: dict[str, list[float]] = {"engine": [], "reference": []}
    contenders = [("engine", engine_folder), ("reference", tutorial_folder)]
    for r in range(plan.rounds):  # the whole folder, interleaved A B, B A, ...
        for name, run in contenders if r % 2 == 0 else contenders[::-1]:
            t = time.perf_counter()
            run()
            folder[name].append(time.perf_counter() - t)
    folder_s, tut_folder_s = median(folder["engine"]), median(folder["reference"])
    per_round = [theirs / ours for ours, theirs in zip(folder["engine"], folder["reference"])]

    def latency(values: list[float]) -> dict:
        return {"p50_ms": round(1000 * median(values), 1),
                "p95_ms": round(1000 * percentile(values, 95), 1), "samples": len(values)}

    engine_rate, tut_rate = len(paths) / folder_s, len(paths) / tut_folder_s
    return {
        "status": "ok", "model": plan.train_model, "run_dir": str(run_dir),
        "engine": {"load_s": round(load_s, 2), "single": latency(single["engine"]),
                   "folder_images": len(paths), "folder_images_per_s": round(engine_rate, 2)},
        "reference": {"load_s": round(tut_load_s, 2), "single": latency(single["reference"]),
                      "folder_images_per_s": round(tut_rate, 2),
                      "note": "the tutorial's predict(image_path), called once per image"},
        "folder_rounds": plan.rounds,
        "folder_speedup_per_round": [round(v, 2) for v in per_round],
        "folder_speedup": round(median(per_round), 2),
        "note": "single images alternate engine / tutorial image by image; the folder runs in "
                "interleaved rounds (A B, B A, ...), median per-round ratio; the two loads are "
                "timed once each, one after the other",
    }


def _short_run(ctx: Context) -> str:
    """A run folder to predict with when the training section did not run."""
    from engine.bench.measure import EngineRun

    run = EngineRun(ctx.config(max_steps=2), dataset=ctx.index()).start()
    return run.stop().run_dir


__all__ = ["TimedRun", "run_to_end", "fast_modes", "prediction"]
