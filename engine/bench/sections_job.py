"""Section 1c: the tutorial's whole job, engine against the tutorial's loop, like with like.

Both sides run the same recipe: the engine with its *Tutorial recipe* preset, which is the
tutorial's recipe on every point (LoRA r=8/alpha=32 on q/v, dropout 0.1, one AdamW at 5e-4
with weight decay 0.01 on every parameter, cosine to 0 without warm-up, no clipping, no
augmentation, a random head, every epoch), against the tutorial's loop as written
(engine.bench.tutorial_reference); `job_epochs` epochs with a validation pass after each, on
a slice of the bench photos small enough for a CPU (the full job is 1,000 images). The
engine runs it as `train` does for a user (precision auto, the attention kernel and weight
format it picks, decode cache, checkpoints, calibration and run folder included).

The two jobs are interleaved epoch by epoch (engine epoch 1, tutorial epoch 1, tutorial
epoch 2, engine epoch 2, ...) in one process, so a slow drift of the machine hits both
alike; each side's time is the sum of its own stretches (its set-up counts in its first).
Ratio = the tutorial's seconds / the engine's.
"""
from __future__ import annotations

import time

from engine.bench.measure import BenchError, median
from engine.bench.plan import Context, trim_split

RECIPE = "Tutorial recipe"  # the preset the engine runs: the tutorial's own recipe


def job(ctx: Context) -> dict:
    from engine.bench.sections_modes import TimedRun
    from engine.bench.tutorial_reference import tutorial_job
    from engine.config import apply_preset
    from engine.hardware import resolve_device_type, resolve_precision

    plan = ctx.plan
    device = resolve_device_type(ctx.device)
    index = trim_split(trim_split(trim_split(ctx.index(), "train", plan.job_train_per_class),
                                  "val", plan.job_val_per_class), "test", 0)
    train = [(s.path, s.label) for s in index.split("train")]
    val = [(s.path, s.label) for s in index.split("val")]
    # only the size of the job and the bench's folders differ from the preset
    config = apply_preset(ctx.config(), RECIPE).replace(epochs=plan.job_epochs,
                                                        batch_size=plan.batch_size)
    ctx.log(f"job: the tutorial's job, {plan.job_epochs} epochs over {len(train)} images "
            f"(+{len(val)} validated each epoch), the engine ({RECIPE} preset) and the "
            "tutorial's loop interleaved epoch by epoch")
    engine = TimedRun(config, dataset=index)
    tutorial = tutorial_job(str(ctx.model(plan.train_model)), train, val, len(index.classes),
                            epochs=plan.job_epochs, batch_size=plan.batch_size, device=device,
                            seed=0)
    seconds: dict[str, list[float]] = {"engine": [], "tutorial": []}
    accuracies: list[float] = []

    def engine_epoch() -> None:  # to the end of the next epoch's validation
        engine.until(lambda e: e.kind == "evaluation" and e.split == "val" and e.epoch > 0)

    def tutorial_epoch() -> None:
        accuracies.append(next(tutorial))

    contenders = [("engine", engine_epoch), ("tutorial", tutorial_epoch)]
    try:
        for r in range(plan.job_epochs):
            for name, epoch in contenders if r % 2 == 0 else contenders[::-1]:
                before = engine.busy_s
                t0 = time.perf_counter()
                epoch()
                took = engine.busy_s - before if name == "engine" else time.perf_counter() - t0
                seconds[name].append(took)
        before = engine.busy_s
        engine.until()  # the rest of the run: its last checkpoint, calibration, the end
        seconds["engine"][-1] += engine.busy_s - before
    finally:
        engine.close()
        tutorial.close()
    if len(accuracies) != plan.job_epochs:
        raise BenchError("the tutorial's job ended early")
    result = engine.summary()
    result["epoch_wall_s"] = [round(s, 2) for s in seconds["engine"]]
    tutorial_s = sum(seconds["tutorial"])
    ratio = tutorial_s / result["wall_s"]
    # each round's ratio (the first includes both set-ups): a burst of load from elsewhere
    # lands in one round, so their median says what the sum may hide
    per_round = [theirs / ours for ours, theirs in zip(seconds["engine"], seconds["tutorial"])
                 if ours > 0]
    return {"status": "ok", "model": plan.train_model, "epochs": plan.job_epochs,
            "train_images": len(train), "val_images": len(val), "recipe": RECIPE,
            "interleaved": "epoch by epoch (A B, B A, ...)", "engine": result,
            "tutorial": {"wall_s": round(tutorial_s, 2), "val_accuracy": accuracies,
                         "epoch_wall_s": [round(s, 2) for s in seconds["tutorial"]]},
            "ratio": round(ratio, 3), "per_round": [round(r, 2) for r in per_round],
            "per_round_median": round(median(per_round), 2) if per_round else None,
            "goal": 2.3 if device == "cpu" and resolve_precision("auto", "cpu").name == "bf16"
            else None}
