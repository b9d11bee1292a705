"""Section 1c: the tutorial's whole job, engine against the tutorial's loop, one run each.

The job is the tutorial's: its recipe (LoRA r=8/alpha=32 on q/v, dropout 0.1, AdamW 5e-4,
cosine, a random head), `job_epochs` epochs with a validation pass after each, on a slice
of the bench photos small enough for a CPU (the full job is 1,000 images). The engine runs
it as `train` does for a user (precision auto, the attention kernel and weight format it
picks, decode cache, checkpoints and run folder included); the tutorial's loop as written.
Ratio = the tutorial's seconds / the engine's.
"""
from __future__ import annotations

import time

from engine.bench.plan import Context, trim_split


def job(ctx: Context) -> dict:
    from engine.bench.sections_modes import run_to_end
    from engine.bench.tutorial_reference import run_tutorial_job
    from engine.config import apply_preset
    from engine.hardware import resolve_device_type, resolve_precision

    plan = ctx.plan
    device = resolve_device_type(ctx.device)
    index = trim_split(trim_split(trim_split(ctx.index(), "train", plan.job_train_per_class),
                                  "val", plan.job_val_per_class), "test", 0)
    train = [(s.path, s.label) for s in index.split("train")]
    val = [(s.path, s.label) for s in index.split("val")]
    config = apply_preset(ctx.config(), "Tutorial recipe").replace(
        epochs=plan.job_epochs, early_stop_patience=0, batch_size=plan.batch_size)
    ctx.log(f"job: the tutorial's job, {plan.job_epochs} epochs over {len(train)} images "
            f"(+{len(val)} validated each epoch): the engine")
    t0 = time.perf_counter()
    engine = run_to_end(config, dataset=index)
    engine["wall_s"] = round(time.perf_counter() - t0, 2)
    ctx.log("job: the same job with the tutorial's loop")
    tutorial = run_tutorial_job(str(ctx.model(plan.train_model)), train, val,
                                len(index.classes), epochs=plan.job_epochs,
                                batch_size=plan.batch_size, device=device, seed=0)
    ratio = tutorial["wall_s"] / engine["wall_s"]
    return {"status": "ok", "model": plan.train_model, "epochs": plan.job_epochs,
            "train_images": len(train), "val_images": len(val), "engine": engine,
            "tutorial": tutorial, "ratio": round(ratio, 3),
            "goal": 2.3 if device == "cpu" and resolve_precision("auto", "cpu").name == "bf16"
            else None}
