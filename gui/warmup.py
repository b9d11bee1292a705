"""Import the engine's heavy dependencies in the background once the window is up.

A first import of torch, transformers' CLIP classes, peft and accelerate takes seconds
and, in any thread, holds Python's GIL for long stretches (module compilation, C
extension start-up). Done lazily inside the first training run, that makes the GUI
stutter exactly when the user is watching; done right after start-up, while the user
is still choosing a folder, it goes unnoticed and the first run starts at once.
"""
from __future__ import annotations

import importlib
import time

# In the order the first run would import them; each later one reuses the earlier ones.
HEAVY_MODULES = (
    "torch",
    "engine.hardware",
    "engine.training.loop",
    "transformers.models.clip.modeling_clip",
    "transformers.models.clip.processing_clip",
    "peft",
    "accelerate",
    "safetensors.torch",
    "tensorboardX",
    "engine.use.evaluate",
    "engine.use.predict",
    "sklearn.metrics",
)


def warm_up(modules: tuple[str, ...] = HEAVY_MODULES) -> dict[str, float]:
    """Import `modules` (skipping any that are missing); returns seconds spent per module."""
    spent: dict[str, float] = {}
    for name in modules:
        start = time.perf_counter()
        try:
            importlib.import_module(name)
        except ImportError:
            continue  # an optional part that is not installed: the run will say so if needed
        spent[name] = time.perf_counter() - start
    return spent
