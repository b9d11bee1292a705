"""Section 1b: the training step's numerics side by side, on whatever CPU/GPU runs the bench.

Every variant is one LoRA step (r=8 on q/v, AdamW) of the same ViT-shaped classifier on
the same batch, from the tutorial's numerics (fp32, SDPA, dropout 0.1) to what the engine
does now (bf16 autocast, the attention kernel chosen for the hardware, frozen weights held
in bf16), plus compilation where the plan asks for it and
dropout 0 for reference. Variants are timed in interleaved rounds (A B C ... then
reversed), so a busy machine slows them all alike; ratios are to the tutorial row.
"""
from __future__ import annotations

import time

import torch
from torch.nn import functional as F

from engine.bench.measure import median
from engine.bench.plan import Context

CPU_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile", "avx512_fp16")


def cpu_flags() -> dict[str, bool]:
    """The CPU features that decide bf16 speed (Linux; empty elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            flags = next((line.split(":", 1)[1].split() for line in fh
                          if line.startswith("flags")), [])
    except OSError:
        return {}
    return {flag: flag in flags for flag in CPU_FLAGS}


def _variants(fast: str, device_type: str) -> dict[str, dict]:
    """name -> settings; `fast` is the engine's reduced format on this device."""
    from engine.model.compute_format import choose_attention

    engine_attention, _ = choose_attention("auto", device_type, fast)
    return {
        "tutorial (fp32, SDPA, dropout 0.1)": dict(precision="fp32", attention="sdpa"),
        f"{fast} autocast, SDPA (the engine before)": dict(precision=fast, attention="sdpa"),
        f"{fast}, eager attention": dict(precision=fast, attention="eager"),
        f"{fast}, eager, frozen weights in {fast}": dict(precision=fast, attention="eager",
                                                        frozen=True),
        f"engine now ({engine_attention} attention, frozen weights in {fast})": dict(
            precision=fast, attention=engine_attention, frozen=True),
        "the same + torch.compile": dict(precision=fast, attention=engine_attention,
                                         frozen=True, compile=True),
        "the same, dropout 0 (for reference)": dict(precision=fast, attention=engine_attention,
                                                    frozen=True, dropout=0.0),
    }


class _Step:
    """One variant's classifier, optimiser and step function."""

    def __init__(self, model_dir: str, num_classes: int, device: torch.device,
                 precision: str = "fp32", attention: str = "sdpa", frozen: bool = False,
                 compile: bool = False, dropout: float = 0.1):
        from engine.hardware import Precision
        from engine.model import compute_format as cf
        from engine.model.classifier import build_classifier

        self.model, self.info = build_classifier(model_dir, [str(i) for i in range(num_classes)],
                                                 head_init="random", lora_dropout=dropout,
                                                 seed=0)
        self.model.to(device).train()
        self.precision = Precision(precision, device.type)
        cf.set_attention(self.model.vision, attention)
        if frozen:
            cf.hold_frozen_weights_in(self.model.vision, self.precision.dtype)
        params = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(params, lr=5e-4)
        self.net = torch.compile(self.model) if compile else self.model
        self.compile_s = None

    def step(self, x: torch.Tensor, y: torch.Tensor) -> None:
        with self.precision.autocast():
            logits = self.net(x)
        F.cross_entropy(logits.float(), y).backward()
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)


def variants(ctx: Context) -> dict:
    from engine.hardware import resolve_device_type, resolve_precision

    plan = ctx.plan
    device = torch.device(resolve_device_type(ctx.device))
    auto = resolve_precision("auto", device.type).name
    fast = auto  # fp32 where the hardware has no fast bf16: the rows then compare kernels
    model_dir = str(ctx.model(plan.train_model))
    size, batch, classes = ctx.image_size(), plan.batch_size, 10
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(batch, 3, size, size, generator=generator).to(device)
    y = torch.randint(0, classes, (batch,), generator=generator).to(device)
    wanted = {name: v for name, v in _variants(fast, device.type).items()
              if (plan.compile_variant or not v.get("compile"))
              and not (fast == "fp32" and name.startswith(("fp32 autocast", "fp32, eager,")))}
    steps: dict[str, _Step] = {}
    for name, settings in wanted.items():
        ctx.log(f"variants: preparing '{name}'")
        steps[name] = _Step(model_dir, classes, device, **settings)
        t0 = time.perf_counter()
        steps[name].step(x, y)  # warm-up (and, compiled, the compilation)
        if settings.get("compile"):
            steps[name].compile_s = round(time.perf_counter() - t0, 1)
    rates: dict[str, list[float]] = {name: [] for name in steps}
    order = list(steps)
    for r in range(plan.rounds):
        for name in order if r % 2 == 0 else order[::-1]:
            t0 = time.perf_counter()
            for _ in range(plan.variant_steps):
                steps[name].step(x, y)
            if device.type == "cuda":
                torch.cuda.synchronize()
            rates[name].append(plan.variant_steps * batch / (time.perf_counter() - t0))
    reference = order[0]
    rows = []
    for name in order:
        per_round = [a / b for a, b in zip(rates[name], rates[reference])]
        rows.append({"variant": name, "images_per_s": round(median(rates[name]), 2),
                     "vs_tutorial": round(median(per_round), 3),
                     "compile_s": steps[name].compile_s})
    engine_row = next(r for r in rows if r["variant"].startswith("engine now"))
    return {"status": "ok", "model": plan.train_model, "batch_size": batch,
            "image_size": size, "device": device.type, "format": fast, "auto_format": auto,
            "cpu_flags": cpu_flags(), "rounds": plan.rounds,
            "steps_per_window": plan.variant_steps,
            "rows": rows, "engine_vs_tutorial": engine_row["vs_tutorial"],
            "goal": 2.5 if auto == "bf16" and device.type == "cpu" else None}
