"""Section 7 (memory): the whole run's peak memory (engine.bench.sections_system) and the
peak memory of one LoRA training step of a ViT-L/14-shaped tower (CLIP ViT-L/14's vision
config: width 1024, 24 blocks, 16 heads, MLP 4096, patch 14, 224 px; random weights built
from the config, nothing downloaded) with and without gradient checkpointing.

Each variant runs in a fresh process (engine.bench.child task "checkpointing-step"): the
model is built, one warm-up step runs, then the timed steps. On a CPU the figure is the
peak resident memory (VmHWM) the steps add over the built model; on CUDA it is
torch.cuda.max_memory_allocated over the steps, less the memory held before them. A
variant whose activations (engine.training.auto_batch's estimate) would not fit in half of
the RAM free now is not started: it says so, so the bench never pushes a shared machine
into swapping or the out-of-memory killer.
"""
from __future__ import annotations

import time

from engine.bench.measure import run_child, significant
from engine.bench.plan import Context

GOAL_SAVING = 0.40  # issue #26: >= 40 % less memory with checkpointing
VIT_L14 = dict(hidden_size=1024, intermediate_size=4096, num_hidden_layers=24,
               num_attention_heads=16, patch_size=14, image_size=224, projection_dim=768)
TINY = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
            patch_size=8, image_size=32, projection_dim=16)


def memory(ctx: Context) -> dict:
    """The whole-run memory section, with the checkpointing figures under 'checkpointing'."""
    import traceback

    from engine.bench.sections_system import memory as whole_run

    try:
        result = whole_run(ctx)
    except Exception as exc:  # the checkpointing figures still come
        result = {"status": "failed", "error": f"{type(exc).__name__}: {exc}",
                  "traceback": traceback.format_exc()[-3000:]}
    try:
        result["checkpointing"] = checkpointing(ctx)
    except Exception as exc:
        result["checkpointing"] = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
    return result


def checkpointing(ctx: Context) -> dict:
    plan = ctx.plan
    shape = TINY if plan.mode == "smoke" else VIT_L14
    device = _device(ctx.device)
    rows = []
    for batch in plan.checkpointing_batches:
        row: dict = {"batch_size": batch}
        for variant, on in (("off", False), ("on", True)):
            ctx.log(f"memory: ViT-L/14-shaped LoRA step, batch {batch}, checkpointing {variant}")
            too_big = _too_big(shape, batch, on, device)
            if too_big:
                row[variant] = {"status": "skipped", "reason": too_big}
                continue
            try:  # one variant's failure (a timeout on a busy machine) keeps the others
                row[variant] = run_child("checkpointing-step", {
                    "shape": shape, "batch": batch, "checkpointing": on, "device": device,
                    "steps": plan.checkpointing_steps}, timeout=plan.child_timeout_s,
                    log=ctx.log)
            except Exception as exc:
                row[variant] = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
            ctx.log(f"memory: {row[variant]}")
        row.update(compare(row.get("off", {}), row.get("on", {})))
        rows.append(row)
    return {"status": "ok", "shape": "tiny" if shape is TINY else "ViT-L/14", "device": device,
            "rows": rows, "goal_saving": GOAL_SAVING,
            "note": "peak memory one LoRA training step (q_proj, v_proj, r 8, all blocks) adds "
                    "over the built model: CPU VmHWM growth, CUDA max_memory_allocated; "
                    "step_time_ratio = seconds per step with / without checkpointing"}


def _device(wanted: str) -> str:
    import torch

    if wanted == "cuda" or (wanted == "auto" and torch.cuda.is_available()):
        return "cuda"
    return "cpu"


def _too_big(shape: dict, batch: int, on: bool, device: str) -> str:
    """Why this variant is not started on this CPU ('' when it fits comfortably)."""
    if device != "cpu":
        return ""
    from transformers import CLIPVisionConfig

    from engine.hardware import cpu_has_fast_bf16
    from engine.training.auto_batch import RAM_SHARE, activation_bytes, free_ram_bytes

    config = CLIPVisionConfig(**shape)
    per_value = 2 if cpu_has_fast_bf16() else 4
    need = batch * activation_bytes(config, shape["image_size"], shape["num_hidden_layers"],
                                    per_value, on)
    free = free_ram_bytes()
    if need <= RAM_SHARE * free:
        return ""
    return (f"needs about {need / 1e9:.1f} GB of activations; {free / 1e9:.1f} GB of RAM free "
            "now (not started on a shared machine)")


def checkpointing_step(args: dict) -> dict:
    """(child process) Build the tower from its config, LoRA on it, one warm-up step, then
    args['steps'] timed steps; the memory they add and the seconds per step."""
    import torch
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    from engine.bench.measure import current_rss_mb, peak_rss_self_mb
    from engine.hardware import resolve_precision
    from engine.model.classifier import add_lora, image_embeddings
    from engine.model.grad_checkpointing import enable, is_on

    device = torch.device(args["device"])
    torch.manual_seed(0)
    vision = CLIPVisionModelWithProjection(CLIPVisionConfig(**args["shape"]))
    vision.requires_grad_(False)
    vision = add_lora(vision, r=8, alpha=32, dropout=0.0, targets=["q_proj", "v_proj"])
    if args["checkpointing"]:
        enable(vision)
    vision.to(device).train()
    head = torch.nn.Linear(args["shape"]["projection_dim"], 10).to(device)
    precision = resolve_precision("auto", device.type)
    size, batch = args["shape"]["image_size"], args["batch"]
    x = torch.randn(batch, 3, size, size, device=device)
    y = torch.arange(batch, device=device) % 10

    def step() -> None:
        with precision.autocast():
            logits = head(image_embeddings(vision, x))
        torch.nn.functional.cross_entropy(logits.float(), y).backward()
        vision.zero_grad(set_to_none=True)
        head.zero_grad(set_to_none=True)

    if device.type == "cuda":
        torch.cuda.synchronize()
        before = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
    else:
        before = current_rss_mb()
        _reset_peak_rss()  # the build's own peak must not count
    step()  # warm-up (its peak counts: the first step allocates what every step needs)
    times = []
    for _ in range(args["steps"]):
        t0 = time.perf_counter()
        step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    if device.type == "cuda":
        peak = (torch.cuda.max_memory_allocated() - before) / 2**20
    else:
        peak = peak_rss_self_mb() - before
    return {"checkpointing": is_on(vision), "precision": precision.name,
            "step_peak_mb": round(peak, 1),
            "step_s": significant(sorted(times)[len(times) // 2]),
            "model_mb": round(before / 2**20 if device.type == "cuda" else before, 1)}


def compare(off: dict, on: dict) -> dict:
    """The saving and the time ratio of checkpointing, where both variants measured them
    (a tiny step may add 0 MB: then there is no saving to state, not a division by zero)."""
    out: dict = {}
    if off.get("step_peak_mb", 0) > 0 and "step_peak_mb" in on:
        out["saving"] = round(1 - on["step_peak_mb"] / off["step_peak_mb"], 3)
        out["goal_met"] = out["saving"] >= GOAL_SAVING
    if off.get("step_s", 0) > 0 and "step_s" in on:
        out["step_time_ratio"] = round(on["step_s"] / off["step_s"], 2)
    return out


def _reset_peak_rss() -> None:
    """Linux: writing 5 to clear_refs resets VmHWM (the peak) to the current RSS."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


__all__ = ["GOAL_SAVING", "VIT_L14", "checkpointing", "checkpointing_step", "compare",
           "memory"]
