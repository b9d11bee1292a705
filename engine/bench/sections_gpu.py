"""Section 8: the GPU figures — LoRA training images/s of ViT-B/32 and ViT-B/16 at the
engine's default precision (bf16 where the GPU has it), the tutorial's whole job (10 epochs
over 1,000 images with evaluation) as one engine run, the tutorial's own loop side by side,
and what the input pipeline delivers on the device.

It runs only where a CUDA GPU is present. In smoke mode the same code runs on the CPU with
the tiny model, so the GPU path stays tested on machines without one.
"""
from __future__ import annotations

import time

from engine.bench.measure import Contender, EngineRun, interleave, median, ratios
from engine.bench.plan import Context

GOAL_IMAGES_PER_S = 2000  # ViT-B/32 LoRA training on an H200-class GPU
GOAL_JOB_S = 30.0  # the tutorial's job (quoted at about 30 minutes on an RTX 3090)


def gpu(ctx: Context) -> dict:
    import torch

    plan = ctx.plan
    if torch.cuda.is_available() and ctx.device in ("auto", "cuda"):
        device, name = "cuda", torch.cuda.get_device_name(0)
    elif plan.gpu_on_cpu:
        device, name = "cpu", "CPU (smoke mode: the GPU section's code path, tiny model)"
    else:
        return {"status": "ok", "available": False,
                "message": "GPU: not available on this machine (section 8 skipped; the same "
                           "code runs on the CPU in the smoke bench)"}
    ctx.log(f"gpu: {name}")
    result = {"status": "ok", "available": device == "cuda", "name": name, "device": device,
              "message": f"GPU: {name}", "throughput": [], "goal_images_per_s": GOAL_IMAGES_PER_S,
              "goal_job_s": GOAL_JOB_S}
    for model in plan.gpu_models:
        for batch in plan.gpu_batches:
            result["throughput"].append(_throughput(ctx, model, batch, device))
    result["versus_tutorial"] = _versus_tutorial(ctx, plan.gpu_models[0], device)
    result["pipeline"] = _pipeline(ctx, plan.gpu_models[0], device)
    result["tutorial_job"] = _tutorial_job(ctx, plan.gpu_models[0], device)
    first = [r for r in result["throughput"] if r["model"] == plan.gpu_models[0]]
    best = max((r["images_per_s"] for r in first), default=0.0)
    result["goal_images_per_s_met"] = best >= GOAL_IMAGES_PER_S
    result["goal_job_met"] = result["tutorial_job"]["wall_s"] < GOAL_JOB_S
    return result


def _reset_peak(device: str) -> None:
    import torch

    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()


def _peak_mb(device: str) -> float | None:
    import torch

    return round(torch.cuda.max_memory_allocated() / 2**20, 1) if device == "cuda" else None


def _throughput(ctx: Context, model: str, batch: int, device: str) -> dict:
    """Steady-state LoRA training images/s (default settings, default precision)."""
    plan = ctx.plan
    config = ctx.config(model=model, batch_size=batch).replace(device=device)
    _reset_peak(device)
    run = EngineRun(config, dataset=_enough_train(ctx, batch * (3 * plan.gpu_steps + 2)))
    try:
        run.start()
        rates = []
        for _ in range(3):
            times = run.window(plan.gpu_steps)
            rates.append(batch * len(times) / sum(times) if times else 0.0)
        precision = next((e.precision for e in run.events if e.kind == "run_started"), "?")
    finally:
        run.stop()
    rate = median(rates)
    ctx.log(f"gpu: {model} batch {batch}: {rate:,.0f} images/s ({precision})")
    return {"model": model, "batch_size": batch, "precision": precision,
            "images_per_s": round(rate, 1), "windows": [round(r, 1) for r in rates],
            "peak_gpu_mb": _peak_mb(device)}


def _enough_train(ctx: Context, images: int):
    """The bench dataset with at least `images` training samples (repeated when short), a
    token val split and no test split: a throughput run never waits on an epoch's end."""
    import dataclasses

    from engine.bench.plan import trim_split

    index = trim_split(ctx.throughput_index(), "test", 0)
    train = index.split("train")
    if len(train) >= images:
        return index
    extra = [train[i % len(train)] for i in range(images - len(train))]
    return dataclasses.replace(index, samples=list(index.samples) + extra)


def _versus_tutorial(ctx: Context, model: str, device: str) -> dict:
    """The tutorial's loop (DataLoader + CLIPProcessor, fp32) and the engine, interleaved."""
    from engine.bench.tutorial_reference import TutorialTrainer

    plan = ctx.plan
    batch = plan.gpu_batches[0]
    index = ctx.throughput_index()
    ref = TutorialTrainer(str(ctx.model(model)), ctx.samples("train"), len(index.classes),
                          batch_size=batch, device=device)
    run = EngineRun(ctx.config(model=model, batch_size=batch).replace(device=device),
                    dataset=_enough_train(ctx, batch * (2 * plan.gpu_steps + 2))).start()
    contenders = [Contender("reference", "tutorial loop", ref.window, batch),
                  Contender("engine", "engine.training.loop defaults", run.window, batch)]
    try:
        interleave(contenders, 2, plan.gpu_steps, log=ctx.log)
    finally:
        run.stop()
    per_round = ratios(contenders[1], contenders[0])
    return {"model": model, "batch_size": batch,
            "reference_images_per_s": round(median(contenders[0].rates), 1),
            "engine_images_per_s": round(median(contenders[1].rates), 1),
            "ratio": round(median(per_round), 2), "per_round": [round(r, 2) for r in per_round]}


def _pipeline(ctx: Context, model: str, device: str) -> dict:
    """Images/s the decode cache delivers on the device (gather + augmentation there)."""
    import torch

    from engine.data.augment import Augmenter, pipeline_throughput
    from engine.data.cache import DecodeCache, cache_resolution
    from engine.data.framing import Framing

    size = ctx.image_size(model)
    paths = [s.path for s in ctx.index().split("train")]
    # the bench models are CLIPs saved with CLIP's processor: training decodes them so
    cache = DecodeCache(cache_resolution(size), framing=Framing.clip(size),
                        disk_dir=ctx.root / "cache")
    images = cache.load(paths).images.to(device)
    augmenter = Augmenter(size, (0.5, 0.5, 0.5), (0.25, 0.25, 0.25), augment=True)
    rate = pipeline_throughput(images, augmenter, batch_size=ctx.plan.gpu_batches[-1],
                               seconds=1.0)
    if device == "cuda":
        torch.cuda.synchronize()
    return {"where": f"decode cache resident on {device}, augmentation on {device}",
            "images_per_s": round(rate, 1), "cache_mb": round(images.numel() / 2**20, 1)}


def _tutorial_job(ctx: Context, model: str, device: str) -> dict:
    """The tutorial's whole job as one engine run: its recipe, 10 epochs, evaluations."""
    from engine.bench.sections_modes import run_to_end
    from engine.config import apply_preset

    epochs = ctx.plan.gpu_job_epochs
    config = apply_preset(ctx.config(model=model), "Tutorial recipe").replace(
        device=device, epochs=epochs, early_stop_patience=0)
    ctx.log(f"gpu: the tutorial's job ({model}, {epochs} epochs) as one engine run")
    t0 = time.perf_counter()
    result = run_to_end(config, dataset=ctx.index())
    result["wall_s"] = round(time.perf_counter() - t0, 2)
    result["note"] = ("model load, decode cache (warm from the earlier sections), the step-0 "
                      "evaluation, every epoch with its evaluation and checkpoints, calibration, "
                      "the test report")
    return result


__all__ = ["gpu"]
