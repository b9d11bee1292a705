"""Sections 6-7: peak memory, growth with dataset size."""
from __future__ import annotations

from engine.bench.fixtures import MODELS
from engine.bench.measure import run_child
from engine.bench.plan import Context

MEMORY_GOAL_MB = 2500  # issue #12: ViT-B/32 training at batch 32 below 2.5 GB


def memory(ctx: Context) -> dict:
    """Peak memory of a whole training run in a fresh process (training, calibration, the
    test pass and the test report, as a user's run ends); the tutorial's loop beside it."""
    from engine.data.cache import cache_bytes, cache_resolution

    plan = ctx.plan
    config = ctx.config()
    ctx.log(f"memory: a whole engine.training.loop run on {plan.train_model}, batch "
            f"{config.batch_size}, {plan.memory_steps} steps, calibration and test report "
            "included, in a child process")
    engine = run_child("engine-memory", {"config": config.to_dict(), "steps": plan.memory_steps,
                                         "val_per_class": plan.throughput_val},
                       timeout=plan.child_timeout_s, log=ctx.log)
    reference = None
    if plan.reference_memory:
        ctx.log("memory: the tutorial's loop in a child process")
        reference = run_child("reference-memory", {
            "model": str(ctx.model(plan.train_model)), "samples": ctx.samples("train"),
            "num_classes": len(ctx.index().classes), "steps": plan.memory_steps},
            timeout=plan.child_timeout_s, log=ctx.log)
    image_size = ctx.image_size()
    res = cache_resolution(image_size)
    peak = engine["peak_rss_mb"]
    return {
        "status": "ok", "model": plan.train_model, "batch_size": config.batch_size,
        "engine": engine, "reference": reference, "whole_run": True,
        "engine_peak_rss_mb": peak, "goal_mb": MEMORY_GOAL_MB, "goal_met": peak < MEMORY_GOAL_MB,
        "reference_peak_tree_pss_mb": reference["peak"]["tree_pss_mb"] if reference else None,
        "decode_cache_mb_per_1000_images": round(cache_bytes(1000, res) / 1e6, 1),
        "decode_cache_resolution": res,
        "note": "engine: peak RSS (VmHWM) of a whole run in its own process: the model load "
                "(where the text tower briefly exists), the decode cache, the training steps "
                "(cut to a few with max_steps), validation, calibration, the test pass and the "
                "test report, which predicts with the trained model in memory; reference: PSS "
                "summed over the process and its 4 DataLoader workers",
    }


def growth(ctx: Context) -> dict:
    """Scan, cold decode and one epoch at growing dataset sizes, each in a fresh process."""
    from engine.bench.fixtures import ensure_growth, fresh_dir

    plan = ctx.plan
    csvs = ensure_growth(ctx.root, ctx.dataset(), list(plan.growth_sizes),
                         val_images=min(64, len(ctx.index().split("val"))))
    model = ctx.model(plan.growth_model)
    rows = []
    for size, csv in sorted(csvs.items()):
        cache = fresh_dir(ctx.root / "cache-growth")
        config = ctx.config(model=plan.growth_model, epochs=1).replace(
            data_dir=str(csv), cache_dir=str(cache), model=str(model))
        ctx.log(f"growth: {size} images ({plan.growth_model}), cold cache, one epoch")
        try:
            row = run_child("growth", {"config": config.to_dict()},
                            timeout=plan.child_timeout_s, log=ctx.log)
        finally:
            fresh_dir(cache)  # several GB at 20k: never leave it behind
        row["size"] = size
        for key in ("decode_s", "epoch_s", "scan_s"):
            if row.get(key) is not None:
                row[key.replace("_s", "_s_per_1000")] = round(row[key] * 1000 / size, 2)
        rows.append(row)
    rate = ctx.shared.get("engine_rate")
    if rate:  # what an epoch of the training model costs at each size, from its step rate
        for row in rows:
            row["train_model_epoch_s_estimate"] = round(row["train_images"] / rate, 1)
    per_1000 = [r["epoch_s_per_1000"] for r in rows if r.get("epoch_s_per_1000")]
    return {
        "status": "ok", "model": plan.growth_model, "train_model": plan.train_model, "sizes": rows,
        "epoch_s_per_1000_spread": round(max(per_1000) / min(per_1000), 2) if per_1000 else None,
        "note": _growth_note(MODELS[plan.growth_model]),
    }


def _growth_note(spec) -> str:
    same = (" (the input size and 256 px decode cache of ViT-B/32 with a tiny encoder)"
            if spec.image_size == 224 else "")
    return (f"One full epoch per size on the {spec.description}{same}, so an epoch at the "
            "largest size fits in the bench; the last column is what an epoch of the training "
            "section's model would take at its measured step rate. The decode cache is capped "
            "at its default 2048 MB: bigger sets are memory-mapped from disk, so anonymous "
            "memory stays bounded while RSS also counts the mapped pages in use. Images: "
            "distinct JPEG files (the base photos, each with a unique JPEG comment).")


__all__ = ["memory", "growth"]
